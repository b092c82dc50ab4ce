// Catch-up after a cut connection: a session user whose socket drops while others keep
// chatting comes back (socket.io-client reconnecting by itself, or disconnect + connect), asks
// `history {after: <last id seen>}` after its welcome and merges it with the live chats by
// id, as the web client does: it ends with every message exactly once, in order. Messages it
// sends while cut off (buffered by socket.io-client, or resent with the same clientId) are
// stored and shown once for everyone. Nobody sees the cut user leave or join.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import {
  TRANSPORTS, createSession, sleep, until, withCookie, withServer,
} from './helpers.mjs';

const WAIT_MS = 10_000;

/** Options that make socket.io-client reconnect by itself, quickly and predictably. */
const RECONNECTING = { reconnection: true, reconnectionDelay: 200, reconnectionDelayMax: 200, randomizationFactor: 0 };

/**
 * A session user as a careful client: keeps every message by id, asks for a catch-up after
 * every welcome, and remembers what it got live and from catch-ups.
 */
class User {
  constructor(scene, name, cookie, options) {
    this.name = name;
    this.client = scene.create(name, withCookie(cookie, options));
    this.socket = this.client.socket;
    this.seen = new Map();
    this.liveIds = [];
    this.catchUps = [];
    this.welcomes = [];
    this.socket.on('chat', (message) => {
      this.liveIds.push(message.id);
      this.seen.set(message.id, message);
    });
    // The newest id held when the connection dropped: chats may reach the new connection
    // before its welcome (see 'a session socket gets its welcome before any chat' below),
    // so the newest id held at the welcome could skip what was missed in between.
    this.heldAtCut = 0;
    this.socket.on('disconnect', () => {
      this.heldAtCut = this.lastId();
    });
    this.socket.on('welcome', (who) => {
      this.welcomes.push(who);
      this.catchUp(this.heldAtCut);
    });
  }

  lastId() {
    return Math.max(0, ...this.seen.keys());
  }

  catchUp(after) {
    const entry = { after, reply: null };
    this.catchUps.push(entry);
    this.client.call('history', { after }).then(
      (reply) => {
        entry.reply = reply;
        if (reply.ok) for (const message of reply.messages) this.seen.set(message.id, message);
      },
      (error) => {
        entry.reply = { error: error.message };
      },
    );
  }

  /** Every message kept, in id order. */
  messages() {
    return [...this.seen.keys()].sort((a, b) => a - b).map((id) => this.seen.get(id));
  }

  async welcomed(count) {
    await until(() => this.welcomes.length >= count, WAIT_MS, () => `${this.name} to be welcomed ${count} times (${this.welcomes.length})`);
    await until(() => this.catchUps.length >= count && this.catchUps[count - 1].reply, WAIT_MS, () => `${this.name}'s catch-up answer`);
  }

  async hasSeen(count) {
    await until(() => this.seen.size >= count, WAIT_MS, () => `${this.name} to hold ${count} messages (${this.seen.size})`);
  }

  /** Cuts the connection under the socket (as a network failure would); resolves once noticed. */
  async cut() {
    this.socket.io.engine.close();
    await until(() => !this.socket.connected, WAIT_MS, () => `${this.name} to notice the cut`);
  }

  /** Sends until acknowledged (same clientId every time). */
  async send(text, clientId) {
    for (let attempt = 0; attempt < 50; attempt += 1) {
      try {
        const receipt = await this.client.callWithin(1_000, 'chat', { text, clientId });
        if (receipt.ok) return receipt;
      } catch {
        // No acknowledgement in time: cut off; try again.
      }
      await sleep(50);
    }
    throw new Error(`${this.name} could not send ${text}`);
  }
}

/** Two session users, Ann (whose connection will be cut) and Bob, and Cid logged in with `login`. */
async function threeUsers(scene, options, annOptions = RECONNECTING) {
  const ann = new User(scene, 'Ann', await createSession(scene.url, 'Ann'), { ...options, ...annOptions });
  await ann.client.connected();
  await ann.welcomed(1);
  const bob = new User(scene, 'Bob', await createSession(scene.url, 'Bob'), options);
  await bob.client.connected();
  await bob.welcomed(1);
  const cid = await scene.connect('cid', options);
  cid.emit('login', 'Cid');
  for (const client of [ann.client, bob.client, cid]) await client.waitFor((e) => e[0] === 'userJoined' && e[1] === 'Cid');
  for (const client of [ann.client, bob.client, cid]) client.take();
  return { ann, bob, cid };
}

/** Sends `count` messages from `user`, one after the other, each acknowledged. */
async function chatter(user, prefix, count, pauseMs = 0) {
  const receipts = [];
  for (let i = 0; i < count; i += 1) {
    receipts.push(await user.send(`${prefix} ${i}`, `${prefix.replace(/\W/g, '_')}-${i}`));
    if (pauseMs) await sleep(pauseMs);
  }
  return receipts;
}

/**
 * Asserts the end state: `reference` (connected all along) saw `expectedTexts` once each, in
 * id order; every user holds exactly the same messages; no chat arrived live twice; nobody
 * saw a userJoined/userLeft since the start.
 */
async function assertConverged({ users, reference, watchers, expectedTexts }) {
  await until(() => reference.client.rawChats().length >= expectedTexts.length, WAIT_MS, () => `${reference.name} to see ${expectedTexts.length} chats`);
  for (const user of users) await user.hasSeen(expectedTexts.length);
  await sleep(300);
  const all = reference.client.rawChats();
  const ids = all.map((m) => m.id);
  assert.deepStrictEqual([...ids].sort((a, b) => a - b), ids, 'broadcast in id order');
  assert.deepStrictEqual([...all.map((m) => m.message)].sort(), [...expectedTexts].sort(), 'each message stored and broadcast once');
  for (const user of users) {
    assert.deepStrictEqual(user.messages(), all, `${user.name} holds every message once, in order`);
    assert.equal(new Set(user.liveIds).size, user.liveIds.length, `${user.name} got no chat twice live`);
  }
  for (const watcher of watchers) {
    assert.deepStrictEqual(watcher.rawChats(), all, `${watcher.label} saw every message once`);
    const noise = watcher.take().filter(([event]) => event !== 'chat');
    assert.deepStrictEqual(noise, [], `${watcher.label} saw nobody leave or join`);
  }
  return all;
}

for (const { label, options } of TRANSPORTS) {
  describe(`welcome comes first (${label})`, () => {
    // docs/protocol.md: a socket opened with a live session "is logged in at once"; the web
    // client asks `history {after: <newest id it has>}` after every welcome, which misses
    // messages if a chat reaches the new connection before its welcome.
    test('a session socket gets its welcome before any chat, even while others chat', () => withServer({}, async (scene) => {
      const cookie = await createSession(scene.url, 'Ann');
      const bob = await scene.connect('bob', options);
      bob.emit('login', 'Bob');
      await bob.waitFor('welcome');
      let streaming = true;
      let sent = 0;
      const stream = (async () => {
        while (streaming) {
          bob.emit('chat', `stream ${sent}`);
          sent += 1;
          await sleep(2);
        }
      })();
      const early = [];
      try {
        for (let round = 0; round < 20; round += 1) {
          const tab = scene.create(`ann tab ${round}`, withCookie(cookie, options));
          await tab.connected();
          await tab.waitFor('welcome');
          const first = tab.raw.findIndex(([event]) => event === 'welcome');
          if (first !== 0) early.push(`round ${round}: ${JSON.stringify(tab.raw.slice(0, first + 1).map(([e, p]) => (e === 'chat' ? `chat #${p.id}` : e)))}`);
          tab.close();
        }
      } finally {
        streaming = false;
        await stream;
      }
      assert.ok(sent > 20, `Bob kept chatting (${sent} chats)`);
      assert.deepStrictEqual(early, [], 'events before the welcome');
    }));
  });

  describe(`catch-up after a cut connection (${label})`, { concurrency: 2 }, () => {
    test('disconnect, others chat, connect again: the catch-up has exactly what was missed', () => withServer({}, async (scene) => {
      const { ann, bob, cid } = await threeUsers(scene, options, {});
      const before = await chatter(bob, 'before', 5);
      await ann.hasSeen(5);

      const lastSeen = ann.lastId();
      ann.socket.disconnect();
      assert.equal(lastSeen, before[4].id);
      const away = await chatter(bob, 'while Ann is away', 10);
      // More keep coming while Ann reconnects: live chats and the catch-up overlap.
      const during = chatter(bob, 'during the reconnection', 10, 5);
      ann.socket.connect();
      await ann.welcomed(2);
      await during;

      assert.deepStrictEqual(ann.welcomes, ['Ann', 'Ann']);
      const { after, reply } = ann.catchUps[1];
      assert.equal(after, lastSeen, 'the catch-up starts after the last id seen');
      assert.equal(reply.ok, true, JSON.stringify(reply));
      assert.equal(reply.resync, false);
      const all = await assertConverged({
        users: [ann, bob],
        reference: bob,
        watchers: [cid],
        expectedTexts: [
          ...Array.from({ length: 5 }, (_, i) => `before ${i}`),
          ...Array.from({ length: 10 }, (_, i) => `while Ann is away ${i}`),
          ...Array.from({ length: 10 }, (_, i) => `during the reconnection ${i}`),
        ],
      });
      // The catch-up is a gapless run of what followed the last id seen, including all of
      // what was stored while Ann was away; none of that reached her live.
      const caughtUp = reply.messages;
      assert.deepStrictEqual(caughtUp, all.filter((m) => m.id > lastSeen).slice(0, caughtUp.length));
      for (const receipt of away) {
        assert.ok(caughtUp.some((m) => m.id === receipt.id), `message ${receipt.id} (sent while away) is in the catch-up`);
        assert.ok(!ann.liveIds.includes(receipt.id), `message ${receipt.id} was not received live`);
      }
      assert.deepStrictEqual(ann.client.take().filter(([event]) => !['chat', 'welcome'].includes(event)), []);
    }));

    test('the transport drops mid-stream; socket.io-client reconnects by itself and catches up', () => withServer({}, async (scene) => {
      const { ann, bob, cid } = await threeUsers(scene, options);
      const stream = chatter(bob, 'stream', 60, 10);
      await ann.hasSeen(15);
      await ann.cut();
      await ann.welcomed(2);
      await stream;
      assert.deepStrictEqual(ann.welcomes, ['Ann', 'Ann']);
      const { after, reply } = ann.catchUps[1];
      assert.ok(after >= 15, `the catch-up starts after the last id seen (${after})`);
      assert.equal(reply.ok, true, JSON.stringify(reply));
      assert.ok(reply.messages.length > 0, 'messages were missed during the cut, and caught up');
      await assertConverged({
        users: [ann, bob],
        reference: bob,
        watchers: [cid],
        expectedTexts: Array.from({ length: 60 }, (_, i) => `stream ${i}`),
      });
    }));

    test('messages written while cut off are buffered, sent on reconnection, and a resend is a duplicate', () => withServer({}, async (scene) => {
      const { ann, bob, cid } = await threeUsers(scene, options);
      await chatter(bob, 'hello', 2);
      await ann.cut();
      // Written while disconnected: socket.io-client buffers them until it is connected again.
      const offline = ['offline 0', 'offline 1', 'offline 2'];
      const buffered = offline.map((text, i) => ann.client.callWithin(WAIT_MS, 'chat', { text, clientId: `off-${i}` }));
      const meanwhile = chatter(bob, 'meanwhile', 3);
      await ann.welcomed(2);
      const receipts = await Promise.all(buffered);
      await meanwhile;
      let last = 0;
      for (const receipt of receipts) {
        assert.deepStrictEqual(receipt, { ok: true, id: receipt.id, sentAt: receipt.sentAt, duplicate: false });
        assert.ok(receipt.id > last, 'stored in the order written');
        last = receipt.id;
      }
      // Pending messages are sent again after every welcome (web client): the same ids, nothing new.
      for (const [i, text] of offline.entries()) {
        const again = await ann.client.call('chat', { text, clientId: `off-${i}` });
        assert.deepStrictEqual(again, { ...receipts[i], duplicate: true });
      }
      await assertConverged({
        users: [ann, bob],
        reference: bob,
        watchers: [cid],
        expectedTexts: ['hello 0', 'hello 1', ...offline, 'meanwhile 0', 'meanwhile 1', 'meanwhile 2'],
      });
    }));

    test('messages whose fate is unknown (cut right after sending) are resent and stored once', () => withServer({}, async (scene) => {
      const { ann, bob, cid } = await threeUsers(scene, options);
      const texts = Array.from({ length: 10 }, (_, i) => `maybe ${i}`);
      texts.forEach((text, i) => ann.client.emit('chat', { text, clientId: `maybe-${i}` }));
      // Some, all or none may have reached the server.
      await ann.cut();
      await ann.welcomed(2);
      const receipts = [];
      for (const [i, text] of texts.entries()) receipts.push(await ann.send(text, `maybe-${i}`));
      const ids = receipts.map((r) => r.id);
      assert.deepStrictEqual([...ids].sort((a, b) => a - b), ids, 'ids follow the order written');
      assert.equal(new Set(ids).size, ids.length);
      const all = await assertConverged({ users: [ann, bob], reference: bob, watchers: [cid], expectedTexts: texts });
      assert.deepStrictEqual(all.map((m) => m.id), ids);
      const history = await cid.call('history', { after: 0 });
      assert.deepStrictEqual(history, { ok: true, messages: all, hasMore: false, resync: false });
    }));
  });
}
