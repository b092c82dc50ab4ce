// Typing per conversation (docs/protocol.md, rooms protocol, `typing {room|to, isTyping}`):
// who gets user_typing (the room's sockets but the typer's, the other party of a DM), the
// lease and everything that ends it (isTyping:false, a message in that conversation, the
// typing socket's disconnect, leaving the room, expiry), refusals, and `general`, where
// lobby-family sockets keep getting userTyping / userStoppedTyping.
// A fresh server (own database, a 600 ms typing lease) for every test.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { TRANSPORTS, WAIT_MS } from './helpers.mjs';
import {
  ack, checkRefusals, anonymous, dmTyping, expectQuiet, expectRooms, lobbyChat, lobbyUser, privateMessage, receive,
  refusedAck, registerUser, roomTyping, roomUsers, runWith, seenPresence, sessionTab, sessionUser, settle, userLeft,
} from './rooms-helpers.mjs';

const CONCURRENCY = 6;
const LEASE_MS = 600;
const run = runWith(['--typing-lease-ms', String(LEASE_MS), '--session-grace-ms', '1000']);
/** For tests that must not see the lease run out while they work. */
const runLongLease = runWith(['--typing-lease-ms', '5000', '--session-grace-ms', '1000']);

/**
 * Ann (two rooms tabs and a lobby-family tab), Bob (two rooms tabs), both in rust; Cid (not
 * in rust); Lob (login, lobby family); a lobby lurker.
 */
async function cast(scene, options = TRANSPORTS[0].options) {
  const bob = await sessionUser(scene, 'bob tab 1', 'Bob', { options, joins: ['rust'] });
  const bob2 = await sessionTab(scene, 'bob tab 2', bob, { options });
  const ann = await sessionUser(scene, 'ann tab 1', 'Ann', { options, joins: ['rust'] });
  const ann2 = await sessionTab(scene, 'ann tab 2', ann, { options });
  const annL = await sessionTab(scene, 'ann lobby tab', ann, { options, family: 'lobby' });
  const cid = await registerUser(scene, 'cid', 'Cid', { options });
  const lob = await lobbyUser(scene, 'lob', 'Lob', options);
  const lurker = await anonymous(scene, 'lurker', { family: 'lobby', options });
  await seenPresence([ann, bob], 'Lob', 'online');
  const all = [ann, ann2, annL, bob, bob2, cid, lob, lurker];
  await settle(all);
  return { ann, ann2, annL, bob, bob2, cid, lob, lurker, all };
}

const only = (all, to) => all.map((c) => [c, to.get(c) ?? []]);
const each = (clients, events) => new Map(clients.map((c) => [c, events]));

describe('typing in a room', { concurrency: CONCURRENCY }, () => {
  for (const { label, options } of TRANSPORTS) {
    test(`user_typing to the room's sockets but the typer's own tabs; renewals send nothing; isTyping:false ends it (${label})`, () => run(async (scene) => {
      const { ann, bob, bob2, all } = await cast(scene, options);
      assert.deepStrictEqual(await ann.call('typing', { room: 'Rust', isTyping: true }), { ok: true });
      await expectRooms(only(all, each([bob, bob2], [roomTyping('Ann', 'rust', true)])));
      ann.emit('typing', { room: 'rust', isTyping: true });
      assert.deepStrictEqual(await ann.call('typing', { room: 'rust', isTyping: true }), { ok: true });
      await expectQuiet(all);
      assert.deepStrictEqual(await ann.call('typing', { room: 'rust', isTyping: false }), { ok: true });
      await expectRooms(only(all, each([bob, bob2], [roomTyping('Ann', 'rust', false)])));
      // Not typing: false again sends nothing.
      ann.emit('typing', { room: 'rust', isTyping: false });
      await expectQuiet(all);
    }));
  }

  test('a message from the typer in that room ends it first; a message elsewhere does not', () => runLongLease(async (scene) => {
    const { ann, ann2, annL, bob, bob2, cid, lob, lurker, all } = await cast(scene);
    ann.emit('typing', { room: 'rust', isTyping: true });
    await expectRooms(only(all, each([bob, bob2], [roomTyping('Ann', 'rust', true)])));
    // A message in general: rust's lease goes on.
    await ann2.call('send_message', { room: 'general', message: 'elsewhere' });
    await expectRooms(only(all, new Map([
      ...[ann, ann2, bob, bob2, cid].map((c) => [c, [receive(1, ann, 'general', 'elsewhere')]]),
      ...[annL, lob, lurker].map((c) => [c, [lobbyChat('Ann', 'elsewhere')]]),
    ])));
    ann.emit('typing', { room: 'rust', isTyping: true });
    // A message in rust from her other tab: the lease ends, just before the message.
    await ann2.call('send_message', { room: 'rust', message: 'done' });
    const m = receive(1, ann, 'rust', 'done');
    await expectRooms(only(all, new Map([[ann, [m]], [ann2, [m]], [bob, [roomTyping('Ann', 'rust', false), m]], [bob2, [roomTyping('Ann', 'rust', false), m]]])));
    // Over: nothing more (the 5 s lease is not waited for here; the short-lease tests cover expiry).
    await expectQuiet(all);
  }));

  test('the lease runs out LEASE_MS after the last isTyping:true', () => run(async (scene) => {
    const { ann, bob, bob2, all } = await cast(scene);
    const startedAt = performance.now();
    ann.emit('typing', { room: 'rust', isTyping: true });
    await bob.waitFor('user_typing');
    await bob.waitFor(([e, p]) => e === 'user_typing' && p.isTyping === false, LEASE_MS + WAIT_MS);
    const elapsed = performance.now() - startedAt;
    assert.ok(elapsed >= LEASE_MS - 100, `ended after ${elapsed} ms (lease ${LEASE_MS})`);
    await expectRooms(only(all, each([bob, bob2], [roomTyping('Ann', 'rust', true), roomTyping('Ann', 'rust', false)])));

    // Renewed: it runs out after the last renewal.
    ann.emit('typing', { room: 'rust', isTyping: true });
    await bob.waitFor('user_typing');
    let renewedAt = performance.now();
    for (let i = 0; i < 3; i += 1) {
      await new Promise((r) => setTimeout(r, LEASE_MS / 2));
      ann.emit('typing', { room: 'rust', isTyping: true });
      renewedAt = performance.now();
    }
    await bob.waitFor(([e, p]) => e === 'user_typing' && p.isTyping === false, LEASE_MS + WAIT_MS);
    assert.ok(performance.now() - renewedAt >= LEASE_MS - 100, `ended ${performance.now() - renewedAt} ms after the last renewal`);
    await expectRooms(only(all, each([bob, bob2], [roomTyping('Ann', 'rust', true), roomTyping('Ann', 'rust', false)])));
  }));

  test('the typing socket\'s disconnect ends it (the user stays online in another tab)', () => run(async (scene) => {
    const { ann, ann2, bob, bob2, all } = await cast(scene);
    ann.emit('typing', { room: 'rust', isTyping: true });
    await expectRooms(only(all, each([bob, bob2], [roomTyping('Ann', 'rust', true)])));
    ann.close();
    const rest = all.filter((c) => c !== ann);
    await expectRooms(only(rest, each([bob, bob2], [roomTyping('Ann', 'rust', false)])));
    assert.ok(ann2.socket.connected);
  }));

  test('another tab\'s disconnect does not end it', () => run(async (scene) => {
    const { ann, ann2, bob, bob2, all } = await cast(scene);
    ann.emit('typing', { room: 'rust', isTyping: true });
    await expectRooms(only(all, each([bob, bob2], [roomTyping('Ann', 'rust', true)])));
    ann2.close();
    const rest = all.filter((c) => c !== ann2);
    await expectQuiet(rest);
    ann.emit('typing', { room: 'rust', isTyping: false });
    await expectRooms(only(rest, each([bob, bob2], [roomTyping('Ann', 'rust', false)])));
  }));

  test('leaving the room ends the user\'s typing there', () => run(async (scene) => {
    const { ann, ann2, bob, bob2, all } = await cast(scene);
    ann.emit('typing', { room: 'rust', isTyping: true });
    await expectRooms(only(all, each([bob, bob2], [roomTyping('Ann', 'rust', true)])));
    await ann2.call('leave_room', { room: 'rust' });
    const left = userLeft('Ann', 'rust', 'left');
    const bobs = [roomTyping('Ann', 'rust', false), left, roomUsers('rust', ['Bob'])];
    await expectRooms(only(all, new Map([[ann, [left]], [ann2, [left]], [bob, bobs], [bob2, bobs]])), { ordered: false });
    await expectQuiet(all, { quietMs: LEASE_MS + 300 });
  }));

  for (const withAck of [false, true]) {
    test(`refusals (${withAck ? 'acknowledgement' : 'error events'}): notMember, badRoomName, badRequest, unknownUser, selfMessage, notLoggedIn`, () => run(async (scene) => {
      const { ann, all } = await cast(scene);
      const ghost = await anonymous(scene, 'ghost');
      const everyone = [...all, ghost];
      await settle(everyone);
      const cases = [
        [ann, { room: 'go', isTyping: true }, 'notMember'],
        [ann, { room: 'bad room', isTyping: true }, 'badRoomName'],
        [ann, { room: 'rust' }, 'badRequest'],
        [ann, { room: 'rust', isTyping: 'yes' }, 'badRequest'],
        [ann, { room: 'rust', isTyping: 1 }, 'badRequest'],
        [ann, { isTyping: true }, 'badRequest'],
        [ann, { to: 'Bob', isTyping: null }, 'badRequest'],
        [ann, { to: 'Nobody', isTyping: true }, 'unknownUser'],
        [ann, { to: 'Ann', isTyping: true }, 'selfMessage'],
        [ghost, { room: 'general', isTyping: true }, 'notLoggedIn'],
      ];
      await checkRefusals('typing', cases, everyone, withAck);
    }));
  }

  test('a payload that is not an object is the lobby\'s typing (its payload ignored), acknowledged', () => run(async (scene) => {
    const { ann, annL, lob, lurker } = await cast(scene);
    assert.deepStrictEqual(ack(await ann.call('typing', 'rust')), { ok: true });
    const lobbySockets = [annL, lob, lurker];
    for (const client of lobbySockets) await client.waitFor(([event, name]) => event === 'userTyping' && name === 'Ann');
    // Renewing with another odd payload: silent.
    assert.deepStrictEqual(ack(await ann.call('typing', 42)), { ok: true });
    assert.deepStrictEqual(ack(await ann.call('stopTyping')), { ok: true });
    for (const client of lobbySockets) await client.waitFor(([event, name]) => event === 'userStoppedTyping' && name === 'Ann');
  }));
});

describe('typing in a DM', { concurrency: CONCURRENCY }, () => {
  test('user_typing {username, isTyping, with} to the other party\'s sockets only; ends with false and expiry', () => run(async (scene) => {
    const { ann, ann2, bob, bob2, all } = await cast(scene);
    assert.deepStrictEqual(await ann.call('typing', { to: 'Bob', isTyping: true }), { ok: true });
    await expectRooms(only(all, each([bob, bob2], [dmTyping('Ann', true)])));
    ann.emit('typing', { to: 'Bob', isTyping: true });
    await expectQuiet(all);
    ann.emit('typing', { to: 'Bob', isTyping: false });
    await expectRooms(only(all, each([bob, bob2], [dmTyping('Ann', false)])));
    // Expiry.
    bob2.emit('typing', { to: 'Ann', isTyping: true });
    await expectRooms(only(all, each([ann, ann2], [dmTyping('Bob', true)])));
    await ann.waitFor('user_typing', LEASE_MS + WAIT_MS);
    await expectRooms(only(all, each([ann, ann2], [dmTyping('Bob', false)])));
  }));

  test('a private_message to that user ends it, just before the message; the typing socket\'s disconnect ends it', () => run(async (scene) => {
    const { ann, ann2, bob, bob2, all } = await cast(scene);
    ann.emit('typing', { to: 'Bob', isTyping: true });
    await expectRooms(only(all, each([bob, bob2], [dmTyping('Ann', true)])));
    await ann2.call('private_message', { toUsername: 'Bob', message: 'typed' });
    const toBob = privateMessage(1, ann, bob, 'typed');
    const mine = privateMessage(1, ann, bob, 'typed', { isSelf: true });
    await expectRooms(only(all, new Map([[ann, [mine]], [ann2, [mine]], [bob, [dmTyping('Ann', false), toBob]], [bob2, [dmTyping('Ann', false), toBob]]])));
    await expectQuiet(all, { quietMs: LEASE_MS + 300 });

    bob.emit('typing', { to: 'Ann', isTyping: true });
    await expectRooms(only(all, each([ann, ann2], [dmTyping('Bob', true)])));
    bob.close();
    const rest = all.filter((c) => c !== bob);
    await expectRooms(only(rest, each([ann, ann2], [dmTyping('Bob', false)])));
  }));

  test('a message in a room does not end DM typing, and a DM to someone else does not either', () => runLongLease(async (scene) => {
    const { ann, bob, bob2, all } = await cast(scene);
    ann.emit('typing', { to: 'Bob', isTyping: true });
    await expectRooms(only(all, each([bob, bob2], [dmTyping('Ann', true)])));
    await ann.call('send_message', { room: 'rust', message: 'room' });
    await ann.call('private_message', { toUsername: 'Cid', message: 'other dm' });
    await settle(all);
    ann.emit('typing', { to: 'Bob', isTyping: false });
    await expectRooms(only(all, each([bob, bob2], [dmTyping('Ann', false)])));
  }));
});

describe('typing in general', { concurrency: CONCURRENCY }, () => {
  test('typing {room:"general"}: userTyping / userStoppedTyping to lobby-family sockets, user_typing to rooms-family ones', () => run(async (scene) => {
    const { ann, annL, bob, bob2, cid, lob, lurker, all: everyone } = await cast(scene);
    // (Ann's own lobby-family tab is left out: "except the typer's own" in the lobby's table
    // does not say whether the typer's other lobby tabs hear it; this server tells them.)
    const all = everyone.filter((c) => c !== annL);
    ann.emit('typing', { room: 'general', isTyping: true });
    const roomsGet = (t) => [roomTyping('Ann', 'general', t)];
    await expectRooms(only(all, new Map([
      ...[bob, bob2, cid].map((c) => [c, roomsGet(true)]),
      ...[lob, lurker].map((c) => [c, [['userTyping', 'Ann']]]),
    ])));
    ann.emit('typing', { room: 'general', isTyping: false });
    await expectRooms(only(all, new Map([
      ...[bob, bob2, cid].map((c) => [c, roomsGet(false)]),
      ...[lob, lurker].map((c) => [c, [['userStoppedTyping', 'Ann']]]),
    ])));
  }));

  test('lobby typing / stopTyping / chat from a lobby-family user: user_typing room "general" for rooms-family sockets', () => run(async (scene) => {
    const { ann, ann2, annL, bob, bob2, cid, lob, lurker, all } = await cast(scene);
    const roomsSide = [ann, ann2, bob, bob2, cid];
    const lobbySide = [annL, lurker];
    lob.emit('typing');
    await expectRooms(only(all, new Map([
      ...roomsSide.map((c) => [c, [roomTyping('Lob', 'general', true)]]),
      ...lobbySide.map((c) => [c, [['userTyping', 'Lob']]]),
    ])));
    lob.emit('stopTyping');
    await expectRooms(only(all, new Map([
      ...roomsSide.map((c) => [c, [roomTyping('Lob', 'general', false)]]),
      ...lobbySide.map((c) => [c, [['userStoppedTyping', 'Lob']]]),
    ])));
    lob.emit('typing');
    await expectRooms(only(all, new Map([
      ...roomsSide.map((c) => [c, [roomTyping('Lob', 'general', true)]]),
      ...lobbySide.map((c) => [c, [['userTyping', 'Lob']]]),
    ])));
    lob.emit('chat', 'hello');
    await ann.waitFor('receive_message');
    const lobId = ann.raw.find(([e]) => e === 'receive_message')[1].userId;
    const m = receive(1, { name: 'Lob', userId: lobId }, 'general', 'hello');
    await expectRooms(only(all, new Map([
      ...roomsSide.map((c) => [c, [roomTyping('Lob', 'general', false), m]]),
      ...lobbySide.map((c) => [c, [['userStoppedTyping', 'Lob'], lobbyChat('Lob', 'hello')]]),
      [lob, [lobbyChat('Lob', 'hello')]],
    ])));
  }));

  test('a rooms-family user\'s send_message in general ends their general typing, for both families', () => run(async (scene) => {
    const { ann, ann2, annL, bob, bob2, cid, lob, lurker, all: everyone } = await cast(scene);
    // (Ann's own lobby-family tab is left out: "except the typer's own" in the lobby's table
    // does not say whether the typer's other lobby tabs hear it; this server tells them.)
    const all = everyone.filter((c) => c !== annL);
    ann.emit('typing', { room: 'general', isTyping: true });
    await settle(everyone);
    await ann.call('send_message', { room: 'general', message: 'said' });
    const m = receive(1, ann, 'general', 'said');
    await expectRooms(only(all, new Map([
      ...[bob, bob2, cid].map((c) => [c, [roomTyping('Ann', 'general', false), m]]),
      ...[ann, ann2].map((c) => [c, [m]]),
      ...[lob, lurker].map((c) => [c, [['userStoppedTyping', 'Ann'], lobbyChat('Ann', 'said')]]),
    ])));
    await expectRooms([[annL, [lobbyChat('Ann', 'said')]]], { ignore: ['userStoppedTyping'] });
  }));

  test('typing with no payload from a rooms-family socket keeps meaning the lobby', () => run(async (scene) => {
    const { ann, annL, bob, bob2, cid, lob, lurker, all: everyone } = await cast(scene);
    // (Ann's own lobby-family tab is left out: "except the typer's own" in the lobby's table
    // does not say whether the typer's other lobby tabs hear it; this server tells them.)
    const all = everyone.filter((c) => c !== annL);
    ann.emit('typing');
    await expectRooms(only(all, new Map([
      ...[bob, bob2, cid].map((c) => [c, [roomTyping('Ann', 'general', true)]]),
      ...[lob, lurker].map((c) => [c, [['userTyping', 'Ann']]]),
    ])));
    ann.emit('stopTyping');
    await expectRooms(only(all, new Map([
      ...[bob, bob2, cid].map((c) => [c, [roomTyping('Ann', 'general', false)]]),
      ...[lob, lurker].map((c) => [c, [['userStoppedTyping', 'Ann']]]),
    ])));
  }));
});
