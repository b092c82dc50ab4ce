// History of rooms and DMs (docs/protocol.md, `history {room}` / `history {with}`): the
// live events' shapes, pages, catch-up after a cut, resync, refusals; persistence across a
// server restart (rooms, memberships, DMs, read markers); and identity: a name freed and
// taken again is a different user who sees none of the old one's conversations.
// A fresh server (own database) for every test.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { TRANSPORTS, createSession, postLogout, until } from './helpers.mjs';
import {
  ack, anonymous, delivered, expectQuiet, expectRooms, page, privateMessage, rawOf, receive, refusedAck,
  registerUser, rooms, runWith, seenPresence, sessionTab, sessionUser, settle,
} from './rooms-helpers.mjs';

const CONCURRENCY = 6;
const GRACE_MS = 800;
const run = runWith(['--session-grace-ms', String(GRACE_MS)]);

/** Resync: no messages (hasMore is not compared). */
const resync = (reply) => ({ ...reply, hasMore: typeof reply.hasMore === 'boolean' ? 'bool' : reply.hasMore });

describe('history {room}', { concurrency: CONCURRENCY }, () => {
  for (const { label, options } of TRANSPORTS) {
    test(`pages, before, after, limit, resync; messages shaped as receive_message; any logged-in socket may read (${label})`, () => run(async (scene) => {
      const ann = await registerUser(scene, 'ann', 'Ann', { options, joins: ['rust'] });
      const bob = await registerUser(scene, 'bob', 'Bob', { options, joins: ['rust'] });
      const cid = await registerUser(scene, 'cid (not a member)', 'Cid', { options });
      await seenPresence([ann], 'Cid', 'online');
      await settle([ann, bob, cid]);
      for (let i = 0; i < 7; i += 1) {
        const payload = { room: 'rust', message: `m${i}`, ...(i % 2 ? { clientId: `c${i}` } : {}) };
        assert.deepStrictEqual(ack(await (i % 3 ? bob : ann).call('send_message', payload)), delivered(i + 1));
      }
      await until(() => rawOf(ann, 'receive_message').length === 7, 3_000, () => 'ann to receive 7 messages');
      const all = rawOf(ann, 'receive_message');
      assert.deepStrictEqual(all.map((m) => m.id), [1, 2, 3, 4, 5, 6, 7]);
      await settle([ann, bob, cid]);

      assert.deepStrictEqual(await cid.call('history', { room: 'rust' }), page(all), 'the newest page, exactly the live payloads');
      assert.deepStrictEqual(await cid.call('history', { room: ' RUST ' }), page(all), 'the name is normalized');
      assert.deepStrictEqual(await bob.call('history', { room: 'rust', limit: 3 }), page(all.slice(4), true));
      assert.deepStrictEqual(await bob.call('history', { room: 'rust', before: 5, limit: 3 }), page(all.slice(1, 4), true));
      assert.deepStrictEqual(await bob.call('history', { room: 'rust', before: 4, limit: 3 }), page(all.slice(0, 3), false));
      assert.deepStrictEqual(await bob.call('history', { room: 'rust', before: 1 }), page([], false));
      assert.deepStrictEqual(await bob.call('history', { room: 'rust', before: 1000 }), page(all, false));
      assert.deepStrictEqual(await ann.call('history', { room: 'rust', after: 0 }), page(all, false));
      assert.deepStrictEqual(await ann.call('history', { room: 'rust', after: 4 }), page(all.slice(4), true));
      assert.deepStrictEqual(await ann.call('history', { room: 'rust', after: 7 }), page([], true));
      assert.deepStrictEqual(resync(await ann.call('history', { room: 'rust', after: 8 })), { ok: true, messages: [], hasMore: 'bool', resync: true });
      // A room without messages.
      await cid.call('join_room', { room: 'quiet' });
      assert.deepStrictEqual(await ann.call('history', { room: 'quiet' }), page([]));
      assert.deepStrictEqual(await ann.call('history', { room: 'quiet', after: 0 }), page([]));
      // Reading sends nothing to anyone.
      await expectQuiet([ann, bob]);
    }));
  }

  test('general: the lobby\'s history, as receive_message payloads with {room} and as chats without', () => run(async (scene) => {
    const ann = await registerUser(scene, 'ann', 'Ann');
    const lob = await scene.connect('lob', TRANSPORTS[0].options);
    lob.emit('login', 'Lob');
    await seenPresence([ann], 'Lob', 'online');
    await settle([ann, lob]);
    await lob.call('chat', { text: 'from the lobby', clientId: 'l1' });
    await ann.call('send_message', { room: 'general', message: 'from rooms' });
    await until(() => rawOf(ann, 'receive_message').length === 2, 3_000, () => 'ann to receive 2');
    const live = rawOf(ann, 'receive_message');
    assert.deepStrictEqual(await ann.call('history', { room: 'general' }), page(live));
    const lobby = await lob.call('history', {});
    assert.deepStrictEqual(lobby.messages.map(({ id, sender, message }) => ({ id, sender, message })),
      [{ id: 1, sender: 'Lob', message: 'from the lobby' }, { id: 2, sender: 'Ann', message: 'from rooms' }]);
  }));

  test('refusals: unknownConversation, badRoomName, badRequest', () => run(async (scene) => {
    const ann = await registerUser(scene, 'ann', 'Ann', { joins: ['rust'] });
    const cases = [
      [ann, { room: 'nosuchroom' }, 'unknownConversation'],
      [ann, { room: 'bad room' }, 'badRoomName'],
      [ann, { room: 'x'.repeat(31) }, 'badRoomName'],
      [ann, { room: 'rust', with: 'Bob' }, 'badRequest'],
      [ann, { room: 'rust', conversation: 'lobby' }, 'badRequest'],
      [ann, { room: 'rust', before: 2, after: 0 }, 'badRequest'],
      [ann, { room: 'rust', limit: 0 }, 'badRequest'],
      [ann, { room: 'rust', limit: 101 }, 'badRequest'],
      [ann, { room: 'rust', before: -1 }, 'badRequest'],
      [ann, { room: 'rust', after: 1.5 }, 'badRequest'],
      [ann, { room: 'rust', after: '1' }, 'badRequest'],
      [ann, { room: 'rust', nope: 1 }, 'badRequest'],
    ];
    const got = {};
    const want = {};
    for (const [client, payload, reason] of cases) {
      const key = `${client.label} ${JSON.stringify(payload)}`;
      got[key] = ack(await client.call('history', payload));
      want[key] = refusedAck(reason);
    }
    assert.deepStrictEqual(got, want);
    // limit 1 and 100 are fine.
    for (const limit of [1, 100]) assert.deepStrictEqual(await ann.call('history', { room: 'rust', limit }), page([]));
  }));

  test('rooms are public: a socket that is not logged in reads a room\'s history too, like the lobby\'s', () => run(async (scene) => {
    const ann = await registerUser(scene, 'ann', 'Ann', { joins: ['rust'] });
    await ann.call('send_message', { room: 'rust', message: 'for anyone' });
    const expected = ack(await ann.call('history', { room: 'rust' }));
    assert.equal(expected.messages.length, 1);
    const got = {};
    for (const family of ['rooms', 'lobby']) {
      const ghost = await anonymous(scene, `ghost (${family})`, { family });
      got[family] = ack(await ghost.call('history', { room: 'rust' }));
    }
    assert.deepStrictEqual(got, { rooms: expected, lobby: expected });
  }));
});

describe('reads in flight', () => {
  test('many history reads at once: each is answered, the page or rateLimited; at least 4 pages', () => run(async (scene) => {
    const ann = await registerUser(scene, 'ann', 'Ann', { joins: ['rust'] });
    for (let i = 0; i < 3; i += 1) await ann.call('send_message', { room: 'rust', message: `m${i}` });
    const expected = await ann.call('history', { room: 'rust' });
    assert.equal(expected.messages.length, 3);
    const answers = (await Promise.all(Array.from({ length: 20 }, () => ann.call('history', { room: 'rust' })))).map(ack);
    const pages = answers.filter((a) => a.ok);
    for (const a of pages) assert.deepStrictEqual(a, ack(expected));
    for (const a of answers.filter((x) => !x.ok)) assert.deepStrictEqual(a, refusedAck('rateLimited'));
    assert.ok(pages.length >= 4, `${pages.length} pages among 20 answers`);
  }));

  test('a client that keeps 4 reads in flight, asking again on each answer, is never refused', () => run(async (scene) => {
    const ann = await registerUser(scene, 'ann', 'Ann', { joins: ['rust'] });
    await ann.call('send_message', { room: 'rust', message: 'one' });
    const reads = [
      () => ann.call('history', { room: 'rust' }),
      () => ann.call('list_rooms'),
      () => ann.call('my_conversations'),
    ];
    let asked = 0;
    const refused = [];
    const lane = async () => {
      while (asked < 60) {
        const reply = await reads[asked % reads.length]();
        asked += 1;
        if (!reply.ok) refused.push(reply.reason);
      }
    };
    await Promise.all([lane(), lane(), lane(), lane()]);
    assert.deepStrictEqual(refused, [], `refused among ${asked} reads`);
  }));
});

describe('history {with}', { concurrency: CONCURRENCY }, () => {
  test('private_message payloads, isSelf on your own; each side\'s pages; before, after, limit', () => run(async (scene) => {
    const ann = await registerUser(scene, 'ann', 'Ann');
    const bob = await registerUser(scene, 'bob', 'Bob');
    await seenPresence([ann], 'Bob', 'online');
    await settle([ann, bob]);
    for (let i = 0; i < 6; i += 1) {
      const [from, to] = i % 2 ? [bob, ann] : [ann, bob];
      assert.deepStrictEqual(ack(await from.call('private_message', { toUsername: to.name, message: `d${i}`, ...(i === 3 ? { clientId: 'k3' } : {}) })), delivered(i + 1));
    }
    for (const c of [ann, bob]) await until(() => rawOf(c, 'private_message').length === 6, 3_000, () => `${c.label}: 6 DMs`);
    for (const c of [ann, bob]) {
      const live = rawOf(c, 'private_message');
      const other = c === ann ? 'Bob' : 'Ann';
      assert.deepStrictEqual(live.map((m) => m.isSelf === true), [0, 1, 2, 3, 4, 5].map((i) => (i % 2 === 1) === (c === bob)), `${c.label}: isSelf on own messages only`);
      assert.deepStrictEqual(await c.call('history', { with: other }), page(live), `${c.label}: the live payloads`);
      assert.deepStrictEqual(await c.call('history', { with: other, limit: 2 }), page(live.slice(4), true));
      assert.deepStrictEqual(await c.call('history', { with: other, before: 3 }), page(live.slice(0, 2), false));
      assert.deepStrictEqual(await c.call('history', { with: other, after: 4 }), page(live.slice(4), true));
      assert.deepStrictEqual(await c.call('history', { with: other, after: 6 }), page([], true));
      assert.deepStrictEqual(resync(await c.call('history', { with: other, after: 60 })), { ok: true, messages: [], hasMore: 'bool', resync: true });
    }
    // The sender's copies are the recipient's with isSelf:true.
    const annView = rawOf(ann, 'private_message');
    const bobView = rawOf(bob, 'private_message');
    assert.deepStrictEqual(annView[0], { ...bobView[0], isSelf: true });
    assert.deepStrictEqual(bobView[1], { ...annView[1], isSelf: true });
    assert.deepStrictEqual(annView[3].clientId, 'k3');
    assert.deepStrictEqual(annView[0], { ...privateMessage(1, ann, bob, 'd0')[1], time: annView[0].time, isSelf: true });
  }));
});

describe('catch-up after a cut', { concurrency: CONCURRENCY }, () => {
  for (const { label, options } of TRANSPORTS) {
    test(`disconnect, others post, reconnect: history {after: <last id>} returns exactly the missed ones (${label})`, () => run(async (scene) => {
      const ann = await registerUser(scene, 'ann', 'Ann', { options, joins: ['rust'] });
      const bob = await sessionUser(scene, 'bob', 'Bob', { options, joins: ['rust'] });
      await seenPresence([ann], 'Bob', 'online');
      await settle([ann, bob]);
      await ann.call('send_message', { room: 'rust', message: 'before 1' });
      await ann.call('send_message', { room: 'rust', message: 'before 2' });
      await ann.call('private_message', { toUsername: 'Bob', message: 'dm before' });
      await until(() => rawOf(bob, 'receive_message').length === 2 && rawOf(bob, 'private_message').length === 1, 3_000, () => 'bob to see 3');
      const lastRoom = Math.max(...rawOf(bob, 'receive_message').map((m) => m.id));
      const lastDm = Math.max(...rawOf(bob, 'private_message').map((m) => m.id));

      bob.close();
      const missedRoom = [];
      const missedDm = [];
      for (let i = 0; i < 3; i += 1) missedRoom.push((await ann.call('send_message', { room: 'rust', message: `missed ${i}` })).id);
      for (let i = 0; i < 2; i += 1) missedDm.push((await ann.call('private_message', { toUsername: 'Bob', message: `missed dm ${i}` })).id);
      await ann.call('send_message', { room: 'general', message: 'general while away' });

      const back = await sessionTab(scene, 'bob back', bob, { options });
      const room = await back.call('history', { room: 'rust', after: lastRoom });
      assert.deepStrictEqual(ack(room), page(missedRoom.map((id, i) => receive(id, ann, 'rust', `missed ${i}`)[1]), true));
      const dm = await back.call('history', { with: 'Ann', after: lastDm });
      assert.deepStrictEqual(ack(dm), page(missedDm.map((id, i) => privateMessage(id, ann, bob, `missed dm ${i}`)[1]), true));
      // From now on, live.
      await settle([ann, back]);
      await ann.call('send_message', { room: 'rust', message: 'live again' });
      await expectRooms([[back, [receive(6, ann, 'rust', 'live again')]]]);
    }));
  }
});

describe('persistence across a restart', { concurrency: CONCURRENCY }, () => {
  test('rooms, memberships, DMs and read markers survive; the member reconnects with the same cookie and gets the room\'s messages', () => run(async (scene) => {
    const ann = await sessionUser(scene, 'ann', 'Ann', { joins: ['rust', 'empty'] });
    const bob = await sessionUser(scene, 'bob', 'Bob', { joins: ['rust'] });
    await seenPresence([ann], 'Bob', 'online');
    await ann.call('send_message', { room: 'rust', message: 'r1' });
    await ann.call('send_message', { room: 'rust', message: 'r2' });
    await ann.call('private_message', { toUsername: 'Bob', message: 'd1' });
    await ann.call('private_message', { toUsername: 'Bob', message: 'd2' });
    assert.deepStrictEqual(await bob.call('mark_read', { room: 'rust', id: 1 }), { ok: true, readUpTo: 1, unread: 1 });
    assert.deepStrictEqual(await bob.call('mark_read', { with: 'Ann', id: 1 }), { ok: true, readUpTo: 1, unread: 1 });
    const roomsBefore = await bob.call('list_rooms');
    const roomHistory = await bob.call('history', { room: 'rust' });
    const dmHistory = await bob.call('history', { with: 'Ann' });
    const bobConvs = await bob.call('my_conversations');

    await scene.server.restart();

    const bob2 = await sessionTab(scene, 'bob after restart', bob);
    const ann2 = await sessionTab(scene, 'ann after restart', ann);
    assert.equal(bob2.userId, bob.userId, 'the same user');
    assert.equal(ann2.userId, ann.userId, 'the same user');
    assert.deepStrictEqual(await bob2.call('list_rooms'), roomsBefore);
    assert.deepStrictEqual(await bob2.call('history', { room: 'rust' }), roomHistory);
    assert.deepStrictEqual(await bob2.call('history', { with: 'Ann' }), dmHistory);
    const convs = await bob2.call('my_conversations');
    assert.deepStrictEqual(convs, bobConvs);
    assert.deepStrictEqual(convs.rooms.find((r) => r.room === 'rust'), { room: 'rust', unread: 1, lastId: 2, readUpTo: 1 });
    assert.deepStrictEqual(convs.dms.map(({ with: w, readUpTo, unread, lastId }) => ({ with: w, readUpTo, unread, lastId })),
      [{ with: 'Ann', readUpTo: 1, unread: 1, lastId: 2 }]);
    assert.equal((await ann2.call('my_conversations')).dms[0].theirReadUpTo, 1);

    // Still a member: the room's messages arrive, with the next ids.
    await settle([ann2, bob2]);
    assert.deepStrictEqual(ack(await ann2.call('send_message', { room: 'rust', message: 'r3' })), delivered(3));
    assert.deepStrictEqual(ack(await ann2.call('private_message', { toUsername: 'Bob', message: 'd3' })), delivered(3));
    await expectRooms([[bob2, [receive(3, ann, 'rust', 'r3'), privateMessage(3, ann, bob, 'd3')]]]);
    // The marker only moves forward after the restart too.
    assert.deepStrictEqual(await bob2.call('mark_read', { room: 'rust', id: 0 }), { ok: true, readUpTo: 1, unread: 2 });
  }));

  test('a membership made by a socket that never sent a message survives; a left room stays left', () => run(async (scene) => {
    const ann = await sessionUser(scene, 'ann', 'Ann', { joins: ['stay', 'gone'] });
    await ann.call('leave_room', { room: 'gone' });
    await scene.server.restart();
    const back = await sessionTab(scene, 'ann back', ann);
    assert.deepStrictEqual((await back.call('my_conversations')).rooms.map((r) => r.room), ['general', 'stay']);
    assert.deepStrictEqual((await back.call('list_rooms')).rooms.map(({ room, member, members }) => [room, member, members]),
      [['general', true, 1], ['gone', false, 0], ['stay', true, 1]]);
  }));
});

describe('identity: a name freed and taken again is a different user', { concurrency: CONCURRENCY }, () => {
  test('after a log-out, a new "Ann" has another userId and none of the old Ann\'s rooms, DMs or markers', () => run(async (scene) => {
    const bob = await sessionUser(scene, 'bob', 'Bob');
    const old = await sessionUser(scene, 'old ann', 'Ann', { joins: ['rust'] });
    await old.call('private_message', { toUsername: 'Bob', message: 'from old Ann' });
    await bob.call('private_message', { toUsername: 'Ann', message: 'to old Ann' });
    await old.call('mark_read', { with: 'Bob', id: 2 });
    assert.equal((await bob.call('my_conversations')).dms.length, 1);
    assert.equal((await postLogout(scene.url, old.cookie)).status, 200);
    await seenPresence([bob], 'Ann', 'offline');

    const cookie = await createSession(scene.url, 'Ann');
    const fresh = await sessionTab(scene, 'new ann', { name: 'Ann', cookie });
    assert.notEqual(fresh.userId, old.userId, 'a different userId');
    assert.deepStrictEqual(await fresh.call('my_conversations'), { ok: true, rooms: [{ room: 'general', unread: 0, lastId: 0, readUpTo: 0 }], dms: [] });
    assert.deepStrictEqual(await fresh.call('history', { with: 'Bob' }), page([]));
    assert.deepStrictEqual((await fresh.call('list_rooms')).rooms.find((r) => r.room === 'rust').member, false);
    // Bob's DM with the old Ann is gone from his list (she holds no name), and "Ann" is the new one.
    assert.deepStrictEqual((await bob.call('my_conversations')).dms, []);
    assert.deepStrictEqual(await bob.call('history', { with: 'Ann' }), page([]));
    await settle([bob, fresh]);
    assert.deepStrictEqual(ack(await bob.call('private_message', { toUsername: 'Ann', message: 'hello new Ann' })), delivered(1));
    await expectRooms([[fresh, [privateMessage(1, bob, fresh, 'hello new Ann')]]]);
  }));

  test('a `login` user who disconnected: the next one with that name is someone else', () => run(async (scene) => {
    const bob = await registerUser(scene, 'bob', 'Bob');
    const lou = await scene.connect('lou', rooms());
    const first = await lou.call('join_room', { username: 'Lou', room: 'lounge' });
    await lou.call('private_message', { toUsername: 'Bob', message: 'hi from Lou' });
    lou.close();
    await seenPresence([bob], 'Lou', 'offline');
    const again = await scene.connect('lou again', rooms());
    const second = await again.call('join_room', { username: 'lou', room: 'general' });
    assert.equal(second.ok, true, JSON.stringify(second));
    assert.notEqual(second.userId, first.userId);
    assert.deepStrictEqual(await again.call('history', { with: 'Bob' }), page([]));
    assert.deepStrictEqual((await again.call('my_conversations')).rooms.map((r) => r.room), ['general']);
    assert.deepStrictEqual((await bob.call('my_conversations')).dms, []);
  }));
});
