// Direct messages and read state (docs/protocol.md, "Rooms, direct messages, presence and
// read state"): private_message by name and by socket id, who receives it (every rooms-family
// socket of the two users, isSelf for the sender's), its refusals, privacy (history {with},
// another pair's conversation), DMs to an offline session user, and mark_read (forward only,
// clamped, read_marker to the reader's other sockets, messages_read to the other party,
// unread counts). A fresh server (own database) for every test.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { TRANSPORTS, createSession } from './helpers.mjs';
import {
  ack, checkRefusals, anonymous, delivered, expectQuiet, expectRooms, lobbyUser, page, payloads, privateMessage,
  refusedAck, registerUser, runWith, seenPresence, sessionTab, sessionUser, settle,
} from './rooms-helpers.mjs';

const CONCURRENCY = 6;
const GRACE_MS = 800;
const run = runWith(['--session-grace-ms', String(GRACE_MS)]);

/** Ann and Bob, each with two rooms-family tabs and a lobby-family tab of one session; Cid; a lurker. */
async function pair(scene, options = TRANSPORTS[0].options) {
  const a1 = await sessionUser(scene, 'ann tab 1', 'Ann', { options });
  const a2 = await sessionTab(scene, 'ann tab 2', a1, { options });
  const aL = await sessionTab(scene, 'ann lobby tab', a1, { options, family: 'lobby' });
  const b1 = await sessionUser(scene, 'bob tab 1', 'Bob', { options });
  const b2 = await sessionTab(scene, 'bob tab 2', b1, { options });
  const bL = await sessionTab(scene, 'bob lobby tab', b1, { options, family: 'lobby' });
  const cid = await registerUser(scene, 'cid', 'Cid', { options });
  const lurker = await anonymous(scene, 'lurker', { family: 'lobby', options });
  await seenPresence([a1, a2, b1, b2], 'Cid', 'online');
  const all = [a1, a2, aL, b1, b2, bL, cid, lurker];
  await settle(all);
  return { a1, a2, aL, b1, b2, bL, cid, lurker, all };
}

/** expectRooms where `to` clients get `events` and every other client of `all` nothing. */
const only = (all, to) => all.map((c) => [c, to.get(c) ?? []]);

describe('private_message', { concurrency: CONCURRENCY }, () => {
  for (const { label, options } of TRANSPORTS) {
    test(`by toUsername and by toSocketId: every rooms-family socket of both users once, isSelf for the sender's (${label})`, () => run(async (scene) => {
      const { a1, a2, b1, b2, all } = await pair(scene, options);
      const sent = ack(await a1.call('private_message', { toUsername: 'Bob', message: 'psst', clientId: 'd-1' }));
      assert.deepStrictEqual(sent, delivered(1));
      const toBob = privateMessage(1, a1, b1, 'psst', { clientId: 'd-1' });
      const mine = privateMessage(1, a1, b1, 'psst', { clientId: 'd-1', isSelf: true });
      await expectRooms(only(all, new Map([[a1, [mine]], [a2, [mine]], [b1, [toBob]], [b2, [toBob]]])));

      // Bob answers the socket of Ann's second tab: the user of that socket, every tab of hers.
      b2.emit('private_message', { toSocketId: a2.socket.id, message: 'hey' });
      const toAnn = privateMessage(2, b1, a1, 'hey');
      const his = privateMessage(2, b1, a1, 'hey', { isSelf: true });
      await expectRooms(only(all, new Map([[a1, [toAnn]], [a2, [toAnn]], [b1, [his]], [b2, [his]]])));
    }));
  }

  for (const withAck of [false, true]) {
    test(`refusals (${withAck ? 'acknowledgement' : 'error events'}): unknownUser, selfMessage, emptyMessage, messageTooLong, badClientId, badRequest, notLoggedIn`, () => run(async (scene) => {
      const { a1, a2, b1, lurker, all } = await pair(scene);
      const ghost = await anonymous(scene, 'ghost');
      const everyone = [...all, ghost];
      const cases = [
        [{ toUsername: 'Nobody', message: 'hi' }, 'unknownUser'],
        [{ toSocketId: 'no-such-socket', message: 'hi' }, 'unknownUser'],
        [{ toSocketId: lurker.socket.id, message: 'hi' }, 'unknownUser'],
        [{ toUsername: 'Ann', message: 'hi' }, 'selfMessage'],
        [{ toSocketId: a2.socket.id, message: 'hi' }, 'selfMessage'],
        [{ toSocketId: a1.socket.id, message: 'hi' }, 'selfMessage'],
        [{ toUsername: 'Bob', message: ' \t ' }, 'emptyMessage'],
        [{ toUsername: 'Bob', message: 'x'.repeat(2001) }, 'messageTooLong'],
        [{ toUsername: 'Bob', message: 'hi', clientId: '' }, 'badClientId'],
        [{ toUsername: 'Bob', message: 'hi', clientId: 'not ok' }, 'badClientId'],
        [{ toUsername: 'Bob', message: 'hi', clientId: 'x'.repeat(65) }, 'badClientId'],
        [{ message: 'hi' }, 'badRequest'],
        [{ toUsername: 'Bob' }, 'badRequest'],
        [{ toUsername: 'Bob', message: 42 }, 'badRequest'],
        [{ toUsername: 42, message: 'hi' }, 'badRequest'],
        ['Bob', 'badRequest'],
        [null, 'badRequest'],
      ];
      await checkRefusals('private_message',
        [...cases.map(([p, r]) => [a1, p, r]), [ghost, { toUsername: 'Bob', message: 'hi' }, 'notLoggedIn']], everyone, withAck);
      // Nothing was stored.
      assert.deepStrictEqual(ack(await a1.call('history', { with: 'Bob' })), page([]));
      assert.deepStrictEqual((await b1.call('my_conversations')).dms, []);
      assert.deepStrictEqual(ack(await a1.call('private_message', { toUsername: 'Bob', message: 'x'.repeat(2000) })), delivered(1));
    }));
  }

  test('a name that differs only in case names the same user', () => run(async (scene) => {
    const { a1, a2, b1, b2, all } = await pair(scene);
    assert.deepStrictEqual(ack(await a1.call('private_message', { toUsername: ' bOB ', message: 'case' })), delivered(1));
    const toBob = privateMessage(1, a1, b1, 'case');
    const mine = privateMessage(1, a1, b1, 'case', { isSelf: true });
    await expectRooms(only(all, new Map([[a1, [mine]], [a2, [mine]], [b1, [toBob]], [b2, [toBob]]])));
    assert.deepStrictEqual(ack(await a1.call('private_message', { toUsername: 'ANN', message: 'me' })), refusedAck('selfMessage'));
  }));

  test('a resend with the same clientId: duplicate, not delivered again; ids 1, 2, 3 per DM', () => run(async (scene) => {
    const { a1, a2, b1, b2, cid, all } = await pair(scene);
    const first = await a1.call('private_message', { toUsername: 'Bob', message: 'one', clientId: 'k' });
    assert.deepStrictEqual(ack(first), delivered(1));
    await settle(all);
    const again = await a2.call('private_message', { toUsername: 'Bob', message: 'one', clientId: 'k' });
    assert.deepStrictEqual(again, { ...first, duplicate: true });
    await expectQuiet(all);
    assert.deepStrictEqual(ack(await b1.call('private_message', { toUsername: 'Ann', message: 'two' })), delivered(2));
    assert.deepStrictEqual(ack(await a1.call('private_message', { toUsername: 'Bob', message: 'three' })), delivered(3));
    // Another pair's DM has its own ids.
    assert.deepStrictEqual(ack(await cid.call('private_message', { toUsername: 'Ann', message: 'cid 1' })), delivered(1));
    assert.deepStrictEqual(ack(await b2.call('private_message', { toUsername: 'Cid', message: 'bob-cid 1' })), delivered(1));
    const history = await b1.call('history', { with: 'Ann' });
    assert.deepStrictEqual(ack(history), page(payloads([
      privateMessage(1, a1, b1, 'one', { clientId: 'k' }),
      privateMessage(2, b1, a1, 'two', { isSelf: true }),
      privateMessage(3, a1, b1, 'three'),
    ])));
  }));

  test('a third user receives nothing and cannot read it: history {with} is their own conversation, another pair\'s is notAllowed', () => run(async (scene) => {
    const { a1, b1, cid, all } = await pair(scene);
    await a1.call('private_message', { toUsername: 'Bob', message: 'secret' });
    await b1.call('private_message', { toUsername: 'Ann', message: 'secret too' });
    await expectQuiet([cid]);
    await settle(all);
    for (const other of ['Ann', 'Bob']) {
      assert.deepStrictEqual(ack(await cid.call('history', { with: other })), page([]), `Cid's own DM with ${other}`);
    }
    assert.deepStrictEqual((await cid.call('my_conversations')).dms, []);
    // The DM's conversation named directly (its stored name, dm:<lower id>:<higher id>; the
    // doc does not spell the name out).
    const [low, high] = [a1.userId, b1.userId].sort((x, y) => x - y);
    for (const conversation of [`dm:${low}:${high}`]) {
      assert.deepStrictEqual(ack(await cid.call('history', { conversation })), refusedAck('notAllowed'), conversation);
    }
    await expectQuiet(all);
  }));

  test('history {with}: unknownUser, selfMessage, badRequest; notLoggedIn', () => run(async (scene) => {
    const { a1 } = await pair(scene);
    const ghost = await anonymous(scene, 'ghost');
    const cases = [
      [a1, { with: 'Nobody' }, 'unknownUser'],
      [a1, { with: 'Ann' }, 'selfMessage'],
      [a1, { with: 42 }, 'badRequest'],
      [a1, { with: 'Bob', room: 'general' }, 'badRequest'],
      [a1, { with: 'Bob', conversation: 'lobby' }, 'badRequest'],
      [ghost, { with: 'Bob' }, 'notLoggedIn'],
    ];
    const got = {};
    const want = {};
    for (const [client, payload, reason] of cases) {
      const key = `${client.label} ${JSON.stringify(payload)}`;
      got[key] = ack(await client.call('history', payload));
      want[key] = refusedAck(reason);
    }
    assert.deepStrictEqual(got, want);
  }));

  test('a DM to a session user who is offline (grace period over) is stored and unread when they come back', () => run(async (scene) => {
    const ann = await registerUser(scene, 'ann', 'Ann');
    await settle([ann]);
    const bob = await sessionUser(scene, 'bob', 'Bob');
    await seenPresence([ann], 'Bob', 'online');
    bob.close();
    await seenPresence([ann], 'Bob', 'offline', GRACE_MS + 3_000);
    await settle([ann]);
    assert.deepStrictEqual(ack(await ann.call('private_message', { toUsername: 'Bob', message: 'while you were out' })), delivered(1));
    await expectRooms([[ann, [privateMessage(1, ann, bob, 'while you were out', { isSelf: true })]]]);
    const annDms = (await ann.call('my_conversations')).dms;
    assert.equal(annDms.length, 1, JSON.stringify(annDms));
    // (The sender's own readUpTo after sending is not specified; it is left out.)
    const { readUpTo: _own, ...annDm } = annDms[0];
    assert.deepStrictEqual(annDm, { with: 'Bob', userId: bob.userId, status: 'offline', unread: 0, lastId: 1, theirReadUpTo: 0 });

    const back = await sessionTab(scene, 'bob back', bob);
    const mine = await back.call('my_conversations');
    assert.equal(mine.ok, true);
    assert.equal(mine.dms.length, 1, JSON.stringify(mine.dms));
    const dm = mine.dms[0];
    assert.ok(Number.isInteger(dm.theirReadUpTo) && dm.theirReadUpTo >= 0 && dm.theirReadUpTo <= 1, `theirReadUpTo ${dm.theirReadUpTo}`);
    assert.deepStrictEqual(dm, { with: 'Ann', userId: ann.userId, status: 'online', unread: 1, lastId: 1, readUpTo: 0, theirReadUpTo: dm.theirReadUpTo });
    assert.deepStrictEqual(ack(await back.call('history', { with: 'Ann' })), page(payloads([privateMessage(1, ann, bob, 'while you were out')])));
  }));

  test('a DM to a session that has not connected yet is stored; to a `login` user who left: unknownUser', () => run(async (scene) => {
    const ann = await registerUser(scene, 'ann', 'Ann');
    await settle([ann]);
    await createSession(scene.url, 'Dee');
    assert.deepStrictEqual(ack(await ann.call('private_message', { toUsername: 'Dee', message: 'welcome' })), delivered(1));
    const lob = await lobbyUser(scene, 'lob', 'Lob');
    await seenPresence([ann], 'Lob', 'online');
    lob.close();
    await seenPresence([ann], 'Lob', 'offline');
    assert.deepStrictEqual(ack(await ann.call('private_message', { toUsername: 'Lob', message: 'gone?' })), refusedAck('unknownUser'));
  }));
});

describe('mark_read', { concurrency: CONCURRENCY }, () => {
  test('in a room: forward only, never past the newest id; read_marker to the reader\'s other sockets only; unread in both lists', () => run(async (scene) => {
    const { a1, a2, b1, b2, cid, all } = await pair(scene);
    for (const c of [a1, b1]) await c.call('join_room', { room: 'rust' });
    await settle(all);
    for (let i = 1; i <= 5; i += 1) assert.deepStrictEqual(ack(await b1.call('send_message', { room: 'rust', message: `m${i}` })), delivered(i));
    await settle(all);

    const unreadOf = async (client) => {
      const mine = await client.call('my_conversations');
      const listed = await client.call('list_rooms');
      return {
        mine: mine.rooms.find((r) => r.room === 'rust'),
        listed: listed.rooms.find((r) => r.room === 'rust')?.unread,
      };
    };
    assert.deepStrictEqual(await unreadOf(a1), { mine: { room: 'rust', unread: 5, lastId: 5, readUpTo: 0 }, listed: 5 });

    assert.deepStrictEqual(await a1.call('mark_read', { room: 'rust', id: 3 }), { ok: true, readUpTo: 3, unread: 2 });
    await expectRooms(only(all, new Map([[a2, [['read_marker', { room: 'rust', id: 3 }]]]])));
    // Back: nothing moves, nothing is sent.
    assert.deepStrictEqual(await a2.call('mark_read', { room: 'RUST', id: 2 }), { ok: true, readUpTo: 3, unread: 2 });
    assert.deepStrictEqual(await a2.call('mark_read', { room: 'rust', id: 3 }), { ok: true, readUpTo: 3, unread: 2 });
    await expectQuiet(all);
    // Past the newest: up to the newest.
    assert.deepStrictEqual(await a2.call('mark_read', { room: 'rust', id: 99 }), { ok: true, readUpTo: 5, unread: 0 });
    await expectRooms(only(all, new Map([[a1, [['read_marker', { room: 'rust', id: 5 }]]]])));
    assert.deepStrictEqual(await unreadOf(a2), { mine: { room: 'rust', unread: 0, lastId: 5, readUpTo: 5 }, listed: 0 });

    // Own messages are never unread; others' new ones are.
    await a1.call('send_message', { room: 'rust', message: 'mine' });
    await b2.call('send_message', { room: 'rust', message: 'his' });
    await settle(all);
    assert.deepStrictEqual(await unreadOf(a1), { mine: { room: 'rust', unread: 1, lastId: 7, readUpTo: 5 }, listed: 1 });
    assert.deepStrictEqual((await unreadOf(b1)).mine.unread, 1, 'Bob has Ann\'s message unread');
    // Without an acknowledgement: the same, and the other tab is told.
    a1.emit('mark_read', { room: 'rust', id: 7 });
    await expectRooms(only(all, new Map([[a2, [['read_marker', { room: 'rust', id: 7 }]]]])));
    // Not a member: 0 unread in list_rooms.
    assert.equal((await cid.call('list_rooms')).rooms.find((r) => r.room === 'rust').unread, 0);
  }));

  test('a new user, and a new member, has read what came before: only later messages of others are unread', () => run(async (scene) => {
    const ann = await registerUser(scene, 'ann', 'Ann', { joins: ['rust'] });
    for (const room of ['rust', 'rust', 'general', 'general']) await ann.call('send_message', { room, message: room });
    const eve = await registerUser(scene, 'eve', 'Eve');
    const before = await eve.call('my_conversations');
    await eve.call('join_room', { room: 'rust' });
    const after = await eve.call('my_conversations');
    await ann.call('send_message', { room: 'rust', message: 'after Eve joined' });
    await settle([ann, eve]);
    const listed = await eve.call('list_rooms');
    assert.deepStrictEqual({
      newUser: before.rooms,
      newMember: after.rooms,
      listed: listed.rooms.map(({ room, unread }) => [room, unread]),
    }, {
      newUser: [{ room: 'general', unread: 0, lastId: 2, readUpTo: 2 }],
      newMember: [{ room: 'general', unread: 0, lastId: 2, readUpTo: 2 }, { room: 'rust', unread: 0, lastId: 2, readUpTo: 2 }],
      listed: [['general', 0], ['rust', 1]],
    });
  }));

  test('in general (everyone is a member), unread counts lobby chats too', () => run(async (scene) => {
    const ann = await registerUser(scene, 'ann', 'Ann');
    const lob = await lobbyUser(scene, 'lob', 'Lob');
    await seenPresence([ann], 'Lob', 'online');
    await settle([ann, lob]);
    await lob.call('chat', { text: 'a', clientId: 'a' });
    await lob.call('chat', { text: 'b', clientId: 'b' });
    await settle([ann, lob]);
    assert.deepStrictEqual((await ann.call('my_conversations')).rooms, [{ room: 'general', unread: 2, lastId: 2, readUpTo: 0 }]);
    assert.deepStrictEqual(await ann.call('mark_read', { room: 'general', id: 1 }), { ok: true, readUpTo: 1, unread: 1 });
    assert.equal((await ann.call('list_rooms')).rooms[0].unread, 1);
  }));

  test('in a DM: read_marker to the reader\'s other tabs, messages_read {by, with, id} to the other party; theirReadUpTo', () => run(async (scene) => {
    const { a1, a2, b1, b2, all } = await pair(scene);
    for (const m of ['1', '2', '3']) await a1.call('private_message', { toUsername: 'Bob', message: m });
    await settle(all);
    const bobDm = async () => (await b2.call('my_conversations')).dms;
    assert.deepStrictEqual((await bobDm()).map(({ with: w, unread, lastId, readUpTo }) => ({ with: w, unread, lastId, readUpTo })),
      [{ with: 'Ann', unread: 3, lastId: 3, readUpTo: 0 }]);

    assert.deepStrictEqual(await b1.call('mark_read', { with: 'Ann', id: 2 }), { ok: true, readUpTo: 2, unread: 1 });
    const seen = ['messages_read', { by: 'Bob', with: 'Bob', id: 2 }];
    await expectRooms(only(all, new Map([[b2, [['read_marker', { with: 'Ann', id: 2 }]]], [a1, [seen]], [a2, [seen]]])));
    const [annView] = (await a2.call('my_conversations')).dms;
    assert.equal(annView.theirReadUpTo, 2, JSON.stringify(annView));
    assert.equal(annView.unread, 0);
    const [bobView] = await bobDm();
    assert.deepStrictEqual({ readUpTo: bobView.readUpTo, unread: bobView.unread }, { readUpTo: 2, unread: 1 });

    // Back, or the same: nothing; past the newest: the newest.
    assert.deepStrictEqual(await b2.call('mark_read', { with: 'Ann', id: 1 }), { ok: true, readUpTo: 2, unread: 1 });
    await expectQuiet(all);
    b2.emit('mark_read', { with: 'Ann', id: 50 });
    await expectRooms(only(all, new Map([
      [b1, [['read_marker', { with: 'Ann', id: 3 }]]],
      [a1, [['messages_read', { by: 'Bob', with: 'Bob', id: 3 }]]],
      [a2, [['messages_read', { by: 'Bob', with: 'Bob', id: 3 }]]],
    ])));
  }));

  for (const withAck of [false, true]) {
    test(`refusals (${withAck ? 'acknowledgement' : 'error events'}): notMember, badRoomName, unknownUser, selfMessage, badRequest, notLoggedIn`, () => run(async (scene) => {
      const { a1, b1, all } = await pair(scene);
      await b1.call('join_room', { room: 'rust' });
      await b1.call('send_message', { room: 'rust', message: 'x' });
      await b1.call('private_message', { toUsername: 'Ann', message: 'x' });
      const ghost = await anonymous(scene, 'ghost');
      const everyone = [...all, ghost];
      await settle(everyone);
      const cases = [
        [a1, { room: 'rust', id: 1 }, 'notMember'],
        [a1, { room: 'bad room', id: 1 }, 'badRoomName'],
        [a1, { with: 'Nobody', id: 1 }, 'unknownUser'],
        [a1, { with: 'Ann', id: 1 }, 'selfMessage'],
        [a1, { room: 'general', id: -1 }, 'badRequest'],
        [a1, { room: 'general', id: 1.5 }, 'badRequest'],
        [a1, { room: 'general', id: '1' }, 'badRequest'],
        [a1, { room: 'general' }, 'badRequest'],
        [a1, { with: 'Bob' }, 'badRequest'],
        [a1, { id: 1 }, 'badRequest'],
        [a1, { with: 42, id: 1 }, 'badRequest'],
        [a1, 'general', 'badRequest'],
        [ghost, { room: 'general', id: 1 }, 'notLoggedIn'],
      ];
      await checkRefusals('mark_read', cases, everyone, withAck);
      assert.deepStrictEqual((await a1.call('my_conversations')).dms.map((d) => d.readUpTo), [0], 'nothing moved');
    }));
  }
});
