// The rooms protocol (docs/protocol.md, "Rooms, direct messages, presence and read state"):
// join_room (logging in with it, its refusals, room names, room_joined / user_joined /
// room_users / presence_update), room isolation, `general` shared by the two families,
// send_message (refusals, acknowledgement, resends, ids per conversation) and leave_room.
// A fresh server (own database) for every test.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { TRANSPORTS, onlineUsers } from './helpers.mjs';
import {
  ack, checkRefusals, anonymous, delivered, errorEvent, expectQuiet, expectRooms, lobbyChat, lobbyUser, page,
  presenceChanged, presenceUpdate, rawOf, receive, refusedAck, registerUser, roomJoined, roomUsers, runWith,
  seenPresence, sessionTab, sessionUser, settle, userJoined, userLeft,
} from './rooms-helpers.mjs';

const CONCURRENCY = 6;
const run = runWith(['--session-grace-ms', '1000']);
const WS = TRANSPORTS[0].options;

/** The rooms of list_rooms, by name → the entry. */
async function roomList(client) {
  const reply = await client.call('list_rooms');
  assert.equal(reply?.ok, true, JSON.stringify(reply));
  return reply.rooms;
}

describe('join_room: logging in with a username', { concurrency: CONCURRENCY }, () => {
  for (const { label, options } of TRANSPORTS) {
    test(`a fresh socket logs in and joins "  Rust " as room "rust" (${label})`, () => run(async (scene) => {
      const lurker = await anonymous(scene, 'lurker (lobby family, not logged in)', { family: 'lobby', options });
      const ghost = await anonymous(scene, 'ghost (rooms family, not logged in)', { options });
      const bob = await registerUser(scene, 'bob', 'Bob', { options });
      const cid = await registerUser(scene, 'cid', 'Cid', { options, joins: ['rust'] });
      await seenPresence([bob], 'Cid', 'online');
      await settle([lurker, ghost, bob, cid]);

      // Ann's socket starts in the lobby family (no auth) and moves to the rooms family.
      const ann = await scene.connect('ann', options);
      const reply = ack(await ann.call('join_room', { username: 'Ann', room: '  Rust ' }));
      assert.ok(Number.isInteger(reply.userId) && reply.userId > 0, `userId ${reply.userId}`);
      assert.notEqual(reply.userId, bob.userId);
      assert.notEqual(reply.userId, cid.userId);
      assert.deepStrictEqual(reply, { ok: true, room: 'rust', username: 'Ann', userId: reply.userId, joined: true });
      ann.name = 'Ann';
      ann.userId = reply.userId;

      await expectRooms([
        [lurker, [['userJoined', 'Ann']]],
        [ghost, []],
        [bob, [presenceChanged('Ann', 'online'), userJoined('Ann', 'general', 'online'), roomUsers('general', ['Bob', 'Cid', 'Ann'])]],
        [cid, [
          presenceChanged('Ann', 'online'), userJoined('Ann', 'general', 'online'), roomUsers('general', ['Bob', 'Cid', 'Ann']),
          userJoined('Ann', 'rust'), roomUsers('rust', ['Cid', 'Ann']),
        ]],
      ], { ordered: false });

      // Ann's own socket: welcome first, then room_joined, the room's list, and the presence list.
      const own = ann.take();
      assert.deepStrictEqual(own[0], ['welcome', 'Ann'], `first event of ann: ${JSON.stringify(own)}`);
      const names = own.map(([event]) => event);
      const find = (pred) => own.filter(pred);
      assert.deepStrictEqual(find(([e]) => e === 'room_joined'), [roomJoined(ann, 'rust')]);
      assert.deepStrictEqual(find(([e, , extra]) => e === 'room_users' && extra?.room === 'rust'), [roomUsers('rust', ['Cid', 'Ann'])]);
      assert.deepStrictEqual(find(([e]) => e === 'presence_update'),
        [presenceUpdate([['Bob', 'online'], ['Cid', 'online'], ['Ann', 'online']])]);
      assert.ok(names.indexOf('room_joined') < own.findIndex(([e, , x]) => e === 'room_users' && x?.room === 'rust'),
        `room_joined before room_users: ${JSON.stringify(names)}`);
      assert.deepStrictEqual(find(([e]) => e === 'user_joined'), [], 'no user_joined to the joiner');
      assert.deepStrictEqual(find(([e]) => e === 'error'), []);
      assert.deepStrictEqual(await onlineUsers(scene.url), ['Bob', 'Cid', 'Ann']);
    }));
  }

  for (const withAck of [false, true]) {
    test(`refused log-ins: invalidName, nameTaken, notLoggedIn (${withAck ? 'in the acknowledgement' : 'as error events'}); nothing happens`, () => run(async (scene) => {
      const lurker = await anonymous(scene, 'lurker (lobby)', { family: 'lobby' });
      const bob = await registerUser(scene, 'bob', 'Bob');
      await settle([lurker, bob]);
      const tryer = await anonymous(scene, 'tryer', { family: 'lobby' });
      const cases = [
        [{ username: 'ab', room: 'newroom' }, 'invalidName'],
        [{ username: '   ab   ', room: 'newroom' }, 'invalidName'],
        [{ username: 'abcdefghijk', room: 'newroom' }, 'invalidName'],
        [{ username: 'An\u0007n', room: 'newroom' }, 'invalidName'],
        [{ username: '', room: 'newroom' }, 'invalidName'],
        [{ username: 'Bob', room: 'newroom' }, 'nameTaken'],
        [{ username: ' bOB ', room: 'newroom' }, 'nameTaken'],
        [{ room: 'newroom' }, 'notLoggedIn'],
      ];
      await checkRefusals('join_room', cases.map(([p, r]) => [tryer, p, r]), [tryer, lurker, bob], withAck);
      // Still not logged in, and the room was never created.
      assert.deepStrictEqual(await onlineUsers(scene.url), ['Bob']);
      assert.deepStrictEqual((await roomList(bob)).map((r) => r.room), ['general']);
      assert.deepStrictEqual(ack(await tryer.call('send_message', { room: 'general', message: 'hi' })), refusedAck('notLoggedIn'));
    }));
  }

  test('logged in: a username must be the socket\'s own name ignoring case (else nameMismatch)', () => run(async (scene) => {
    const ann = await registerUser(scene, 'ann', 'Ann');
    const bob = await registerUser(scene, 'bob', 'Bob');
    await settle([ann, bob]);
    ann.emit('join_room', { username: 'Bob', room: 'rust' });
    await expectRooms([[ann, [errorEvent('join_room', 'nameMismatch')]], [bob, []]]);
    assert.deepStrictEqual(ack(await ann.call('join_room', { username: 'Zed', room: 'rust' })), refusedAck('nameMismatch'));
    await expectQuiet([ann, bob]);
    assert.deepStrictEqual((await roomList(bob)).map((r) => r.room), ['general'], 'nothing was created');

    const reply = await ann.call('join_room', { username: 'aNN', room: 'rust' });
    assert.deepStrictEqual(reply, { ok: true, room: 'rust', username: 'Ann', userId: ann.userId, joined: true });
    await expectRooms([[ann, [roomJoined(ann, 'rust'), roomUsers('rust', ['Ann'])]], [bob, []]], { ignore: ['presence_update'] });
  }));

  for (const withAck of [false, true]) {
    test(`room names: trimmed and lowercased, 1 to 30 of a-z 0-9 - _; others badRoomName, wrong shapes badRequest (${withAck ? 'ack' : 'error events'})`, () => run(async (scene) => {
      const ann = await registerUser(scene, 'ann', 'Ann');
      const bob = await registerUser(scene, 'bob', 'Bob');
      await settle([ann, bob]);
      const bad = ['', '   ', 'a b', 'x'.repeat(31), 'été', 'a.b', 'a/b', '#rust', 'ru\tst', 'dm:1:2'];
      // (A room that is a number or an array is in 'a room key that is not a string' below.)
      const shapes = [{ room: null }, {}, 'rust', 42, null];
      const cases = [...bad.map((room) => [ann, { room }, 'badRoomName']), ...shapes.map((p) => [ann, p, 'badRequest'])];
      await checkRefusals('join_room', cases, [ann, bob], withAck);
      assert.deepStrictEqual((await roomList(bob)).map((r) => r.room), ['general'], 'no room was created');

      for (const [asked, room] of [['  Rust ', 'rust'], ['x'.repeat(30), 'x'.repeat(30)], ['A-b_9', 'a-b_9'], [' \tZ\n', 'z']]) {
        const reply = await ann.call('join_room', { room: asked });
        assert.deepStrictEqual(reply, { ok: true, room, username: 'Ann', userId: ann.userId, joined: true }, JSON.stringify(asked));
        await expectRooms([[ann, [roomJoined(ann, room), roomUsers(room, ['Ann'])]], [bob, []]], { ignore: ['presence_update'] });
      }
      // Names that differ only in case are the same room.
      const again = await ann.call('join_room', { room: 'RUST' });
      assert.deepStrictEqual(again, { ok: true, room: 'rust', username: 'Ann', userId: ann.userId, joined: false });
      await expectRooms([[ann, [roomJoined(ann, 'rust'), roomUsers('rust', ['Ann'])]], [bob, []]]);
      assert.deepStrictEqual((await roomList(bob)).map((r) => r.room), ['general', 'a-b_9', 'rust', 'x'.repeat(30), 'z']);
    }));
  }

  test('a log-in refused for a bad room name logs nobody in', () => run(async (scene) => {
    const bob = await registerUser(scene, 'bob', 'Bob');
    const lurker = await anonymous(scene, 'lurker', { family: 'lobby' });
    await settle([bob, lurker]);
    const tryer = await anonymous(scene, 'tryer', { family: 'lobby' });
    assert.deepStrictEqual(ack(await tryer.call('join_room', { username: 'Ann', room: 'no spaces' })), refusedAck('badRoomName'));
    await expectQuiet([tryer, bob, lurker]);
    assert.deepStrictEqual(await onlineUsers(scene.url), ['Bob']);
    // The name is free, and the socket can still log in.
    const reply = await tryer.call('join_room', { username: 'Ann', room: 'ok' });
    assert.equal(reply.ok, true, JSON.stringify(reply));
  }));

  test('user_joined (to the room\'s other sockets, the joiner\'s other tabs included) only when newly a member; re-joining answers that socket only', () => run(async (scene) => {
    const bob = await registerUser(scene, 'bob', 'Bob', { joins: ['rust'] });
    const cid = await registerUser(scene, 'cid', 'Cid');
    const tab1 = await sessionUser(scene, 'ann tab 1', 'Ann');
    const tab2 = await sessionTab(scene, 'ann tab 2', tab1);
    const lobbyTab = await sessionTab(scene, 'ann lobby-family tab', tab1, { family: 'lobby' });
    await seenPresence([bob, cid], 'Ann', 'online');
    const all = [bob, cid, tab1, tab2, lobbyTab];
    await settle(all);

    const reply = await tab1.call('join_room', { room: 'Rust' });
    assert.deepStrictEqual(reply, { ok: true, room: 'rust', username: 'Ann', userId: tab1.userId, joined: true });
    const list = roomUsers('rust', ['Bob', 'Ann']);
    await expectRooms([
      [tab1, [roomJoined(tab1, 'rust'), list]],
      [tab2, [userJoined('Ann', 'rust'), list]],
      [bob, [userJoined('Ann', 'rust'), list]],
      [cid, []],
      [lobbyTab, []],
    ]);

    // Again, from the same tab or the other: room_joined and room_users to that socket only.
    for (const tab of [tab1, tab2]) {
      const again = await tab.call('join_room', { room: 'rust' });
      assert.deepStrictEqual(again, { ok: true, room: 'rust', username: 'Ann', userId: tab1.userId, joined: false });
      await expectRooms(all.map((c) => [c, c === tab ? [roomJoined(tab1, 'rust'), list] : []]));
    }
    // Without an acknowledgement too.
    tab2.emit('join_room', { room: 'rust' });
    await expectRooms(all.map((c) => [c, c === tab2 ? [roomJoined(tab1, 'rust'), list] : []]));
  }));

  test('presence_update goes to a socket when it joins its first room, once', () => run(async (scene) => {
    const bob = await registerUser(scene, 'bob', 'Bob');
    await settle([bob]);
    // A socket logged in with `login` (lobby family), then joining rooms.
    const ann = await lobbyUser(scene, 'ann', 'Ann');
    await seenPresence([bob], 'Ann', 'online');
    await settle([ann, bob]);
    const reply = await ann.call('join_room', { room: 'rust' });
    ann.userId = reply.userId;
    await expectRooms([
      [ann, [roomJoined(ann, 'rust'), roomUsers('rust', ['Ann']), presenceUpdate([['Bob', 'online'], ['Ann', 'online']])]],
      [bob, []],
    ], { ordered: false });
    await ann.call('join_room', { room: 'go' });
    await expectRooms([[ann, [roomJoined(ann, 'go'), roomUsers('go', ['Ann'])]], [bob, []]]);
  }));
});

describe('register', { concurrency: CONCURRENCY }, () => {
  test('logs in like login: welcome, userJoined to lobby sockets; acknowledged {ok, username, userId}; refusals as login\'s or in the ack', () => run(async (scene) => {
    const lurker = await anonymous(scene, 'lurker', { family: 'lobby' });
    const bob = await registerUser(scene, 'bob', 'Bob');
    await settle([lurker, bob]);
    // Without an acknowledgement: the replies of `login`.
    const ann = await anonymous(scene, 'ann', { family: 'lobby' });
    for (const [name, reply] of [['ab', ['loginNameBad', 'ab']], [42, ['loginNameBad', 42]], [' bob ', ['loginNameExists', 'bob']]]) {
      ann.emit('register', name);
      await expectRooms([[ann, [reply]], [bob, []], [lurker, []]]);
    }
    ann.emit('register', ' Ann ');
    await ann.waitFor('welcome');
    await expectRooms([[lurker, [['userJoined', 'Ann']]]]);
    assert.deepStrictEqual(ann.take()[0], ['welcome', 'Ann']);
    ann.emit('register', 'Other');
    await expectRooms([[ann, [['requestRejected', { event: 'register', reason: 'alreadyLoggedIn', message: '<non-empty message>' }]]], [lurker, []]],
      { ignore: ['presence_changed', 'user_joined', 'room_users', 'presence_update'] });
    await settle([ann, bob, lurker]);

    // With one: the refusal in the acknowledgement only.
    const cid = await anonymous(scene, 'cid', { family: 'lobby' });
    assert.deepStrictEqual(ack(await cid.call('register', 'ab')), refusedAck('invalidName'));
    assert.deepStrictEqual(ack(await cid.call('register', 'BOB')), refusedAck('nameTaken'));
    await expectQuiet([cid, bob, lurker]);
    const ok = await cid.call('register', 'Cid');
    assert.ok(Number.isInteger(ok.userId) && ![bob.userId].includes(ok.userId));
    assert.deepStrictEqual(ok, { ok: true, username: 'Cid', userId: ok.userId });
    const again = await cid.call('register', 'Cid');
    assert.equal(again.ok, false, JSON.stringify(again));
  }));
});

describe('room isolation and the two families', { concurrency: CONCURRENCY }, () => {
  /** Ann (two rooms tabs and a lobby-family tab of one session), Bob in rust, Cid not, Lob (login), two anonymous sockets. */
  async function scene6(scene, options) {
    const bob = await registerUser(scene, 'bob', 'Bob', { options, joins: ['rust'] });
    const cid = await registerUser(scene, 'cid', 'Cid', { options });
    const lob = await lobbyUser(scene, 'lob (login, lobby family)', 'Lob', options);
    const tab1 = await sessionUser(scene, 'ann tab 1', 'Ann', { options, joins: ['rust'] });
    const tab2 = await sessionTab(scene, 'ann tab 2', tab1, { options });
    const lobbyTab = await sessionTab(scene, 'ann lobby-family tab', tab1, { options, family: 'lobby' });
    const lurker = await anonymous(scene, 'lurker (lobby, not logged in)', { family: 'lobby', options });
    const ghost = await anonymous(scene, 'ghost (rooms, not logged in)', { options });
    await seenPresence([bob, cid], 'Ann', 'online');
    const all = [bob, cid, lob, tab1, tab2, lobbyTab, lurker, ghost];
    await settle(all);
    return { bob, cid, lob, tab1, tab2, lobbyTab, lurker, ghost, all };
  }

  for (const { label, options } of TRANSPORTS) {
    test(`a room message reaches every socket of its members, sender included, once; nobody else (${label})`, () => run(async (scene) => {
      const { bob, tab1, tab2, all } = await scene6(scene, options);
      const first = ack(await tab1.call('send_message', { room: 'rust', message: 'hi', clientId: 'c-1' }));
      assert.deepStrictEqual(first, delivered(1));
      const m1 = receive(1, tab1, 'rust', 'hi', 'c-1');
      await expectRooms(all.map((c) => [c, [tab1, tab2, bob].includes(c) ? [m1] : []]));
      bob.emit('send_message', { room: 'RUST', message: 'yo' });
      const m2 = receive(2, bob, 'rust', 'yo');
      await expectRooms(all.map((c) => [c, [tab1, tab2, bob].includes(c) ? [m2] : []]));
      // The acknowledged time is the message's time.
      assert.equal(rawOf(bob, 'receive_message')[0].time, (await tab2.call('history', { room: 'rust' })).messages[0].time);
    }));

    test(`general: chat to lobby-family sockets, receive_message to rooms-family ones, each exactly once (${label})`, () => run(async (scene) => {
      const { bob, cid, lob, tab1, tab2, lobbyTab, lurker, ghost, all } = await scene6(scene, options);
      const rooms = [bob, cid, tab1, tab2];
      const lobby = [lob, lobbyTab, lurker];
      const sent = ack(await tab1.call('send_message', { room: 'general', message: 'to all', clientId: 'g-1' }));
      assert.deepStrictEqual(sent, delivered(1));
      await expectRooms([
        ...rooms.map((c) => [c, [receive(1, tab1, 'general', 'to all', 'g-1')]]),
        ...lobby.map((c) => [c, [lobbyChat('Ann', 'to all', 'g-1')]]),
        [ghost, []],
      ]);
      for (const c of lobby) assert.equal(c.rawChats()[0].id, 1, `${c.label}: the chat has the message's id`);

      // A lobby chat from Lob: the same, with Lob's userId.
      lob.emit('chat', 'from the lobby');
      await bob.waitFor('receive_message');
      const lobId = rawOf(bob, 'receive_message').at(-1).userId;
      assert.ok(Number.isInteger(lobId) && ![bob.userId, cid.userId, tab1.userId].includes(lobId), `Lob's userId ${lobId}`);
      await expectRooms([
        ...rooms.map((c) => [c, [receive(2, { name: 'Lob', userId: lobId }, 'general', 'from the lobby')]]),
        ...lobby.map((c) => [c, [lobbyChat('Lob', 'from the lobby')]]),
        [ghost, []],
      ]);
      assert.equal(all.length, 8);
    }));
  }

  test('a socket that did `login` then join_room gets general messages once: chat before the switch, receive_message after', () => run(async (scene) => {
    const ann = await registerUser(scene, 'ann', 'Ann');
    const dee = await lobbyUser(scene, 'dee', 'Dee');
    await seenPresence([ann], 'Dee', 'online');
    await settle([ann, dee]);
    await ann.call('send_message', { room: 'general', message: 'one' });
    await expectRooms([[dee, [lobbyChat('Ann', 'one')]], [ann, [receive(1, ann, 'general', 'one')]]]);

    const joined = await dee.call('join_room', { room: 'rust' });
    dee.userId = joined.userId;
    await settle([ann, dee]);
    await ann.call('send_message', { room: 'general', message: 'two' });
    await expectRooms([[dee, [receive(2, ann, 'general', 'two')]], [ann, [receive(2, ann, 'general', 'two')]]]);
    // A lobby `chat` from a rooms-family socket: it comes back to it as receive_message.
    dee.emit('chat', 'three');
    await expectRooms([[dee, [receive(3, dee, 'general', 'three')]], [ann, [receive(3, dee, 'general', 'three')]]]);
  }));

  test('history with a room moves a lobby socket to the rooms family too', () => run(async (scene) => {
    const ann = await registerUser(scene, 'ann', 'Ann');
    const eve = await lobbyUser(scene, 'eve', 'Eve');
    await seenPresence([ann], 'Eve', 'online');
    await settle([ann, eve]);
    assert.deepStrictEqual(ack(await eve.call('history', { room: 'general' })), page([]));
    await ann.call('send_message', { room: 'general', message: 'hello' });
    await eve.waitFor('receive_message');
    // (The server also sends Eve a presence_update when she switches; the doc lists it only
    // for a first room and a log-in, so it is left out here.)
    await expectRooms([[eve, [receive(1, ann, 'general', 'hello')]]], { ignore: ['presence_update'] });
  }));

  test('a rooms-family socket that is not logged in gets nothing but its own replies', () => run(async (scene) => {
    const ann = await registerUser(scene, 'ann', 'Ann', { joins: ['rust'] });
    const ghost = await anonymous(scene, 'ghost');
    await settle([ann, ghost]);
    await ann.call('send_message', { room: 'general', message: 'g' });
    await ann.call('send_message', { room: 'rust', message: 'r' });
    const lob = await lobbyUser(scene, 'lob', 'Lob');
    lob.emit('chat', 'lobby');
    lob.emit('typing');
    await seenPresence([ann], 'Lob', 'online');
    await expectQuiet([ghost]);
    ghost.emit('send_message', { room: 'general', message: 'me?' });
    await expectRooms([[ghost, [errorEvent('send_message', 'notLoggedIn')]]]);
    ghost.emit('onlineUsers');
    await expectRooms([[ghost, [['onlineUsers', ['Ann', 'Lob']]]]]);
  }));
});

describe('send_message', { concurrency: CONCURRENCY }, () => {
  for (const withAck of [false, true]) {
    test(`refusals (${withAck ? 'in the acknowledgement' : 'as error events'}) reach the sender only and store nothing`, () => run(async (scene) => {
      const ann = await registerUser(scene, 'ann', 'Ann', { joins: ['rust'] });
      const bob = await registerUser(scene, 'bob', 'Bob', { joins: ['rust', 'go'] });
      const ghost = await anonymous(scene, 'ghost');
      await seenPresence([ann], 'Bob', 'online');
      await settle([ann, bob, ghost]);
      const cases = [
        [ann, { room: 'go', message: 'hi' }, 'notMember'],
        [ann, { room: 'nosuchroom', message: 'hi' }, 'notMember'],
        [ann, { room: 'rust', message: '  \n ' }, 'emptyMessage'],
        [ann, { room: 'rust', message: '' }, 'emptyMessage'],
        [ann, { room: 'rust', message: 'x'.repeat(2001) }, 'messageTooLong'],
        [ann, { room: 'rust', message: 42 }, 'badRequest'],
        [ann, { room: 'rust', message: null }, 'badRequest'],
        [ann, { room: 'rust', message: ['hi'] }, 'badRequest'],
        [ann, { room: 'rust' }, 'badRequest'],
        [ann, { message: 'hi' }, 'badRequest'],
        [ann, 'hi', 'badRequest'],
        [ann, null, 'badRequest'],
        [ann, { room: 'no such', message: 'hi' }, 'badRoomName'],
        [ann, { room: 'rust', message: 'hi', clientId: '' }, 'badClientId'],
        [ann, { room: 'rust', message: 'hi', clientId: 'a b' }, 'badClientId'],
        [ann, { room: 'rust', message: 'hi', clientId: 'é' }, 'badClientId'],
        [ann, { room: 'rust', message: 'hi', clientId: 'x'.repeat(65) }, 'badClientId'],
        [ghost, { room: 'general', message: 'hi' }, 'notLoggedIn'],
      ];
      await checkRefusals('send_message', cases, [ann, bob, ghost], withAck);
      // Nothing was stored: the first valid messages get id 1 (2000 characters is fine).
      for (const room of ['rust', 'general']) {
        assert.deepStrictEqual(ack(await bob.call('history', { room })), page([]), room);
      }
      const long = 'y'.repeat(2000);
      assert.deepStrictEqual(ack(await ann.call('send_message', { room: 'rust', message: long, clientId: 'x'.repeat(64) })), delivered(1));
      await expectRooms([ann, bob].map((c) => [c, [receive(1, ann, 'rust', long, 'x'.repeat(64))]]));
    }));
  }

  test('the text is sent exactly as received', () => run(async (scene) => {
    const ann = await registerUser(scene, 'ann', 'Ann', { joins: ['rust'] });
    await settle([ann]);
    for (const [i, text] of ['  spaced  ', 'multi\nline', '<b>html</b> & "quotes"', 'ünï 😀'].entries()) {
      assert.deepStrictEqual(ack(await ann.call('send_message', { room: 'rust', message: text })), delivered(i + 1));
      await expectRooms([[ann, [receive(i + 1, ann, 'rust', text)]]]);
    }
  }));

  test('acknowledgement {ok, status:"delivered", messageId, id, time, duplicate}; a resend with the same clientId: duplicate, not broadcast', () => run(async (scene) => {
    const ann = await registerUser(scene, 'ann', 'Ann', { joins: ['rust'] });
    const bob = await registerUser(scene, 'bob', 'Bob', { joins: ['rust'] });
    const lurker = await anonymous(scene, 'lurker', { family: 'lobby' });
    await seenPresence([ann], 'Bob', 'online');
    await settle([ann, bob, lurker]);
    const before = Date.now();
    const first = await ann.call('send_message', { room: 'rust', message: 'once', clientId: 'retry-me' });
    assert.deepStrictEqual(ack(first), delivered(1));
    const t = Date.parse(first.time);
    assert.ok(t >= before - 1_000 && t <= Date.now() + 1_000, `time ${first.time} is the time of storing`);
    await expectRooms([ann, bob].map((c) => [c, [receive(1, ann, 'rust', 'once', 'retry-me')]]).concat([[lurker, []]]));
    assert.equal(rawOf(bob, 'receive_message')[0].time, first.time);

    for (const message of ['once', 'another text, same clientId']) {
      const again = await ann.call('send_message', { room: 'rust', message, clientId: 'retry-me' });
      assert.deepStrictEqual(again, { ...first, duplicate: true }, 'the first id and time, duplicate:true');
      await expectQuiet([ann, bob, lurker]);
    }
    ann.emit('send_message', { room: 'rust', message: 'once', clientId: 'retry-me' });
    await expectQuiet([ann, bob, lurker]);
    assert.deepStrictEqual(ack(await bob.call('history', { room: 'rust' })), page([receive(1, ann, 'rust', 'once', 'retry-me')[1]]));

    // Bob's message with the same clientId is his own; a new clientId is a new message.
    assert.deepStrictEqual(ack(await bob.call('send_message', { room: 'rust', message: 'mine', clientId: 'retry-me' })), delivered(2));
    assert.deepStrictEqual(ack(await ann.call('send_message', { room: 'rust', message: 'twice', clientId: 'retry-me-2' })), delivered(3));
    await expectRooms([ann, bob].map((c) => [c, [receive(2, bob, 'rust', 'mine', 'retry-me'), receive(3, ann, 'rust', 'twice', 'retry-me-2')]]));
  }));

  test('ids: 1, 2, 3... per conversation, general shared with the lobby\'s chat', () => run(async (scene) => {
    const ann = await registerUser(scene, 'ann', 'Ann', { joins: ['alpha', 'beta'] });
    const bob = await registerUser(scene, 'bob', 'Bob', { joins: ['alpha'] });
    const lob = await lobbyUser(scene, 'lob', 'Lob');
    await seenPresence([ann], 'Lob', 'online');
    await settle([ann, bob, lob]);
    const order = [
      [ann, 'alpha'], [bob, 'alpha'], [ann, 'beta'], [ann, 'general'], [ann, 'alpha'],
      [bob, 'general'], [ann, 'beta'], [ann, 'beta'], [bob, 'alpha'],
    ];
    const expected = { alpha: 0, beta: 0, general: 0 };
    for (const [i, [client, room]] of order.entries()) {
      expected[room] += 1;
      if (room === 'general' && i === 5) {
        // A lobby chat in between takes its place in general's sequence.
        const receipt = await lob.call('chat', { text: 'lobby', clientId: `l-${i}` });
        assert.equal(receipt.id, expected.general, 'the lobby chat id');
        expected.general += 1;
      }
      const reply = await client.call('send_message', { room, message: `m${i}` });
      assert.deepStrictEqual(ack(reply), delivered(expected[room]), `message ${i} in ${room}`);
    }
    for (const room of ['alpha', 'beta', 'general']) {
      const history = await ann.call('history', { room });
      assert.deepStrictEqual(history.messages.map((m) => m.id), [...Array(expected[room]).keys()].map((k) => k + 1), room);
    }
    // Every client saw its rooms' messages in id order, without gaps.
    for (const client of [ann, bob]) {
      for (const room of ['alpha', 'general']) {
        await client.waitFor(([e, p]) => e === 'receive_message' && p.room === room && p.id === expected[room]);
        assert.deepStrictEqual(rawOf(client, 'receive_message').filter((m) => m.room === room).map((m) => m.id),
          [...Array(expected[room]).keys()].map((k) => k + 1), `${client.label} in ${room}`);
      }
    }
    assert.deepStrictEqual(lob.rawChats().map((m) => m.id), [1, 2, 3]);
  }));
});

describe('leave_room', { concurrency: CONCURRENCY }, () => {
  for (const withAck of [false, true]) {
    test(`refusals: cannotLeave general, notMember, badRoomName, badRequest, notLoggedIn (${withAck ? 'ack' : 'error events'})`, () => run(async (scene) => {
      const ann = await registerUser(scene, 'ann', 'Ann');
      const bob = await registerUser(scene, 'bob', 'Bob', { joins: ['rust'] });
      const ghost = await anonymous(scene, 'ghost');
      await seenPresence([ann], 'Bob', 'online');
      await settle([ann, bob, ghost]);
      const cases = [
        [ann, { room: 'general' }, 'cannotLeave'],
        [ann, { room: ' GENERAL ' }, 'cannotLeave'],
        [ann, { room: 'rust' }, 'notMember'],
        [ann, { room: 'nosuchroom' }, 'notMember'],
        [ann, { room: 'a b' }, 'badRoomName'],
        [ann, {}, 'badRequest'],
        [ann, 'rust', 'badRequest'],
        [ghost, { room: 'rust' }, 'notLoggedIn'],
      ];
      await checkRefusals('leave_room', cases, [ann, bob, ghost], withAck);
      const list = await roomList(bob);
      assert.deepStrictEqual(list.map(({ room, members, member }) => ({ room, members, member })), [
        { room: 'general', members: 2, member: true },
        { room: 'rust', members: 1, member: true },
      ]);
    }));
  }

  test('user_left {reason:"left"} to the room\'s sockets (the leaver\'s too), room_users to the rest; then no more of its messages', () => run(async (scene) => {
    const bob = await registerUser(scene, 'bob', 'Bob', { joins: ['rust'] });
    const cid = await registerUser(scene, 'cid', 'Cid');
    const tab1 = await sessionUser(scene, 'ann tab 1', 'Ann', { joins: ['rust'] });
    const tab2 = await sessionTab(scene, 'ann tab 2', tab1);
    await seenPresence([bob, cid], 'Ann', 'online');
    const all = [bob, cid, tab1, tab2];
    await settle(all);

    assert.deepStrictEqual(await tab1.call('leave_room', { room: ' Rust ' }), { ok: true, room: 'rust' });
    await expectRooms([
      [tab1, [userLeft('Ann', 'rust', 'left')]],
      [tab2, [userLeft('Ann', 'rust', 'left')]],
      [bob, [userLeft('Ann', 'rust', 'left'), roomUsers('rust', ['Bob'])]],
      [cid, []],
    ]);
    bob.emit('send_message', { room: 'rust', message: 'alone' });
    await expectRooms(all.map((c) => [c, c === bob ? [receive(1, bob, 'rust', 'alone')] : []]));
    for (const tab of [tab1, tab2]) {
      assert.deepStrictEqual(ack(await tab.call('send_message', { room: 'rust', message: 'me?' })), refusedAck('notMember'));
      assert.deepStrictEqual(ack(await tab.call('leave_room', { room: 'rust' })), refusedAck('notMember'));
    }
    await expectQuiet(all);
    // Rooms are public: the history is still readable.
    assert.deepStrictEqual(ack(await tab2.call('history', { room: 'rust' })), page([receive(1, bob, 'rust', 'alone')[1]]));
    const listed = (await roomList(tab1)).find((r) => r.room === 'rust');
    assert.deepStrictEqual(listed, { room: 'rust', members: 1, online: 1, member: false, unread: 0, lastId: 1 });
    const mine = await tab1.call('my_conversations');
    assert.deepStrictEqual(mine.rooms.map((r) => r.room), ['general']);

    // Joining again is a new membership.
    assert.equal((await tab2.call('join_room', { room: 'rust' })).joined, true);
    await expectRooms([
      [tab2, [roomJoined(tab1, 'rust'), roomUsers('rust', ['Bob', 'Ann'])]],
      [tab1, [userJoined('Ann', 'rust'), roomUsers('rust', ['Bob', 'Ann'])]],
      [bob, [userJoined('Ann', 'rust'), roomUsers('rust', ['Bob', 'Ann'])]],
      [cid, []],
    ]);
  }));
});

describe('a room key that is not a string', () => {
  // SERVER DEVIATION: join_room, leave_room and send_message answer badRoomName for a room
  // that is a number or an array; docs/protocol.md calls a mistyped key badRequest (as
  // typing, mark_read and history answer).
  test('is badRequest for every event that takes a room', () => run(async (scene) => {
    const ann = await registerUser(scene, 'ann', 'Ann', { joins: ['rust'] });
    await settle([ann]);
    const got = {};
    const want = {};
    for (const room of [42, ['rust'], { name: 'rust' }, true]) {
      for (const [event, payload] of [
        ['join_room', { room }],
        ['leave_room', { room }],
        ['send_message', { room, message: 'hi' }],
        ['typing', { room, isTyping: true }],
        ['mark_read', { room, id: 0 }],
        ['history', { room }],
      ]) {
        const key = `${event} ${JSON.stringify(payload)}`;
        got[key] = ack(await ann.call(event, payload)).reason;
        want[key] = 'badRequest';
      }
    }
    await expectQuiet([ann]);
    assert.deepStrictEqual(got, want);
  }));
});
