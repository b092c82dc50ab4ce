// The administrators' namespace across two real server processes sharing one Redis and one
// database: an administrator connected to one server sees the users of both (each socket
// with the server it is on), announces to everyone on both, deletes a message that clients
// on the other server drop, and kicks users connected to the other server, by socket id
// and by name.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';

import { Client, createSession, until, withCookie } from './helpers.mjs';
import { startRedis } from './redis.mjs';
import { freshDatabase, startServer } from './server.mjs';

const TOKEN = randomBytes(24).toString('base64url');

async function loggedIn(url, name, options = {}) {
  const client = new Client(url, name, { transports: ['websocket'], ...options });
  await client.connected();
  if (!options.extraHeaders) client.emit('login', name);
  await until(() => client.events.some(([event]) => event === 'welcome'), 5_000, `${name} welcomed`);
  return client;
}

/** `list_users` until it lists exactly `names` (sorted) from both servers (presence
 * reaches the other server within a tick). */
async function untilListed(admin, names) {
  const deadline = performance.now() + 10_000;
  for (;;) {
    const list = await admin.call('list_users');
    const listed = list.users.map((user) => user.username).sort();
    if (list.complete && list.nodes.length === 2 && JSON.stringify(listed) === JSON.stringify(names)) return list;
    assert.ok(performance.now() < deadline, `list_users never listed ${names} from two servers; last: ${JSON.stringify(list)}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('the admin namespace on two servers', () => {
  const servers = [];
  const clients = [];
  let redis;
  let database;
  before(async () => {
    redis = await startRedis();
    database = freshDatabase();
    const args = ['--redis-url', redis.url, '--admin-token', TOKEN, ...database.args];
    servers.push(await startServer({ args }), await startServer({ args }));
  });
  after(async () => {
    for (const client of clients) client.close();
    for (const server of servers) await server.stop();
    await redis?.stop();
    database?.cleanUp();
  });

  test('lists, announces, deletes and kicks across servers', async () => {
    const [a, b] = servers;
    const ann = await loggedIn(a.url, 'Ann');
    const bob = await loggedIn(b.url, 'Bob');
    const cookie = await createSession(b.url, 'Cat');
    const cat = await loggedIn(b.url, 'Cat', withCookie(cookie, { transports: ['websocket'] }));
    clients.push(ann, bob, cat);
    const admin = new Client(`${a.url}/admin`, 'admin', { transports: ['websocket'], auth: { token: TOKEN } });
    clients.push(admin);
    await admin.connected();

    const list = await untilListed(admin, ['Ann', 'Bob', 'Cat']);
    const byName = Object.fromEntries(list.users.map((user) => [user.username, user]));
    assert.deepStrictEqual(byName.Bob.sockets.map((s) => s.id), [bob.socket.id]);
    assert.deepStrictEqual(byName.Ann.sockets.map((s) => s.id), [ann.socket.id]);
    const [annNode, bobNode] = [byName.Ann.sockets[0].node, byName.Bob.sockets[0].node];
    assert.notStrictEqual(annNode, bobNode, 'each socket names the server it is on');
    assert.strictEqual(list.nodes[0], annNode, 'the server asked answers first');

    assert.deepStrictEqual(await admin.call('announce', { message: 'restart at noon' }), { ok: true });
    for (const client of [ann, bob, cat]) {
      const [, line] = await client.waitFor(([event]) => event === 'announcement');
      assert.strictEqual(line.message, 'restart at noon');
    }

    ann.emit('chat', 'a rude word');
    await until(() => bob.rawChats().length === 1, 5_000, 'Bob (other server) gets Ann\'s chat');
    const { id } = bob.rawChats()[0];
    assert.deepStrictEqual(await admin.call('delete_message', { room: 'general', id }), { ok: true });
    for (const client of [ann, bob, cat]) {
      const [, deleted] = await client.waitFor(([event]) => event === 'message_deleted');
      assert.deepStrictEqual(deleted, { room: 'general', id });
    }
    const history = await bob.call('history', {});
    assert.deepStrictEqual(history.messages, [], 'gone from history');
    assert.deepStrictEqual(history.deleted, [id]);

    // Bob's socket is on the other server.
    const kicked = await admin.call('kick_user', { socketId: bob.socket.id });
    assert.deepStrictEqual(kicked, { ok: true, username: 'Bob', userId: byName.Bob.userId });
    await bob.waitFor(([event, end]) => event === 'sessionEnded' && end.reason === 'kicked');
    assert.strictEqual(await bob.waitForDisconnect(5_000), 'io server disconnect');
    await ann.waitFor(([event, name]) => event === 'userLeft' && name === 'Bob');

    // Cat holds a session on the other server; kicked by name, it is dead everywhere.
    const byNameKick = await admin.call('kick_user', { username: 'cat' });
    assert.deepStrictEqual(byNameKick, { ok: true, username: 'Cat', userId: byName.Cat.userId });
    await cat.waitFor(([event, end]) => event === 'sessionEnded' && end.reason === 'kicked');
    assert.strictEqual(await cat.waitForDisconnect(5_000), 'io server disconnect');
    await ann.waitFor(([event, name]) => event === 'userLeft' && name === 'Cat');
    const again = new Client(a.url, 'cat again', withCookie(cookie, { transports: ['websocket'] }));
    clients.push(again);
    await again.connected();
    const [, end] = await again.waitFor(([event]) => event === 'sessionEnded');
    assert.strictEqual(end.reason, 'unknownSession', 'the kicked session is over on every server');

    await untilListed(admin, ['Ann']);
    assert.deepStrictEqual(
      await admin.call('kick_user', { socketId: 'AAAAAAAAAAAAAAAA' }),
      { ok: false, reason: 'unknownSocket', message: 'There is no such connection.' },
      'a socket no server has',
    );
  });
});
