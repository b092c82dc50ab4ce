// Two real server processes sharing one Redis (a redis-server of the test's own) and one
// database, as the README's "Several servers" runs them: who is online agrees on both; a
// server killed with SIGKILL mid-conversation loses nothing, its clients reconnect to the
// other, and it leaves no ghosts (its users are announced gone once its presence lease
// runs out, 15 s); a server stopped with SIGTERM drains, its clients move to the other
// with no leave/join noise and nothing lost or doubled; presence (presence_update and
// presence_changed) and read state (read_marker, messages_read) agree on both.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';

import net from 'node:net';

import { Client, createSession, until, withCookie } from './helpers.mjs';
import { startRedis } from './redis.mjs';
import { freshDatabase, startServer } from './server.mjs';

/** Asks `client` for onlineUsers until the answer, sorted, is `expected` (or 10 s pass). */
async function untilOnline(client, expected) {
  const deadline = performance.now() + 10_000;
  for (;;) {
    const names = await new Promise((resolve) => {
      client.socket.once('onlineUsers', resolve);
      client.socket.emit('onlineUsers');
    });
    if (JSON.stringify([...names].sort()) === JSON.stringify(expected)) return;
    assert.ok(performance.now() < deadline, `${client.label}: online ${names}, never ${expected}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function loggedIn(url, name) {
  const client = new Client(url, name, { transports: ['websocket'] });
  await client.connected();
  client.emit('login', name);
  await until(() => client.events.some(([event]) => event === 'welcome'), 5_000, `${name} welcomed`);
  return client;
}

/**
 * A TCP load balancer for one test: forwards each new connection to `target.port`, which
 * the test moves from one server to the other (as a balancer does once a server stops
 * being ready).
 */
async function balancer(target) {
  const proxy = net.createServer((downstream) => {
    const upstream = net.connect(target.port, '127.0.0.1');
    downstream.pipe(upstream).pipe(downstream);
    upstream.on('error', () => downstream.destroy());
    downstream.on('error', () => upstream.destroy());
  });
  proxy.listen(0, '127.0.0.1');
  await new Promise((resolve) => proxy.once('listening', resolve));
  return { url: `http://127.0.0.1:${proxy.address().port}`, close: () => proxy.close() };
}

/** Ann, with a session, connected through the balancer `lb` (reconnecting through it), once
 * welcomed. */
async function annThrough(lb, ctx) {
  const cookie = await createSession(lb.url, 'Ann');
  const ann = new Client(lb.url, 'ann', withCookie(cookie, { transports: ['websocket'], reconnection: true }));
  ctx.clients.push(ann);
  await ann.connected();
  await until(() => ann.events.some(([e]) => e === 'welcome'), 5_000, 'Ann welcomed');
  return ann;
}

/** Two servers on one Redis and one database; stopped (with the Redis) after the tests. */
function useTwoServers() {
  const ctx = { servers: [], clients: [] };
  let redis;
  let database;
  before(async () => {
    redis = await startRedis();
    database = freshDatabase();
    const args = ['--redis-url', redis.url, ...database.args];
    ctx.servers.push(await startServer({ args }), await startServer({ args }));
  });
  after(async () => {
    for (const client of ctx.clients) client.close();
    for (const server of ctx.servers) await server.stop();
    await redis?.stop();
    database?.cleanUp();
  });
  return ctx;
}

/** Sends `text` as `clientId` until the server acknowledges it stored (resending the same
 * client id across reconnections, as the web client does); returns the acknowledgement. */
async function sendUntilStored(client, text, clientId) {
  const deadline = performance.now() + 30_000;
  for (;;) {
    try {
      const reply = await client.socket.timeout(2_000).emitWithAck('chat', { text, clientId });
      if (reply?.ok) return reply;
    } catch {
      // No answer (the server died, or the socket is reconnecting): send again.
    }
    assert.ok(performance.now() < deadline, `${text} never stored`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/**
 * `client` (connected through the balancer whose `target` this is) chats m0…m11, each as
 * its own client id until stored. Mid-conversation, with m6 sent and not yet acknowledged,
 * the balancer turns to `next` and `end()` is awaited (the server the client is on stops
 * or dies); the client resends what was not acknowledged, as the web client does, once it
 * is on `next`. Returns the texts and their acknowledgements.
 */
async function chatThroughAnEnd(client, target, next, end) {
  const texts = Array.from({ length: 12 }, (_, i) => `m${i}`);
  const acks = [];
  for (const [i, text] of texts.entries()) {
    if (i === 6) {
      client.socket.emit('chat', { text, clientId: `c${i}` });
      target.port = next.port;
      await end();
    }
    acks.push(await sendUntilStored(client, text, `c${i}`));
  }
  return { texts, acks };
}

/**
 * Asserts that `texts`, acknowledged with `acks`, were stored once each and numbered in the
 * order sent; that `reader` heard each live at most once; and that what it missed live (sent
 * through a server as it went away) is in the history after it, as the web client fetches
 * it on a gap in the ids.
 */
async function assertStoredOnceInOrder(reader, texts, acks) {
  const ids = acks.map((reply) => reply.id);
  assert.deepEqual([...ids].sort((x, y) => x - y), ids, 'ids in the order sent');
  assert.equal(new Set(ids).size, ids.length, 'each stored once');
  const live = reader.raw.filter(([e, p]) => e === 'chat' && texts.includes(p?.message)).map(([, p]) => p);
  assert.equal(new Set(live.map((m) => m.id)).size, live.length, 'nothing doubled live');
  const history = await reader.call('history', { after: ids[0] - 1 });
  assert.equal(history.ok, true, JSON.stringify(history));
  assert.deepEqual(history.messages.map((m) => m.message ?? m.text), texts, 'nothing lost');
  assert.deepEqual(history.messages.map((m) => m.id), ids);
}

describe('a server shutting down (SIGTERM)', () => {
  const ctx = useTwoServers();

  test('drains: its clients move to the other server, with no leave or join noise, nothing lost', async () => {
    const [a, b] = ctx.servers;
    const target = { port: a.port };
    const lb = await balancer(target);
    try {
      const ann = await annThrough(lb, ctx);
      const bob = await loggedIn(b.url, 'Bob');
      ctx.clients.push(bob);
      await untilOnline(bob, ['Ann', 'Bob']);
      const noiseBefore = bob.events.length;

      // A begins to shut down as m6 is on its way to it; Ann goes on sending meanwhile.
      let stopped;
      const { texts, acks } = await chatThroughAnEnd(ann, target, b, () => {
        stopped = a.stop();
      });
      await stopped;
      await until(() => ann.events.filter(([e]) => e === 'welcome').length === 2, 15_000, 'Ann welcomed again, on B');
      await assertStoredOnceInOrder(bob, texts, acks);
      // Said on B, after the move: heard live.
      const reply = await ann.socket.timeout(5_000).emitWithAck('chat', { text: 'after the move', clientId: 'moved' });
      assert.equal(reply?.ok, true, JSON.stringify(reply));
      await until(
        () => bob.events.some(([e, p]) => e === 'chat' && p.message === 'after the move'),
        5_000,
        'Bob hears Ann on B',
      );
      await untilOnline(bob, ['Ann', 'Bob']);
      const noise = bob.events
        .slice(noiseBefore)
        .filter(([e, name]) => (e === 'userLeft' || e === 'userJoined') && name === 'Ann');
      assert.deepEqual(noise, [], 'no leave or join for Ann');
    } finally {
      lb.close();
    }
  });
});

/** Asks `client` (in a room's protocol) for `room`'s room_users until they are `expected`. */
async function untilRoomUsers(client, room, expected) {
  await until(
    () => {
      const lists = client.events.filter(([e, , r]) => e === 'room_users' && r?.room === room);
      const last = lists.at(-1)?.[1];
      return JSON.stringify([...(last ?? [])].sort()) === JSON.stringify(expected);
    },
    10_000,
    () => `${client.label}: room_users of ${room} to be ${expected}`,
  );
}

describe('a server killed (SIGKILL) mid-conversation', () => {
  const ctx = useTwoServers();

  test('its clients reconnect to the other, nothing lost or doubled; those who do not come back are gone everywhere, once, within the lease', async () => {
    const [a, b] = ctx.servers;
    const target = { port: a.port };
    const lb = await balancer(target);
    try {
      // Ann (a session, through the balancer) is on A and comes back; Lou (in rust, no
      // session) is on A and does not. Bob (the lobby) and Rex (rust) are on B.
      const ann = await annThrough(lb, ctx);
      const lou = new Client(a.url, 'lou', { transports: ['websocket'] });
      const rex = new Client(b.url, 'rex', { transports: ['websocket'] });
      ctx.clients.push(lou, rex);
      await lou.connected();
      await rex.connected();
      await lou.call('join_room', { username: 'Lou', room: 'rust' });
      await rex.call('join_room', { username: 'Rex', room: 'rust' });
      const bob = await loggedIn(b.url, 'Bob');
      ctx.clients.push(bob);
      await untilOnline(bob, ['Ann', 'Bob', 'Lou', 'Rex']);
      await untilRoomUsers(rex, 'rust', ['Lou', 'Rex']);

      // m6 is on its way to A when A dies.
      let killedAt;
      const { texts, acks } = await chatThroughAnEnd(ann, target, b, async () => {
        killedAt = performance.now();
        a.child.kill('SIGKILL');
        await a.exited;
      });
      await assertStoredOnceInOrder(bob, texts, acks);

      // Lou is gone, once, for the lobby and for rust; Ann, back on B, never left.
      await until(() => bob.events.some(([e, name]) => e === 'userLeft' && name === 'Lou'), 25_000, 'Lou announced gone on B');
      await until(() => rex.events.some(([e, p]) => e === 'user_left' && p.username === 'Lou' && p.room === 'rust'), 5_000, 'Lou left rust');
      const took = performance.now() - killedAt;
      assert.ok(took < 20_000, `announced after ${took} ms`);
      await untilRoomUsers(rex, 'rust', ['Rex']);
      await untilOnline(bob, ['Ann', 'Bob', 'Rex']);
      const left = (name) => bob.events.filter(([e, who]) => e === 'userLeft' && who === name).length;
      assert.equal(left('Lou'), 1, 'Lou once');
      assert.equal(left('Ann'), 0, 'Ann never left');
      assert.equal(
        rex.events.filter(([e, p]) => e === 'user_left' && p.username === 'Lou' && p.room === 'rust').length,
        1,
        'Lou left rust once',
      );
    } finally {
      lb.close();
    }
  });
});

describe('presence across servers', () => {
  const ctx = useTwoServers();

  test('presence_update and presence_changed agree on both servers: online, away, back, offline', async () => {
    const [a, b] = ctx.servers;
    const rex = new Client(a.url, 'rex', { transports: ['websocket'] });
    const dee = new Client(b.url, 'dee', { transports: ['websocket'] });
    ctx.clients.push(rex, dee);
    await rex.connected();
    await dee.connected();
    await rex.call('join_room', { username: 'Rex', room: 'rust' });
    // Dee logs in once Rex is listed on B, so B's presence_update must name him.
    const bob = await loggedIn(b.url, 'Bob');
    ctx.clients.push(bob);
    await untilOnline(bob, ['Bob', 'Rex']);
    await dee.call('join_room', { username: 'Dee', room: 'rust' });
    await until(() => dee.events.some(([e]) => e === 'presence_update'), 5_000, 'Dee gets presence_update');
    const listed = dee.events.find(([e]) => e === 'presence_update')[1];
    assert.deepEqual(
      [...listed].sort((x, y) => x.username.localeCompare(y.username)),
      [
        { username: 'Bob', status: 'online' },
        { username: 'Dee', status: 'online' },
        { username: 'Rex', status: 'online' },
      ],
      'B lists A’s user as online',
    );

    const changes = (client, name) =>
      client.events.filter(([e, p]) => e === 'presence_changed' && p.username === name).map(([, p]) => p.status);
    // Each change Rex makes on A reaches Dee on B, once and in order (and Dee's on B
    // reaches Rex on A).
    const steps = [
      ['away', ['away']],
      ['online', ['away', 'online']],
    ];
    for (const [status, seen] of steps) {
      const reply = await rex.call('set_presence', { status });
      assert.equal(reply?.ok, true, JSON.stringify(reply));
      await until(() => changes(dee, 'Rex').length === seen.length, 10_000, () => `Dee sees Rex ${seen}`);
      assert.deepEqual(changes(dee, 'Rex'), seen);
    }
    await dee.call('set_presence', { status: 'away' });
    await until(() => changes(rex, 'Dee').includes('away'), 10_000, 'Rex sees Dee away');

    // Rex (no session) goes offline at once when his socket closes: announced on B, once.
    rex.close();
    await until(() => changes(dee, 'Rex').includes('offline'), 10_000, 'Dee sees Rex offline');
    await untilOnline(bob, ['Bob', 'Dee']);
    assert.deepEqual(changes(dee, 'Rex'), ['away', 'online', 'offline']);
  });
});

describe('read state across servers', () => {
  const ctx = useTwoServers();

  test('a read marker moved on one server reaches the reader’s tab and the other party on the other, and holds there', async () => {
    const [a, b] = ctx.servers;
    const roomsTab = (url, label, options = {}) => {
      const client = new Client(url, label, { ...options, transports: ['websocket'], auth: { protocol: 'rooms' } });
      ctx.clients.push(client);
      return client;
    };
    // Ann has a session and a tab on each server; Bob is on B.
    const cookie = await createSession(a.url, 'Ann');
    const annA = roomsTab(a.url, 'annA', withCookie(cookie));
    const annB = roomsTab(b.url, 'annB', withCookie(cookie));
    const bob = roomsTab(b.url, 'bob');
    for (const tab of [annA, annB]) {
      await tab.connected();
      await until(() => tab.events.some(([e]) => e === 'welcome'), 5_000, `${tab.label} welcomed`);
      assert.equal((await tab.call('join_room', { room: 'general' }))?.ok, true);
    }
    await bob.connected();
    assert.equal((await bob.call('join_room', { username: 'Bob', room: 'general' }))?.ok, true);

    // Bob writes to Ann twice, from B; both of her tabs get both.
    const ids = [];
    for (const message of ['one', 'two']) {
      const reply = await bob.call('private_message', { toUsername: 'Ann', message });
      assert.equal(reply?.ok, true, JSON.stringify(reply));
      ids.push(reply.id);
    }
    const dms = (tab) => tab.events.filter(([e, p]) => e === 'private_message' && p.from === 'Bob').map(([, p]) => p.id);
    for (const tab of [annA, annB]) {
      await until(() => dms(tab).length === 2, 10_000, `${tab.label} gets both messages`);
      assert.deepEqual(dms(tab), ids, `${tab.label}: each once, in order`);
    }

    // Ann reads both on A: her tab on B and Bob on B are told.
    assert.deepEqual(await annA.call('mark_read', { with: 'Bob', id: ids[1] }), { ok: true, readUpTo: ids[1], unread: 0 });
    await until(
      () => annB.events.some(([e, p]) => e === 'read_marker' && p.with === 'Bob' && p.id === ids[1]),
      10_000,
      'Ann’s tab on B gets read_marker',
    );
    await until(
      () => bob.events.some(([e, p]) => e === 'messages_read' && p.by === 'Ann' && p.id === ids[1]),
      10_000,
      'Bob gets messages_read',
    );
    // On B the marker is where A put it: never moved back.
    assert.deepEqual(await annB.call('mark_read', { with: 'Bob', id: ids[0] }), { ok: true, readUpTo: ids[1], unread: 0 });
  });
});
