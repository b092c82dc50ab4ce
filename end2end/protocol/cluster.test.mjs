// Two real server processes sharing one Redis (a redis-server of the test's own) and one
// database, as the README's "Several servers" runs them: who is online agrees on both; a
// server killed with SIGKILL leaves no ghosts on the other (its users are announced gone
// once its presence lease runs out, 15 s); a server stopped with SIGTERM drains, its
// clients move to the other with no leave/join noise.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';

import net from 'node:net';

import { Client, createSession, until, withCookie } from './helpers.mjs';
import { startRedis } from './redis.mjs';
import { freshDatabase, startServer } from './server.mjs';

/** Asks `client` for onlineUsers until the answer, sorted, is `expected` (or 10 s pass). */
async function untilOnline(client, expected) {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const names = await new Promise((resolve) => {
      client.socket.once('onlineUsers', resolve);
      client.socket.emit('onlineUsers');
    });
    if (JSON.stringify([...names].sort()) === JSON.stringify(expected)) return;
    assert.ok(Date.now() < deadline, `${client.label}: online ${names}, never ${expected}`);
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

describe('a server shutting down (SIGTERM)', () => {
  const ctx = useTwoServers();

  test('drains: its clients move to the other server, with no leave or join noise, nothing lost', async () => {
    const [a, b] = ctx.servers;
    const target = { port: a.port };
    const lb = await balancer(target);
    try {
      const cookie = await createSession(lb.url, 'Ann');
      const ann = new Client(lb.url, 'ann', withCookie(cookie, { transports: ['websocket'], reconnection: true }));
      ctx.clients.push(ann);
      await ann.connected();
      await until(() => ann.events.some(([e]) => e === 'welcome'), 5_000, 'Ann welcomed on A');
      const bob = await loggedIn(b.url, 'Bob');
      ctx.clients.push(bob);
      await untilOnline(bob, ['Ann', 'Bob']);
      const noiseBefore = bob.events.length;

      target.port = b.port;
      await a.stop();
      await until(() => ann.events.filter(([e]) => e === 'welcome').length === 2, 15_000, 'Ann welcomed again, on B');
      const reply = await ann.socket.timeout(5_000).emitWithAck('chat', { text: 'after the move', clientId: 'm1' });
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

describe('two servers', () => {
  const ctx = useTwoServers();

  test('both list everyone, a chat crosses, and a killed server leaves no ghosts', async () => {
    const [a, b] = ctx.servers;
    const ann = await loggedIn(a.url, 'Ann');
    const bob = await loggedIn(b.url, 'Bob');
    ctx.clients.push(ann, bob);
    await untilOnline(ann, ['Ann', 'Bob']);
    await untilOnline(bob, ['Ann', 'Bob']);

    ann.emit('chat', 'from A');
    await until(() => bob.events.some(([e, p]) => e === 'chat' && p.message === 'from A'), 5_000, 'Bob hears A');

    const killedAt = Date.now();
    a.child.kill('SIGKILL');
    await a.exited;
    await until(
      () => bob.events.some(([e, name]) => e === 'userLeft' && name === 'Ann'),
      25_000,
      'Ann announced gone on B',
    );
    const took = Date.now() - killedAt;
    assert.ok(took < 20_000, `announced after ${took} ms`);
    assert.equal(bob.events.filter(([e, name]) => e === 'userLeft' && name === 'Ann').length, 1, 'once');
    await untilOnline(bob, ['Bob']);
  });
});
