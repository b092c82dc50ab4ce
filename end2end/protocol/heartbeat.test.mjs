// Heartbeat and limits, on a server started with short settings:
//   --ping-interval-ms 300 --ping-timeout-ms 300, and a --config file with
//   [socket] max-payload-bytes = 4096.
// A client that stops answering pings is dropped exactly like a disconnect; one that answers
// stays; the payload limit is the configured one.

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';

import {
  Clients, RawSocket, TRANSPORTS, assertServerServes, expectEvents, loginAll, rejected, sleep, uniqueName,
  useServer,
} from './helpers.mjs';

const PING_INTERVAL_MS = 300;
const PING_TIMEOUT_MS = 300;
const MAX_PAYLOAD = 4096;

const dir = mkdtempSync(path.join(tmpdir(), 'chat-heartbeat-'));
const configFile = path.join(dir, 'settings.toml');
writeFileSync(configFile, `[socket]\nmax-payload-bytes = ${MAX_PAYLOAD}\n`);
after(() => rmSync(dir, { recursive: true, force: true }));

const ctx = useServer({
  args: [
    '--ping-interval-ms', String(PING_INTERVAL_MS),
    '--ping-timeout-ms', String(PING_TIMEOUT_MS),
    '--config', configFile,
  ],
});

describe('heartbeat', () => {
  const clients = new Clients(ctx, TRANSPORTS[0].options);

  test('the handshake announces the configured ping interval, timeout and payload limit', async () => {
    const raw = new RawSocket(ctx.url);
    try {
      const handshake = await raw.open();
      assert.equal(handshake.pingInterval, PING_INTERVAL_MS);
      assert.equal(handshake.pingTimeout, PING_TIMEOUT_MS);
      assert.equal(handshake.maxPayload, MAX_PAYLOAD);
    } finally {
      raw.close();
    }
  });

  test('a logged-in client that stops answering pings is dropped: userStoppedTyping, userLeft, name freed', async () => {
    const [bob, lurker] = await clients.connectMany(['bob', 'lurker']);
    await loginAll([bob, lurker], [[bob, 'Bob']]);
    const silent = new RawSocket(ctx.url, { answerPings: false });
    try {
      await silent.connectNamespace();
      silent.send('42["login","Mute"]');
      await bob.waitFor((e) => e[0] === 'userJoined' && e[1] === 'Mute');
      silent.send('42["typing"]');
      const startedAt = performance.now();
      await expectEvents(
        [
          [bob, [['userJoined', 'Mute'], ['userTyping', 'Mute'], ['userStoppedTyping', 'Mute'], ['userLeft', 'Mute']]],
          [lurker, [['userJoined', 'Mute'], ['userTyping', 'Mute'], ['userStoppedTyping', 'Mute'], ['userLeft', 'Mute']]],
        ],
        { timeoutMs: 2_500 },
      );
      const elapsed = performance.now() - startedAt;
      assert.ok(elapsed < 2_500 + 500, `dropped after ${elapsed} ms`);
      assert.ok(silent.frames.includes('2'), 'the server pinged');
    } finally {
      silent.terminate();
    }
    await assertServerServes(ctx, 'Mute', [bob, lurker]);
  });

  test('a raw client that answers pings stays connected across many intervals', async () => {
    const [bob] = await clients.connectMany(['bob']);
    const alive = new RawSocket(ctx.url, { answerPings: true });
    try {
      await alive.connectNamespace();
      alive.send('42["login","Live"]');
      await bob.waitFor((e) => e[0] === 'userJoined' && e[1] === 'Live');
      await sleep(6 * PING_INTERVAL_MS);
      assert.ok(alive.frames.filter((f) => f === '2').length >= 3, 'the server kept pinging');
      assert.equal(alive.closed, false);
      assert.deepStrictEqual(bob.take(), [['userJoined', 'Live']], 'no userLeft');
      alive.send('42["chat","still here"]');
      await bob.waitFor((e) => e[0] === 'chat' && e[1].message === 'still here');
    } finally {
      alive.terminate();
    }
  });

  for (const { label, options } of TRANSPORTS) {
    test(`socket.io-client (${label}) stays logged in across many ping intervals`, async () => {
      const [ann, bob] = await clients.connectMany(['ann', 'bob'], options);
      await loginAll([ann, bob], [[ann, 'Ann']]);
      await sleep(6 * PING_INTERVAL_MS);
      assert.ok(ann.socket.connected && bob.socket.connected);
      ann.emit('chat', 'after pings');
      const message = ['chat', { sender: 'Ann', message: 'after pings' }];
      await expectEvents([[ann, [message]], [bob, [message]]]);
    });
  }
});

describe('configured max-payload-bytes', () => {
  const clients = new Clients(ctx, TRANSPORTS[0].options);

  test('a packet under the limit is handled; one over it closes only that connection', async () => {
    const [ann, bob] = await clients.connectMany(['ann', 'bob']);
    await loginAll([ann, bob], [[ann, 'Ann']]);
    ann.emit('chat', 'z'.repeat(3_000));
    await expectEvents([[ann, [rejected('chat', 'messageTooLong')]], [bob, []]]);
    ann.emit('chat', 'z'.repeat(5_000));
    await ann.waitForDisconnect(3_000);
    await expectEvents([[bob, [['userLeft', 'Ann']]]]);
    await assertServerServes(ctx, uniqueName('pay'), [bob]);
  });
});
