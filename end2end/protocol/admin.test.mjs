// The administrators' namespace (`/admin`, with the server's `--admin-token`), through the
// official socket.io-client: who may connect (the token, and nobody on a server without
// one); `list_users` (users online with their sockets and transports); `kick_user` by name
// and by socket id (sessionEnded `kicked`, then the sockets closed, the others told, the
// session dead, the name free); `delete_message` in general and in a DM (message_deleted
// to exactly the conversation's sockets of both families, gone from history, which says it
// was deleted); `announce` (to every logged-in socket of both families); the refusals; and
// events without an acknowledgement, which change nothing. A fresh server for every test.

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';

import { io } from 'socket.io-client';

import {
  Client, TRANSPORTS, WAIT_MS, assertServerServes, sessionEnded, sleep, withCookie, withServer,
} from './helpers.mjs';
import {
  TIME, ack, anonymous, expectQuiet, expectRooms, lobbyUser, rawOf, refusedAck, registerUser, rooms, sessionTab,
  sessionUser, settle, waitEvent,
} from './rooms-helpers.mjs';

const CONCURRENCY = 3;
const GRACE_MS = 800;
const TOKEN = randomBytes(24).toString('base64url');
const ADMIN_ARGS = ['--admin-token', TOKEN, '--session-grace-ms', String(GRACE_MS)];
const run = (fn) => withServer({ args: ADMIN_ARGS }, fn);

/** An administrator's socket, connected with the token; closed with the scene. */
async function adminOf(scene, { token = TOKEN, options = TRANSPORTS[0].options, label = 'admin' } = {}) {
  const client = new Client(`${scene.url}/admin`, label, { ...options, auth: { token } });
  scene.open.push(client);
  await client.connected();
  return client;
}

/**
 * Connects to `/admin` with these socket.io-client options and expects a refusal: resolves
 * with the connect_error's message, after checking that the socket received nothing.
 */
async function refusedAdmin(url, options) {
  const socket = io(`${url}/admin`, { forceNew: true, reconnection: false, timeout: 5_000, ...options });
  const received = [];
  socket.onAny((event, ...args) => received.push([event, ...args]));
  try {
    const error = await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`/admin ${JSON.stringify(options)}: neither connect nor connect_error`)), WAIT_MS);
      socket.once('connect', () => {
        clearTimeout(timer);
        reject(new Error(`/admin ${JSON.stringify(options)}: connected`));
      });
      socket.once('connect_error', (e) => {
        clearTimeout(timer);
        resolve(e);
      });
    });
    assert.deepStrictEqual(received, [], 'a refused admin socket receives nothing');
    return error.message;
  } finally {
    socket.close();
  }
}

/** Records whether `client` had its sessionEnded before it was disconnected. */
function watchEnding(client) {
  client.endedFirst = null;
  client.socket.once('disconnect', () => {
    client.endedFirst = client.raw.some(([event]) => event === 'sessionEnded');
  });
  return client;
}

/** Asserts that `client` got sessionEnded `kicked`, then was disconnected by the server. */
async function assertKicked(client) {
  await client.waitFor(([event, payload]) => event === 'sessionEnded' && payload?.reason === 'kicked');
  assert.equal(await client.waitForDisconnect(), 'io server disconnect', `${client.label}: disconnect reason`);
  assert.equal(client.endedFirst, true, `${client.label}: sessionEnded before the disconnect`);
  const ended = client.take().filter(([event]) => event === 'sessionEnded');
  assert.deepStrictEqual(ended, [sessionEnded('kicked')], `${client.label}: sessionEnded once`);
  const [, payload] = client.raw.find(([event]) => event === 'sessionEnded');
  assert.equal(payload.message, 'A moderator removed you from the chat.');
}

/** Asks `list_users` until `done(reply)` holds (the hub applies a disconnect soon after it). */
async function listedWhen(admin, done, what) {
  const deadline = performance.now() + WAIT_MS;
  for (;;) {
    const reply = await admin.call('list_users');
    if (done(reply)) return reply;
    if (performance.now() > deadline) throw new Error(`list_users never showed ${what}: ${JSON.stringify(reply)}`);
    await sleep(20);
  }
}

/** The ids of a history answer's messages. */
const idsOf = (reply) => (reply.messages ?? []).map((m) => m.id);

describe('who may connect to /admin', { concurrency: CONCURRENCY }, () => {
  test('without a token, with a wrong one, on either transport: connect_error unauthorized, and nothing else happens', () => run(async (scene) => {
    const watcher = await sessionUser(scene, 'watcher', 'Wat');
    await settle([watcher]);
    const attempts = [
      ['no auth', {}],
      ['auth without a token', { auth: {} }],
      ['an empty token', { auth: { token: '' } }],
      ['a wrong token', { auth: { token: randomBytes(24).toString('base64url') } }],
      ['the token with one character more', { auth: { token: `${TOKEN}x` } }],
      ['a number', { auth: { token: 42 } }],
    ];
    const got = [];
    for (const { label, options } of TRANSPORTS) {
      for (const [what, auth] of attempts) got.push([`${what} (${label})`, await refusedAdmin(scene.url, { ...options, ...auth })]);
    }
    assert.deepStrictEqual(got, got.map(([what]) => [what, 'unauthorized']));
    await expectQuiet([watcher]);
    // The chat goes on, and the right token still gets in.
    await assertServerServes(scene, 'Zed');
    const admin = await adminOf(scene);
    assert.equal((await admin.call('list_users')).ok, true);
  }));

  test('an event sent the moment the connection opens is answered, on either transport', () => run(async (scene) => {
    // socket.io-client holds an emit made before it is connected and sends it as soon as
    // the server's CONNECT arrives: the handler must be in place by then, not registered
    // afterwards (socketioxide runs an async connect handler as a task of its own, after
    // sending CONNECT). A late registration loses the race only now and then; many
    // sockets at once give it more chances to show.
    const SOCKETS = 12;
    const sockets = [];
    try {
      const replies = [];
      for (const { options } of TRANSPORTS) {
        for (let i = 0; i < SOCKETS; i += 1) {
          const socket = io(`${scene.url}/admin`, { forceNew: true, reconnection: false, ...options, auth: { token: TOKEN } });
          sockets.push(socket);
          replies.push(socket.timeout(WAIT_MS).emitWithAck('list_users').then((r) => r.ok, (e) => e.message));
        }
      }
      assert.deepStrictEqual(await Promise.all(replies), replies.map(() => true));
    } finally {
      for (const socket of sockets) socket.close();
    }
  }));

  test('a server started without --admin-token lets nobody in', () => withServer({}, async (scene) => {
    const got = [];
    for (const auth of [{}, { auth: { token: '' } }, { auth: { token: TOKEN } }]) {
      got.push(await refusedAdmin(scene.url, { ...TRANSPORTS[0].options, ...auth }));
    }
    assert.deepStrictEqual(got, ['unauthorized', 'unauthorized', 'unauthorized']);
    await assertServerServes(scene, 'Zed');
  }));
});

describe('list_users', { concurrency: CONCURRENCY }, () => {
  for (const { label, options } of TRANSPORTS) {
    test(`the users online, each with their sockets, transports and node (admin over ${label})`, () => run(async (scene) => {
      const ann = await sessionUser(scene, 'ann', 'Ann');
      const annPolling = await sessionTab(scene, 'ann (polling only)', ann, { options: { transports: ['polling'] } });
      const bob = await lobbyUser(scene, 'bob (login)', 'Bob');
      await anonymous(scene, 'nobody (rooms)');
      await anonymous(scene, 'nobody (lobby)', { family: 'lobby' });
      const admin = await adminOf(scene, { options });

      const reply = await admin.call('list_users');
      assert.equal(reply.ok, true, JSON.stringify(reply));
      assert.equal(reply.complete, true);
      assert.ok(Array.isArray(reply.nodes) && reply.nodes.length === 1 && typeof reply.nodes[0] === 'string', `nodes ${JSON.stringify(reply.nodes)}`);
      const [node] = reply.nodes;
      for (const user of reply.users) {
        assert.ok(Number.isInteger(user.userId) && user.userId > 0, `userId of ${user.username}`);
        for (const socket of user.sockets) {
          assert.equal(socket.node, node, `node of ${socket.id}`);
          assert.ok(socket.address === null || typeof socket.address === 'string', `address ${socket.address}`);
          if (socket.address !== null) assert.match(socket.address, /127\.0\.0\.1/);
        }
      }
      const byId = (a, b) => (a.id < b.id ? -1 : 1);
      const shown = reply.users.map((u) => ({
        username: u.username,
        status: u.status,
        sockets: u.sockets.map(({ id, transport }) => ({ id, transport })).sort(byId),
      }));
      assert.deepStrictEqual(shown, [
        {
          username: 'Ann',
          status: 'online',
          sockets: [
            { id: ann.socket.id, transport: 'websocket' },
            { id: annPolling.socket.id, transport: 'polling' },
          ].sort(byId),
        },
        { username: 'Bob', status: 'online', sockets: [{ id: bob.socket.id, transport: 'websocket' }] },
      ], 'in order of user id, logged-in sockets only');
      assert.equal(reply.users[0].userId, ann.userId);

      // Ann's tabs say away: her status says so; Bob leaves: he is gone.
      for (const tab of [ann, annPolling]) assert.equal((await tab.call('set_presence', { status: 'away' })).ok, true);
      bob.close();
      const later = await listedWhen(admin, (r) => !r.users.some((u) => u.username === 'Bob'), 'Bob gone');
      assert.deepStrictEqual(later.users.map((u) => [u.username, u.status]), [['Ann', 'away']]);
    }));
  }
});

describe('kick_user', { concurrency: CONCURRENCY }, () => {
  /** Ann with two rooms-family tabs (one polling only) and a lobby-family tab; Bob (rooms) and Cid (lobby) watch. */
  async function scene3(scene) {
    const ann = watchEnding(await sessionUser(scene, 'ann', 'Ann'));
    const annPolling = watchEnding(await sessionTab(scene, 'ann (polling only)', ann, { options: { transports: ['polling'] } }));
    const annLobby = watchEnding(await sessionTab(scene, 'ann (lobby)', ann, { family: 'lobby' }));
    const bob = await sessionUser(scene, 'bob', 'Bob');
    const cid = await lobbyUser(scene, 'cid (login)', 'Cid');
    const admin = await adminOf(scene);
    await settle([ann, annPolling, annLobby, bob, cid, admin]);
    return { ann, annPolling, annLobby, tabs: [ann, annPolling, annLobby], bob, cid, admin };
  }

  /** What the others see when Ann is gone; then her cookie is dead and her name free. */
  async function assertAnnGone(scene, { ann, bob, cid }) {
    await waitEvent(bob, 'user_left', { username: 'Ann', room: 'general', reason: 'offline' });
    await waitEvent(bob, 'presence_changed', { username: 'Ann', status: 'offline' });
    await cid.waitFor(([event, name]) => event === 'userLeft' && name === 'Ann');
    assert.ok(bob.socket.connected && cid.socket.connected, 'the others stay connected');
    assert.deepStrictEqual([...rawOf(bob, 'sessionEnded'), ...rawOf(cid, 'sessionEnded')], []);

    // The session is over: its cookie is refused, in either family.
    const stale = await scene.connect('ann again (old cookie)', rooms(withCookie(ann.cookie)));
    await stale.waitFor(([event, payload]) => event === 'sessionEnded' && payload?.reason === 'unknownSession');
    const staleLobby = await scene.connect('ann again (old cookie, lobby)', withCookie(ann.cookie));
    await staleLobby.waitFor(([event, payload]) => event === 'sessionEnded' && payload?.reason === 'unknownSession');
    assert.deepStrictEqual(rawOf(stale, 'welcome'), []);

    // The name is free: a new log-in as Ann is a new user.
    const newAnn = await sessionUser(scene, 'new ann', 'Ann');
    assert.notEqual(newAnn.userId, ann.userId, 'a different user');
  }

  test('by username: every socket of the user gets sessionEnded kicked and is closed; the others see them leave', () => run(async (scene) => {
    const s = await scene3(scene);
    const reply = await s.admin.call('kick_user', { username: 'Ann' });
    assert.deepStrictEqual(reply, { ok: true, username: 'Ann', userId: s.ann.userId });
    for (const tab of s.tabs) await assertKicked(tab);
    await assertAnnGone(scene, s);
    // Listed: Bob, Cid, and the new Ann, who is not the kicked user.
    const listed = await s.admin.call('list_users');
    assert.deepStrictEqual(
      listed.users.map((u) => [u.username, u.userId === s.ann.userId]),
      [['Bob', false], ['Cid', false], ['Ann', false]],
    );
  }));

  test('by username ignores case, like names do', () => run(async (scene) => {
    const s = await scene3(scene);
    const reply = await s.admin.call('kick_user', { username: 'aNN' });
    assert.deepStrictEqual(reply, { ok: true, username: 'Ann', userId: s.ann.userId });
    for (const tab of s.tabs) await assertKicked(tab);
  }));

  test('by socketId of a logged-in socket: its user, every socket of theirs', () => run(async (scene) => {
    const s = await scene3(scene);
    const reply = await s.admin.call('kick_user', { socketId: s.annPolling.socket.id });
    assert.deepStrictEqual(reply, { ok: true, username: 'Ann', userId: s.ann.userId });
    for (const tab of s.tabs) await assertKicked(tab);
    await assertAnnGone(scene, s);
  }));

  test('by socketId of a socket that never logged in: that socket is closed, nobody else is touched', () => run(async (scene) => {
    const s = await scene3(scene);
    const lurker = await anonymous(scene, 'lurker (rooms)');
    const lobbyLurker = await anonymous(scene, 'lurker (lobby)', { family: 'lobby' });
    for (const target of [lurker, lobbyLurker]) {
      const reply = await s.admin.call('kick_user', { socketId: target.socket.id });
      assert.deepStrictEqual(reply, { ok: true }, `${target.label}: no username`);
      assert.equal(await target.waitForDisconnect(), 'io server disconnect');
    }
    await expectQuiet([...s.tabs, s.bob, s.cid]);
    for (const client of [...s.tabs, s.bob, s.cid]) assert.ok(client.socket.connected, `${client.label} still connected`);
  }));

  test('refusals: unknownSocket, unknownUser; nothing changes', () => run(async (scene) => {
    const s = await scene3(scene);
    const got = [];
    for (const payload of [{ socketId: 'no-such-socket' }, { username: 'Nobody' }]) got.push(ack(await s.admin.call('kick_user', payload)));
    assert.deepStrictEqual(got, [refusedAck('unknownSocket'), refusedAck('unknownUser')]);
    await expectQuiet([...s.tabs, s.bob, s.cid]);
    for (const client of [...s.tabs, s.bob, s.cid]) assert.ok(client.socket.connected, `${client.label} still connected`);
  }));
});

describe('delete_message', { concurrency: CONCURRENCY }, () => {
  test('in general: message_deleted to the sockets of both families, gone from history, which says it was deleted', () => run(async (scene) => {
    const ann = await sessionUser(scene, 'ann', 'Ann');
    const annLobby = await sessionTab(scene, 'ann (lobby)', ann, { family: 'lobby' });
    const bob = await registerUser(scene, 'bob', 'Bob');
    const cid = await lobbyUser(scene, 'cid (login)', 'Cid');
    const admin = await adminOf(scene);
    const sent = [];
    for (const text of ['one', 'two', 'three']) sent.push((await ann.call('send_message', { room: 'general', message: text })).id);
    const everyone = [ann, annLobby, bob, cid];
    await settle([...everyone, admin]);
    const [, doomed, last] = sent;

    const reply = await admin.call('delete_message', { room: 'general', id: doomed });
    assert.equal(reply.ok, true, JSON.stringify(reply));
    await expectRooms(everyone.map((c) => [c, [['message_deleted', { room: 'general', id: doomed }]]]));

    // Gone from every kind of read, each of which says which id of its stretch was deleted.
    for (const [what, client, payload] of [
      ['newest page of general', bob, { room: 'general' }],
      ['catch-up of general', bob, { room: 'general', after: doomed - 1 }],
      ['page before the last', bob, { room: 'general', before: last }],
      ['the lobby\'s history', cid, {}],
      ['the lobby\'s catch-up', cid, { after: doomed - 1 }],
    ]) {
      const history = await client.call('history', payload);
      assert.equal(history.ok, true, `${what}: ${JSON.stringify(history)}`);
      assert.ok(!idsOf(history).includes(doomed), `${what}: ${JSON.stringify(idsOf(history))}`);
      assert.ok(Array.isArray(history.deleted) && history.deleted.includes(doomed), `${what}: deleted ${JSON.stringify(history.deleted)}`);
      assert.ok(!JSON.stringify(history).includes('"two"'), `${what}: its text is gone`);
    }
    const rest = await bob.call('history', { room: 'general' });
    assert.deepStrictEqual(idsOf(rest), sent.filter((id) => id !== doomed));

    // Ids stay gap-free: the next message gets the next id.
    const next = await ann.call('send_message', { room: 'general', message: 'four' });
    assert.equal(next.id, last + 1);

    // Twice, or an id that never was: unknownMessage, nobody told.
    await settle(everyone);
    const again = [];
    for (const id of [doomed, last + 100]) again.push(ack(await admin.call('delete_message', { room: 'general', id })));
    assert.deepStrictEqual(again, [refusedAck('unknownMessage'), refusedAck('unknownMessage')]);
    await expectQuiet(everyone);
  }));

  test('in a room: only its members\' sockets are told', () => run(async (scene) => {
    const ann = await registerUser(scene, 'ann', 'Ann', { joins: ['rust'] });
    const bob = await registerUser(scene, 'bob', 'Bob', { joins: ['rust'] });
    const cid = await registerUser(scene, 'cid', 'Cid');
    const dan = await lobbyUser(scene, 'dan (login)', 'Dan');
    const admin = await adminOf(scene);
    const { id } = await ann.call('send_message', { room: 'rust', message: 'in rust' });
    await settle([ann, bob, cid, dan, admin]);
    assert.equal((await admin.call('delete_message', { room: 'rust', id })).ok, true);
    const told = ['message_deleted', { room: 'rust', id }];
    await expectRooms([[ann, [told]], [bob, [told]], [cid, []], [dan, []]]);
    const history = await cid.call('history', { room: 'rust' });
    assert.deepStrictEqual([idsOf(history), history.deleted], [[], [id]]);
  }));

  test('in a DM: each party told, naming the other; nobody else', () => run(async (scene) => {
    const ann = await sessionUser(scene, 'ann', 'Ann');
    const ann2 = await sessionTab(scene, 'ann tab 2', ann);
    const annLobby = await sessionTab(scene, 'ann (lobby)', ann, { family: 'lobby' });
    const bob = await sessionUser(scene, 'bob', 'Bob');
    const cid = await registerUser(scene, 'cid', 'Cid');
    const dan = await lobbyUser(scene, 'dan (login)', 'Dan');
    const admin = await adminOf(scene);
    const first = await ann.call('private_message', { toUsername: 'Bob', message: 'psst' });
    const second = await bob.call('private_message', { toUsername: 'Ann', message: 'what?' });
    const everyone = [ann, ann2, annLobby, bob, cid, dan];
    await settle([...everyone, admin]);

    // The two names as any case spells them, like names everywhere.
    assert.equal((await admin.call('delete_message', { with: ['ann', 'bob'], id: first.id })).ok, true);
    const toAnn = ['message_deleted', { with: 'Bob', id: first.id }];
    const toBob = ['message_deleted', { with: 'Ann', id: first.id }];
    await expectRooms([[ann, [toAnn]], [ann2, [toAnn]], [bob, [toBob]], [annLobby, []], [cid, []], [dan, []]]);
    for (const [client, other] of [[ann, 'Bob'], [bob, 'Ann']]) {
      const history = await client.call('history', { with: other });
      assert.deepStrictEqual([idsOf(history), history.deleted], [[second.id], [first.id]], `${client.label}'s history`);
    }
    // The pair in the other order is the same conversation.
    assert.equal((await admin.call('delete_message', { with: ['Bob', 'Ann'], id: second.id })).ok, true);
    await expectRooms([
      [ann, [['message_deleted', { with: 'Bob', id: second.id }]]],
      [ann2, [['message_deleted', { with: 'Bob', id: second.id }]]],
      [bob, [['message_deleted', { with: 'Ann', id: second.id }]]],
      [annLobby, []], [cid, []], [dan, []],
    ]);
  }));

  test('in a DM named by user ids: found after a kick, when the name is someone else\'s', () => run(async (scene) => {
    const ann = watchEnding(await sessionUser(scene, 'ann', 'Ann'));
    const bob = await sessionUser(scene, 'bob', 'Bob');
    const admin = await adminOf(scene);
    const old = await ann.call('private_message', { toUsername: 'Bob', message: 'abuse' });
    await settle([ann, bob, admin]);
    assert.deepStrictEqual((await admin.call('kick_user', { username: 'Ann' })).ok, true);
    await assertKicked(ann);
    // A new Ann, in a DM with Bob of her own, whose first id is the kicked Ann's too.
    const newAnn = await sessionUser(scene, 'new ann', 'Ann');
    const hers = await newAnn.call('private_message', { toUsername: 'Bob', message: 'hello' });
    assert.equal(hers.id, old.id, 'ids count within each conversation');
    await settle([newAnn, bob, admin]);

    assert.deepStrictEqual(
      ack(await admin.call('delete_message', { with: [ann.userId, bob.userId], id: old.id })),
      { ok: true },
    );
    await expectRooms([[bob, [['message_deleted', { with: 'Ann', id: old.id }]]], [newAnn, []]]);
    const history = await newAnn.call('history', { with: 'Bob' });
    assert.deepStrictEqual([idsOf(history), history.deleted], [[hers.id], undefined], "the new Ann's DM is untouched");
    // Deleted already; a user id nobody has; a name and an id together.
    const got = [];
    for (const payload of [
      { with: [bob.userId, ann.userId], id: old.id },
      { with: [987654321, bob.userId], id: old.id },
      { with: ['Bob', newAnn.userId], id: hers.id },
    ]) got.push(ack(await admin.call('delete_message', payload)));
    assert.deepStrictEqual(got, [refusedAck('unknownMessage'), refusedAck('unknownUser'), { ok: true }]);
  }));

  test('refusals: badRequest, unknownConversation; nothing changes', () => run(async (scene) => {
    const ann = await registerUser(scene, 'ann', 'Ann');
    const bob = await lobbyUser(scene, 'bob (login)', 'Bob');
    const admin = await adminOf(scene);
    const { id } = await ann.call('send_message', { room: 'general', message: 'stays' });
    await settle([ann, bob, admin]);
    const cases = [
      [{}, 'badRequest'],
      [{ id: 'x' }, 'badRequest'],
      [{ room: 'general' }, 'badRequest'],
      [{ room: 'general', id: 'x' }, 'badRequest'],
      [{ room: 'general', id: -1 }, 'badRequest'],
      [{ room: 'general', id: 1.5 }, 'badRequest'],
      [{ room: 'general', with: ['Ann', 'Bob'], id }, 'badRequest'],
      [{ with: ['Ann'], id }, 'badRequest'],
      [{ with: 'Ann', id }, 'badRequest'],
      ['general', 'badRequest'],
      [null, 'badRequest'],
      [{ room: 'nosuchroom', id }, 'unknownConversation'],
    ];
    const got = [];
    const want = [];
    for (const [payload, reason] of cases) {
      got.push([JSON.stringify(payload), ack(await admin.call('delete_message', payload))]);
      want.push([JSON.stringify(payload), refusedAck(reason)]);
    }
    assert.deepStrictEqual(got, want);
    await expectQuiet([ann, bob]);
    assert.deepStrictEqual(idsOf(await ann.call('history', { room: 'general' })), [id]);
  }));
});

describe('announce', { concurrency: CONCURRENCY }, () => {
  test('to every logged-in socket of both families, once, as sent', () => run(async (scene) => {
    const ann = await sessionUser(scene, 'ann', 'Ann');
    const annLobby = await sessionTab(scene, 'ann (lobby)', ann, { family: 'lobby' });
    const bob = await registerUser(scene, 'bob', 'Bob', { options: { transports: ['polling'] } });
    const cid = await lobbyUser(scene, 'cid (login)', 'Cid');
    const nobody = await anonymous(scene, 'nobody (rooms)');
    const admin = await adminOf(scene);
    const loggedIn = [ann, annLobby, bob, cid];
    await settle([...loggedIn, nobody, admin]);

    const message = 'Maintenance at 5: <b>save your work</b> & "log out" 🙂';
    const reply = await admin.call('announce', { message });
    assert.equal(reply.ok, true, JSON.stringify(reply));
    await expectRooms([...loggedIn.map((c) => [c, [['announcement', { message, time: TIME }]]]), [nobody, []]]);

    // At the limit of 2,000 characters (not bytes), still fine.
    const long = 'é'.repeat(2000);
    assert.equal((await admin.call('announce', { message: long })).ok, true);
    await expectRooms([...loggedIn.map((c) => [c, [['announcement', { message: long, time: TIME }]]]), [nobody, []]]);
  }));

  test('refusals: emptyMessage, messageTooLong, badRequest; nobody told', () => run(async (scene) => {
    const ann = await registerUser(scene, 'ann', 'Ann');
    const bob = await lobbyUser(scene, 'bob (login)', 'Bob');
    const admin = await adminOf(scene);
    await settle([ann, bob, admin]);
    const cases = [
      [{ message: '' }, 'emptyMessage'],
      [{ message: ' \t\n ' }, 'emptyMessage'],
      [{ message: 'x'.repeat(2001) }, 'messageTooLong'],
      [{ message: 'é'.repeat(2001) }, 'messageTooLong'],
      [{ message: 42 }, 'badRequest'],
      [{}, 'badRequest'],
      ['hello', 'badRequest'],
    ];
    const got = [];
    const want = [];
    for (const [payload, reason] of cases) {
      got.push([JSON.stringify(payload).slice(0, 40), ack(await admin.call('announce', payload))]);
      want.push([JSON.stringify(payload).slice(0, 40), refusedAck(reason)]);
    }
    assert.deepStrictEqual(got, want);
    await expectQuiet([ann, bob]);
  }));
});

describe('events without an acknowledgement', { concurrency: CONCURRENCY }, () => {
  test('kick_user, delete_message and announce without one change nothing', () => run(async (scene) => {
    const ann = await sessionUser(scene, 'ann', 'Ann');
    const bob = await lobbyUser(scene, 'bob (login)', 'Bob');
    const admin = await adminOf(scene);
    const { id } = await ann.call('send_message', { room: 'general', message: 'stays' });
    await settle([ann, bob, admin]);

    admin.emit('kick_user', { username: 'Ann' });
    admin.emit('kick_user', { socketId: bob.socket.id });
    admin.emit('delete_message', { room: 'general', id });
    admin.emit('announce', { message: 'nobody hears this' });
    // Had any of them been acted on, it would show within this.
    assert.equal((await admin.call('list_users')).ok, true);
    await expectQuiet([ann, bob], { quietMs: 500 });
    for (const client of [ann, bob]) assert.ok(client.socket.connected, `${client.label} still connected`);
    const listed = await admin.call('list_users');
    assert.deepStrictEqual(listed.users.map((u) => u.username), ['Ann', 'Bob']);
    const history = await ann.call('history', { room: 'general' });
    assert.deepStrictEqual(idsOf(history), [id]);
    assert.deepStrictEqual(history.deleted ?? [], []);
    // The admin socket itself may be told why (an `error` event), nothing more.
    for (const [event] of admin.take()) assert.equal(event, 'error', `the admin socket got ${event}`);
  }));
});
