// A server killed mid-conversation (SIGKILL) and started again on the same port and
// database: official socket.io-client users with session cookies reconnect by themselves,
// are welcomed back under their names without leave/join noise, catch up by id, and every
// message (including those sent while the server was down, retried until acknowledged)
// is stored and shown exactly once, in one order for everyone.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { io } from 'socket.io-client';

import {
  Client, QUIET_MS, TRANSPORTS, createSession, expectEvents, onlineUsers, sleep, withCookie,
} from './helpers.mjs';
import { startServer } from './server.mjs';

const WAIT_MS = 15_000;

async function until(cond, what, timeoutMs = WAIT_MS) {
  const deadline = performance.now() + timeoutMs;
  while (!cond()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

/** POST /api/session; returns the `chat_session=...` cookie. */
async function logIn(url, name) {
  const response = await fetch(`${url}/api/session`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name }),
  });
  assert.equal(response.status, 200, await response.text());
  return response.headers.get('set-cookie').split(';')[0];
}

/** A user as a careful client behaves: merges live chats and catch-up by id. */
class User {
  constructor(url, name, cookie, options) {
    this.name = name;
    this.seen = new Map();
    this.events = [];
    this.welcomes = 0;
    this.welcomeNames = [];
    this.socket = io(url, {
      ...options,
      forceNew: true,
      extraHeaders: { cookie },
      reconnectionDelay: 100,
      reconnectionDelayMax: 500,
    });
    this.socket.onAny((event, payload) => this.events.push([event, payload]));
    this.socket.on('chat', (message) => this.seen.set(message.id, message));
    // Catch up from the newest id held when the connection dropped, not at the welcome:
    // chats can reach a new connection before its welcome (catchup.test.mjs, "welcome
    // comes first").
    this.heldAtCut = 0;
    this.socket.on('disconnect', () => {
      this.heldAtCut = this.lastId();
    });
    this.socket.on('welcome', (welcomed) => {
      this.welcomeNames.push(welcomed);
      this.welcomes += 1;
      this.catchUp(this.heldAtCut).catch(() => {});
    });
  }

  lastId() {
    return Math.max(0, ...this.seen.keys());
  }

  async catchUp(after) {
    const reply = await this.socket.timeout(5_000).emitWithAck('history', { after });
    assert.equal(reply.ok, true);
    for (const message of reply.messages) this.seen.set(message.id, message);
  }

  /** Sends until acknowledged; the same clientId makes every retry harmless. */
  async send(text) {
    const clientId = `${this.name}-${text.replace(/\W/g, '_')}`;
    for (;;) {
      try {
        const receipt = await this.socket.timeout(1_000).emitWithAck('chat', { text, clientId });
        if (receipt.ok) return receipt;
      } catch {
        // No acknowledgement in time: the server is down; try again.
      }
      await sleep(100);
    }
  }

  texts() {
    return [...this.seen.keys()].sort((a, b) => a - b).map((id) => this.seen.get(id).message);
  }

  close() {
    this.socket.disconnect();
  }
}

for (const { label, options } of TRANSPORTS) {
  describe(`server restart (${label})`, () => {
    test('history, sessions and every message survive a crash, each message once', async () => {
      const server = await startServer({ args: ['--session-grace-ms', '20000'] });
      const users = [];
      try {
        const ann = new User(server.url, 'Ann', await logIn(server.url, 'Ann'), options);
        const bob = new User(server.url, 'Bob', await logIn(server.url, 'Bob'), options);
        users.push(ann, bob);
        await until(() => ann.welcomes === 1 && bob.welcomes === 1, 'both welcomed');

        const sent = [];
        for (let i = 1; i <= 3; i += 1) {
          for (const user of [ann, bob]) {
            const text = `${user.name} before ${i}`;
            await user.send(text);
            sent.push(text);
          }
        }
        const lastBefore = Math.max(ann.lastId(), bob.lastId());
        const eventsBefore = [ann.events.length, bob.events.length];

        const restarting = server.restart({ hard: true });
        // Written while the server is down: retried until the new process stores them.
        const during = [ann.send('Ann during'), bob.send('Bob during')];
        sent.push('Ann during', 'Bob during');
        await restarting;
        const receipts = await Promise.all(during);
        await until(() => ann.welcomes === 2 && bob.welcomes === 2, 'both welcomed back');
        assert.deepEqual(ann.welcomeNames, ['Ann', 'Ann'], 'welcomed back under the session name');
        assert.deepEqual(bob.welcomeNames, ['Bob', 'Bob'], 'welcomed back under the session name');
        for (const user of [ann, bob]) {
          const text = `${user.name} after`;
          await user.send(text);
          sent.push(text);
        }

        for (const receipt of receipts) assert.ok(receipt.id > lastBefore, 'ids go on after the restart');
        await until(() => ann.seen.size === sent.length && bob.seen.size === sent.length, 'every message seen');
        await sleep(200);
        assert.deepEqual(ann.texts(), bob.texts(), 'one order for everyone');
        assert.deepEqual([...ann.texts()].sort(), [...sent].sort(), 'each message exactly once');
        const ids = [...ann.seen.keys()].sort((a, b) => a - b);
        assert.deepEqual(ids, ids.map((_, i) => i + 1), 'no gaps');

        for (const [i, user] of [ann, bob].entries()) {
          const noise = user.events
            .slice(eventsBefore[i])
            .filter(([event]) => !['chat', 'welcome'].includes(event));
          assert.deepEqual(noise, [], `${user.name}: reconnecting users make no leave/join noise`);
        }

        // A newcomer reads the whole history from the database.
        const reader = io(server.url, { ...options, forceNew: true, reconnection: false });
        try {
          const history = await reader.timeout(5_000).emitWithAck('history', { after: 0 });
          const everything = [...ann.seen.keys()].sort((a, b) => a - b).map((id) => ann.seen.get(id));
          assert.deepStrictEqual(history, { ok: true, messages: everything, hasMore: false, resync: false });
          assert.deepEqual(
            history.messages.map((m) => m.message),
            ann.texts(),
          );
          reader.emit('onlineUsers');
          const [names] = await new Promise((resolve) => reader.once('onlineUsers', (...a) => resolve(a)));
          assert.deepEqual([...names].sort(), ['Ann', 'Bob']);
        } finally {
          reader.disconnect();
        }
      } finally {
        for (const user of users) user.close();
        await server.stop();
      }
    });
  });
}

describe('server restart, a user who does not come back', () => {
  test('stays listed for the grace period, holds the name, then leaves once; the session lives on', async () => {
    const GRACE_MS = 1_500;
    const server = await startServer({ args: ['--session-grace-ms', String(GRACE_MS)] });
    const clients = [];
    const client = (label, options) => {
      const made = new Client(server.url, label, { transports: ['websocket'], ...options });
      clients.push(made);
      return made;
    };
    try {
      const annCookie = await createSession(server.url, 'Ann');
      const bobCookie = await createSession(server.url, 'Bob');
      // Ann's socket will not reconnect; Bob's will, by itself.
      const ann = await client('ann', withCookie(annCookie)).connected();
      await ann.waitFor('welcome');
      const bob = await client('bob', withCookie(bobCookie, { reconnection: true, reconnectionDelay: 100, reconnectionDelayMax: 200 })).connected();
      await expectEvents([[bob, [['welcome', 'Bob'], ['userJoined', 'Bob']]]]);

      const restartedAt = performance.now();
      await server.restart({ hard: true });
      await bob.waitFor('welcome', 5_000);
      await expectEvents([[bob, [['welcome', 'Bob']]]]);
      assert.deepEqual([...(await onlineUsers(server.url))].sort(), ['Ann', 'Bob'], 'Ann is listed during the grace period');
      const tryer = await client('tryer').connected();
      tryer.emit('login', 'ann');
      await expectEvents([[tryer, [['loginNameExists', 'ann']]], [bob, []]]);

      await bob.waitFor('userLeft', GRACE_MS + 3_000);
      const elapsed = performance.now() - restartedAt;
      assert.ok(elapsed >= GRACE_MS - 100, `userLeft ${elapsed} ms after the restart began (grace ${GRACE_MS} ms)`);
      await expectEvents([[bob, [['userLeft', 'Ann']]], [tryer, [['userLeft', 'Ann']]]], { quietMs: QUIET_MS });
      assert.deepEqual(await onlineUsers(server.url), ['Bob']);

      // The session itself survived the restart.
      const back = await client('ann back', withCookie(annCookie)).connected();
      await expectEvents([
        [back, [['welcome', 'Ann'], ['userJoined', 'Ann']]],
        [bob, [['userJoined', 'Ann']]],
        [tryer, [['userJoined', 'Ann']]],
      ]);
    } finally {
      for (const made of clients) made.close();
      await server.stop();
    }
  });
});
