// Unknown events, the Engine.IO handshake defaults, the transports themselves (polling, upgrade,
// WebSocket) and the raw frame examples of docs/protocol.md.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import {
  Client, Clients, RawSocket, TRANSPORTS, WAIT_MS, expectEvents, loginAll, rejected, sleep, useServer,
  waitLobbyEmpty,
} from './helpers.mjs';

const ctx = useServer();

for (const { label, options } of TRANSPORTS) {
  describe(`unknown events (${label})`, () => {
    const clients = new Clients(ctx, options);

    const unknown = [
      ['dance', []],
      ['dance', ['with a payload']],
      ['dance', [{ moves: 3 }, 'and', 'more']],
      ['Login', ['Ann']],
      ['CHAT', ['hello']],
      ['chat ', ['hello']],
      ['welcome', ['Ann']],
      ['userJoined', ['Mallory']],
      ['requestRejected', [{}]],
      ['online_users', []],
      ['stop_typing', []],
      ['', []],
      ['ünïcødé 😀', [1]],
    ];
    for (const [event, args] of unknown) {
      test(`${JSON.stringify(event)} with arguments ${JSON.stringify(args)} → requestRejected unknownEvent to the sender only`, async () => {
        const [ann, bob, lurker] = await clients.connectMany(['ann', 'bob', 'lurker (not logged in)']);
        await loginAll([ann, bob, lurker], [[ann, 'Ann'], [bob, 'Bob']]);
        ann.emit(event, ...args);
        await expectEvents([[ann, [rejected(event, 'unknownEvent')]], [bob, []], [lurker, []]]);
        lurker.emit(event, ...args);
        await expectEvents([[lurker, [rejected(event, 'unknownEvent')]], [ann, []], [bob, []]]);
        // Nothing changed: still the same two users online.
        lurker.emit('onlineUsers');
        await expectEvents([[lurker, [['onlineUsers', ['Ann', 'Bob']]]], [ann, []], [bob, []]]);
      });
    }
  });
}

describe('unknown events with reserved Socket.IO names (raw frames)', () => {
  const clients = new Clients(ctx, TRANSPORTS[0].options);

  for (const event of ['connect', 'disconnect', 'connect_error', 'disconnecting', 'newListener']) {
    test(`${event} sent as an event → requestRejected unknownEvent, the socket stays connected`, async () => {
      const bob = await clients.connect('bob');
      const raw = new RawSocket(ctx.url);
      try {
        await raw.connectNamespace();
        raw.send(`42${JSON.stringify(['login', 'Raw'])}`);
        await raw.waitFrame((f) => f === '42["welcome","Raw"]');
        raw.send(`42${JSON.stringify([event, 'x'])}`);
        await raw.waitFrame((f) => typeof f === 'string' && f.includes('requestRejected'));
        const got = raw.events().filter((e) => e[0] === 'requestRejected');
        assert.equal(got.length, 1);
        assert.deepStrictEqual({ event: got[0][1].event, reason: got[0][1].reason }, { event, reason: 'unknownEvent' });
        raw.send('42["onlineUsers"]');
        await raw.waitFrame((f) => f === '42["onlineUsers",["Raw"]]');
        await sleep(200);
        assert.deepStrictEqual(bob.take(), [['userJoined', 'Raw']]);
      } finally {
        raw.close();
      }
    });
  }
});

describe('Engine.IO handshake', () => {
  test('WebSocket handshake: ping every 25 s, 20 s timeout, 64 KiB max payload', async () => {
    const raw = new RawSocket(ctx.url);
    try {
      const handshake = await raw.open();
      assert.equal(typeof handshake.sid, 'string');
      assert.equal(handshake.pingInterval, 25_000);
      assert.equal(handshake.pingTimeout, 20_000);
      assert.equal(handshake.maxPayload, 65_536);
      assert.deepStrictEqual(handshake.upgrades, []);
    } finally {
      raw.close();
    }
  });

  test('polling handshake offers the WebSocket upgrade, at the default path /socket.io/', async () => {
    const response = await fetch(new URL('/socket.io/?EIO=4&transport=polling', ctx.url));
    assert.equal(response.status, 200);
    const body = await response.text();
    assert.match(body, /^0\{/);
    const handshake = JSON.parse(body.slice(1));
    assert.deepStrictEqual(handshake.upgrades, ['websocket']);
    assert.equal(handshake.pingInterval, 25_000);
    assert.equal(handshake.pingTimeout, 20_000);
    assert.equal(handshake.maxPayload, 65_536);
  });
});

describe('transports', () => {
  const clients = new Clients(ctx, {});

  test('the default client starts on polling, upgrades to WebSocket, and keeps every event', async () => {
    const watcher = await clients.connect('watcher', TRANSPORTS[0].options);
    const ann = new Client(ctx.url, 'ann (default transports)', {});
    clients.open.push(ann);
    let firstTransport = null;
    const upgraded = new Promise((resolve) => {
      ann.socket.io.once('open', () => {
        firstTransport = ann.transport();
        ann.socket.io.engine.once('upgrade', resolve);
      });
    });
    // Sent while the connection is being set up and upgraded.
    ann.emit('login', 'Ann');
    for (let i = 0; i < 20; i += 1) ann.emit('chat', `during ${i}`);
    await ann.connected();
    await Promise.race([upgraded, sleep(WAIT_MS).then(() => assert.fail('no upgrade to WebSocket'))]);
    assert.equal(firstTransport, 'polling', 'connected over polling first');
    assert.equal(ann.transport(), 'websocket');
    for (let i = 0; i < 5; i += 1) ann.emit('chat', `after ${i}`);
    const messages = [
      ...Array.from({ length: 20 }, (_, i) => `during ${i}`),
      ...Array.from({ length: 5 }, (_, i) => `after ${i}`),
    ].map((message) => ['chat', { sender: 'Ann', message }]);
    await expectEvents([
      [ann, [['welcome', 'Ann'], ['userJoined', 'Ann'], ...messages]],
      [watcher, [['userJoined', 'Ann'], ...messages]],
    ]);
  });

  test('a polling-only client works end to end', async () => {
    const watcher = await clients.connect('watcher', TRANSPORTS[0].options);
    const ann = await clients.connect('ann (polling only)', { transports: ['polling'] });
    ann.emit('login', 'Ann');
    ann.emit('typing');
    ann.emit('chat', 'over polling');
    const message = ['chat', { sender: 'Ann', message: 'over polling' }];
    await expectEvents([
      [ann, [['welcome', 'Ann'], ['userJoined', 'Ann'], message]],
      [watcher, [['userJoined', 'Ann'], ['userTyping', 'Ann'], ['userStoppedTyping', 'Ann'], message]],
    ]);
    watcher.emit('chat', 'not logged in');
    await expectEvents([[watcher, [rejected('chat', 'notLoggedIn')]], [ann, []]]);
    assert.equal(ann.transport(), 'polling');
  });
});

describe('raw frame examples of docs/protocol.md', () => {
  test('login, welcome, userJoined, chat, loginNameBad as raw text frames', async () => {
    const ann = new RawSocket(ctx.url);
    const other = new RawSocket(ctx.url);
    try {
      await ann.connectNamespace();
      await other.connectNamespace();
      ann.send('42["login","Ann"]');
      await other.waitFrame((f) => typeof f === 'string' && f.startsWith('42["userJoined"'));
      ann.send('42["chat","hello"]');
      other.send('42["login",42]');
      await ann.waitFrame((f) => typeof f === 'string' && f.startsWith('42["chat"'));
      await other.waitFrame((f) => typeof f === 'string' && f.startsWith('42["loginNameBad"'));
      await sleep(200);
      // A stored message: its id, and the server's time.
      const stored = (events) =>
        events.map(([event, payload]) => {
          if (event !== 'chat') return [event, payload];
          const { id, sentAt, ...rest } = payload;
          assert.ok(Number.isInteger(id) && id > 0, `id ${id}`);
          assert.ok(Number.isInteger(sentAt) && sentAt > 0, `sentAt ${sentAt}`);
          return [event, rest];
        });
      assert.deepStrictEqual(stored(ann.events()), [
        ['welcome', 'Ann'],
        ['userJoined', 'Ann'],
        ['chat', { sender: 'Ann', message: 'hello' }],
      ]);
      assert.deepStrictEqual(stored(other.events()), [
        ['userJoined', 'Ann'],
        ['chat', { sender: 'Ann', message: 'hello' }],
        ['loginNameBad', 42],
      ]);
      assert.ok(ann.frames.includes('42["welcome","Ann"]'), JSON.stringify(ann.frames));
      assert.ok(ann.frames.includes('42["userJoined","Ann"]'));
      assert.ok(other.frames.includes('42["loginNameBad",42]'));
    } finally {
      ann.close();
      other.close();
      await waitLobbyEmpty(ctx.url);
    }
  });
});
