// Presence and the conversation lists (docs/protocol.md, rooms protocol): set_presence (away
// only when every socket of the user says so), presence_changed to every rooms-family socket
// of a logged-in user, going offline (a `login` user at once, a session user after the grace
// period, a log-out) and coming back (user_joined / user_left with reason online / offline,
// room_users, presence_update), and list_rooms / my_conversations (acknowledgement required,
// shapes, order, counts). A fresh server (own database, 800 ms grace period) for every test.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import {
  TRANSPORTS, WAIT_MS, createSession, onlineUsers, postLogout, sessionEnded, withCookie,
} from './helpers.mjs';
import {
  ack, checkRefusals, anonymous, errorEvent, expectQuiet, expectRooms, lobbyUser, presenceChanged, presenceUpdate, refusedAck,
  registerUser, rooms, roomUsers, runWith, seenPresence, sessionTab, sessionUser, settle, userJoined, userLeft,
} from './rooms-helpers.mjs';

const CONCURRENCY = 6;
const GRACE_MS = 800;
const run = runWith(['--session-grace-ms', String(GRACE_MS)]);

describe('set_presence', { concurrency: CONCURRENCY }, () => {
  for (const { label, options } of TRANSPORTS) {
    test(`away only when every socket says away; presence_changed to every rooms-family socket of a logged-in user (${label})`, () => run(async (scene) => {
      const bob = await registerUser(scene, 'bob', 'Bob', { options });
      const lob = await lobbyUser(scene, 'lob (lobby family)', 'Lob', options);
      const ghost = await anonymous(scene, 'ghost (rooms, not logged in)', { options });
      const a1 = await sessionUser(scene, 'ann tab 1', 'Ann', { options, joins: ['rust'] });
      const a2 = await sessionTab(scene, 'ann tab 2', a1, { options });
      await seenPresence([bob], 'Ann', 'online');
      const all = [bob, lob, ghost, a1, a2];
      await settle(all);
      const told = (status) => all.map((c) => [c, [bob, a1, a2].includes(c) ? [presenceChanged('Ann', status)] : []]);

      assert.deepStrictEqual(await a1.call('set_presence', { status: 'away' }), { ok: true, status: 'online' });
      await expectQuiet(all);
      assert.deepStrictEqual(await a2.call('set_presence', { status: 'away' }), { ok: true, status: 'away' });
      await expectRooms(told('away'));
      assert.deepStrictEqual(await a2.call('set_presence', { status: 'away' }), { ok: true, status: 'away' });
      await expectQuiet(all);
      // Away members are still in the room, and count as online in list_rooms.
      const rust = (await bob.call('list_rooms')).rooms.find((r) => r.room === 'rust');
      assert.deepStrictEqual({ members: rust.members, online: rust.online }, { members: 1, online: 1 });
      assert.deepStrictEqual((await bob.call('my_conversations')).ok, true);

      a1.emit('set_presence', { status: 'online' });
      await expectRooms(told('online'));
      assert.deepStrictEqual(await a1.call('set_presence', { status: 'away' }), { ok: true, status: 'away' });
      await expectRooms(told('away'));
    }));
  }

  test('a new socket of an away user makes them online; when it closes they are away again', () => run(async (scene) => {
    const bob = await registerUser(scene, 'bob', 'Bob');
    const a1 = await sessionUser(scene, 'ann tab 1', 'Ann');
    await seenPresence([bob], 'Ann', 'online');
    await a1.call('set_presence', { status: 'away' });
    await seenPresence([bob], 'Ann', 'away');
    await settle([bob, a1]);
    const a2 = await scene.connect('ann tab 2', rooms(withCookie(a1.cookie)));
    await expectRooms([[bob, [presenceChanged('Ann', 'online')]], [a1, [presenceChanged('Ann', 'online')]]]);
    // Its own view: welcome first, then the presence list.
    await a2.waitFor('presence_update');
    const own = a2.take();
    assert.deepStrictEqual(own[0], ['welcome', 'Ann'], JSON.stringify(own));
    assert.deepStrictEqual(own.filter(([e]) => e === 'presence_update'), [presenceUpdate([['Bob', 'online'], ['Ann', 'online']])]);
    a2.close();
    await expectRooms([[bob, [presenceChanged('Ann', 'away')]], [a1, [presenceChanged('Ann', 'away')]]]);
  }));

  for (const withAck of [false, true]) {
    test(`refusals (${withAck ? 'acknowledgement' : 'error events'}): badRequest, notLoggedIn`, () => run(async (scene) => {
      const ann = await registerUser(scene, 'ann', 'Ann');
      const bob = await registerUser(scene, 'bob', 'Bob');
      const ghost = await anonymous(scene, 'ghost');
      await seenPresence([ann], 'Bob', 'online');
      const all = [ann, bob, ghost];
      await settle(all);
      const cases = [
        [ann, { status: 'busy' }, 'badRequest'],
        [ann, { status: 'offline' }, 'badRequest'],
        [ann, { status: 'AWAY' }, 'badRequest'],
        [ann, { status: 1 }, 'badRequest'],
        [ann, {}, 'badRequest'],
        [ann, 'away', 'badRequest'],
        [ghost, { status: 'away' }, 'notLoggedIn'],
      ];
      await checkRefusals('set_presence', cases, all, withAck);
    }));
  }
});

describe('going offline and coming back', { concurrency: CONCURRENCY }, () => {
  test('a user logged in with join_room goes offline at once: presence_changed, user_left offline and room_users in each room', () => run(async (scene) => {
    const bob = await registerUser(scene, 'bob', 'Bob', { joins: ['rust'] });
    const lurker = await anonymous(scene, 'lurker', { family: 'lobby' });
    const lou = await scene.connect('lou', rooms());
    await lou.call('join_room', { username: 'Lou', room: 'rust' });
    await seenPresence([bob], 'Lou', 'online');
    await settle([bob, lurker, lou]);
    const closedAt = performance.now();
    lou.close();
    await expectRooms([
      [bob, [
        presenceChanged('Lou', 'offline'),
        userLeft('Lou', 'general', 'offline'), roomUsers('general', ['Bob']),
        userLeft('Lou', 'rust', 'offline'), roomUsers('rust', ['Bob']),
      ]],
      [lurker, [['userLeft', 'Lou']]],
    ], { ordered: false });
    assert.ok(performance.now() - closedAt < GRACE_MS, 'no grace period for a login user');
    // user_left comes before the room's new list.
    const order = bob.raw.slice(-5).map(([e, p, x]) => `${e}:${p?.room ?? x?.room ?? ''}`);
    assert.ok(order.indexOf('user_left:rust') < order.indexOf('room_users:rust'), order.join(' '));
    assert.deepStrictEqual(await onlineUsers(scene.url), ['Bob']);
  }));

  test('a session user goes offline when the grace period ends, and comes back online with user_joined reason online', () => run(async (scene) => {
    const bob = await registerUser(scene, 'bob', 'Bob', { joins: ['rust'] });
    const lurker = await anonymous(scene, 'lurker', { family: 'lobby' });
    const ann = await sessionUser(scene, 'ann', 'Ann', { joins: ['rust'] });
    await seenPresence([bob], 'Ann', 'online');
    await settle([bob, lurker, ann]);
    const closedAt = performance.now();
    ann.close();
    await expectQuiet([bob, lurker], { quietMs: GRACE_MS - 300 });
    await bob.waitFor('presence_changed', GRACE_MS + WAIT_MS);
    assert.ok(performance.now() - closedAt >= GRACE_MS - 100, `offline ${performance.now() - closedAt} ms after the close (grace ${GRACE_MS})`);
    await expectRooms([
      [bob, [
        presenceChanged('Ann', 'offline'),
        userLeft('Ann', 'general', 'offline'), roomUsers('general', ['Bob']),
        userLeft('Ann', 'rust', 'offline'), roomUsers('rust', ['Bob']),
      ]],
      [lurker, [['userLeft', 'Ann']]],
    ], { ordered: false });

    const back = await scene.connect('ann back', rooms(withCookie(ann.cookie)));
    await expectRooms([
      [bob, [
        presenceChanged('Ann', 'online'),
        userJoined('Ann', 'general', 'online'), roomUsers('general', ['Bob', 'Ann']),
        userJoined('Ann', 'rust', 'online'), roomUsers('rust', ['Bob', 'Ann']),
      ]],
      [lurker, [['userJoined', 'Ann']]],
    ], { ordered: false });
    await back.waitFor('presence_update');
    const own = back.take();
    assert.deepStrictEqual(own[0], ['welcome', 'Ann']);
    assert.deepStrictEqual(own.filter(([e]) => e === 'presence_update'), [presenceUpdate([['Bob', 'online'], ['Ann', 'online']])]);
    assert.deepStrictEqual(own.filter(([e]) => e === 'user_joined'), [], 'no user_joined to the user coming back');
  }));

  test('a reload within the grace period changes nothing for the others', () => run(async (scene) => {
    const bob = await registerUser(scene, 'bob', 'Bob', { joins: ['rust'] });
    const ann = await sessionUser(scene, 'ann', 'Ann', { joins: ['rust'] });
    await seenPresence([bob], 'Ann', 'online');
    await settle([bob, ann]);
    const closedAt = performance.now();
    ann.close();
    const again = await scene.connect('ann reloaded', rooms(withCookie(ann.cookie)));
    await again.waitFor('welcome');
    await expectQuiet([bob], { quietMs: Math.max(300, GRACE_MS + 400 - (performance.now() - closedAt)) });
    const users = await bob.call('list_rooms');
    assert.equal(users.rooms.find((r) => r.room === 'rust').online, 2);
  }));

  test('presence_update lists every user online or away, in order of login, to a rooms socket at each log-in', () => run(async (scene) => {
    const bob = await registerUser(scene, 'bob', 'Bob');
    const cid = await registerUser(scene, 'cid', 'Cid');
    await cid.call('set_presence', { status: 'away' });
    const lob = await lobbyUser(scene, 'lob', 'Lob');
    const cookie = await createSession(scene.url, 'Ann');
    await seenPresence([bob], 'Cid', 'away');
    for (const label of ['ann 1', 'ann 2']) {
      const tab = await scene.connect(label, rooms(withCookie(cookie)));
      await tab.waitFor('presence_update');
      await settle([tab]);
      assert.deepStrictEqual(tab.raw.filter(([e]) => e === 'presence_update').map(([e, p]) => [e, p]),
        [presenceUpdate([['Bob', 'online'], ['Cid', 'away'], ['Lob', 'online'], ['Ann', 'online']])], label);
    }
    assert.ok(lob.socket.connected);
  }));

  test('a log-out: sessionEnded to the user\'s sockets, user_left offline, room_users and presence_changed offline to the others', () => run(async (scene) => {
    const bob = await registerUser(scene, 'bob', 'Bob', { joins: ['rust'] });
    const a1 = await sessionUser(scene, 'ann tab 1', 'Ann', { joins: ['rust'] });
    const a2 = await sessionTab(scene, 'ann tab 2', a1);
    await seenPresence([bob], 'Ann', 'online');
    await settle([bob, a1, a2]);
    assert.equal((await postLogout(scene.url, a1.cookie)).status, 200);
    await expectRooms([
      [bob, [
        presenceChanged('Ann', 'offline'),
        userLeft('Ann', 'general', 'offline'), roomUsers('general', ['Bob']),
        userLeft('Ann', 'rust', 'offline'), roomUsers('rust', ['Bob']),
      ]],
    ], { ordered: false });
    for (const tab of [a1, a2]) {
      await tab.waitFor('sessionEnded');
      const got = tab.take();
      assert.deepStrictEqual(got.filter(([e]) => e === 'sessionEnded'), [sessionEnded('loggedOut')], tab.label);
      assert.ok(tab.socket.connected);
      assert.deepStrictEqual(ack(await tab.call('send_message', { room: 'rust', message: 'me?' })), refusedAck('notLoggedIn'));
    }
  }));
});

describe('list_rooms and my_conversations', { concurrency: CONCURRENCY }, () => {
  for (const event of ['list_rooms', 'my_conversations']) {
    test(`${event}: acknowledgement required (error ackRequired), notLoggedIn`, () => run(async (scene) => {
      const ann = await registerUser(scene, 'ann', 'Ann');
      const ghost = await anonymous(scene, 'ghost');
      const lurker = await anonymous(scene, 'lurker', { family: 'lobby' });
      const all = [ann, ghost, lurker];
      await settle(all);
      for (const client of [ann, ghost]) {
        client.emit(event);
        await expectRooms(all.map((c) => [c, c === client ? [errorEvent(event, 'ackRequired')] : []]));
      }
      for (const client of [ghost, lurker]) {
        assert.deepStrictEqual(ack(await client.call(event)), refusedAck('notLoggedIn'), client.label);
      }
      await expectQuiet(all);
    }));
  }

  /** Ann in alpha, zeta; Bob in alpha, beta, mid; Cid (session, offline now) in alpha; Dee (away) in mid. */
  async function town(scene) {
    const ann = await registerUser(scene, 'ann', 'Ann', { joins: ['zeta', 'Alpha'] });
    const bob = await registerUser(scene, 'bob', 'Bob', { joins: ['alpha', 'BETA', 'mid'] });
    const cid = await sessionUser(scene, 'cid', 'Cid', { joins: ['alpha'] });
    const dee = await registerUser(scene, 'dee', 'Dee', { joins: ['mid'] });
    await dee.call('set_presence', { status: 'away' });
    await seenPresence([ann], 'Dee', 'away');
    for (let i = 0; i < 3; i += 1) await bob.call('send_message', { room: 'alpha', message: `a${i}` });
    await bob.call('send_message', { room: 'beta', message: 'b' });
    await ann.call('send_message', { room: 'zeta', message: 'z' });
    await ann.call('send_message', { room: 'general', message: 'g' });
    await cid.call('send_message', { room: 'general', message: 'g2' });
    cid.close();
    await seenPresence([ann], 'Cid', 'offline', GRACE_MS + WAIT_MS);
    await settle([ann, bob, dee]);
    return { ann, bob, cid, dee };
  }

  test('list_rooms: every room, general first, then by name; members, online (or away), member, unread, lastId', () => run(async (scene) => {
    const { ann, bob } = await town(scene);
    const reply = await ann.call('list_rooms');
    assert.deepStrictEqual(reply, {
      ok: true,
      rooms: [
        { room: 'general', members: 4, online: 3, member: true, unread: 1, lastId: 2 },
        { room: 'alpha', members: 3, online: 2, member: true, unread: 3, lastId: 3 },
        { room: 'beta', members: 1, online: 1, member: false, unread: 0, lastId: 1 },
        { room: 'mid', members: 2, online: 2, member: false, unread: 0, lastId: 0 },
        { room: 'zeta', members: 1, online: 1, member: true, unread: 0, lastId: 1 },
      ],
    });
    const bobs = await bob.call('list_rooms');
    assert.deepStrictEqual(bobs.rooms.map(({ room, member, unread }) => [room, member, unread]), [
      ['general', true, 2], ['alpha', true, 0], ['beta', true, 0], ['mid', true, 0], ['zeta', false, 0],
    ]);
  }));

  test('my_conversations: your rooms (general first, then by name); DMs newest activity first, with status and markers', () => run(async (scene) => {
    const { ann, bob, cid, dee } = await town(scene);
    await ann.call('private_message', { toUsername: 'Bob', message: 'to bob' });
    await ann.call('private_message', { toUsername: 'Cid', message: 'to cid (offline)' });
    await dee.call('private_message', { toUsername: 'Ann', message: 'from dee' });
    await dee.call('private_message', { toUsername: 'Ann', message: 'from dee 2' });
    await bob.call('mark_read', { with: 'Ann', id: 1 });
    await ann.call('mark_read', { room: 'alpha', id: 2 });
    await settle([ann, bob, dee]);
    const mine = await ann.call('my_conversations');
    const dmOrder = mine.dms.map((d) => d.with);
    assert.deepStrictEqual(mine.rooms, [
      { room: 'general', unread: 1, lastId: 2, readUpTo: 0 },
      { room: 'alpha', unread: 1, lastId: 3, readUpTo: 2 },
      { room: 'zeta', unread: 0, lastId: 1, readUpTo: 0 },
    ]);
    assert.deepStrictEqual(dmOrder, ['Dee', 'Cid', 'Bob'], 'newest activity first');
    const dm = Object.fromEntries(mine.dms.map((d) => [d.with, d]));
    assert.deepStrictEqual(dm.Dee, { with: 'Dee', userId: dee.userId, status: 'away', unread: 2, lastId: 2, readUpTo: 0, theirReadUpTo: dm.Dee.theirReadUpTo });
    assert.deepStrictEqual({ ...dm.Cid, readUpTo: undefined }, { with: 'Cid', userId: cid.userId, status: 'offline', unread: 0, lastId: 1, readUpTo: undefined, theirReadUpTo: 0 });
    assert.deepStrictEqual({ ...dm.Bob, readUpTo: undefined }, { with: 'Bob', userId: bob.userId, status: 'online', unread: 0, lastId: 1, readUpTo: undefined, theirReadUpTo: 1 });

    // New activity moves a DM to the front.
    // SERVER DEVIATION: the DMs stay in the order they were created (newest DM first);
    // Bob's new message does not move his DM ahead of Dee's and Cid's.
    await bob.call('private_message', { toUsername: 'Ann', message: 'bump' });
    await settle([ann, bob, dee]);
    const again = await ann.call('my_conversations');
    assert.deepStrictEqual(again.dms.map((d) => [d.with, d.unread, d.lastId]), [['Bob', 1, 2], ['Dee', 2, 2], ['Cid', 0, 1]]);
  }));
});
