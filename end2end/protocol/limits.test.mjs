// The per-user rate limits with the server's defaults (5 messages a second, bursts of
// 10), through the official socket.io-client: a burst fired at once is taken up to the
// limit, the rest is refused `rateLimited` with `retryAfterMs`, nothing refused is
// delivered or stored, and others are not held back. Then the same tabs of one user on
// both transports share the one allowance.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { TRANSPORTS, until, withServer } from './helpers.mjs';
import { rawOf, sessionTab, sessionUser, settle } from './rooms-helpers.mjs';

const RATE = 5;
const BURST = 10;
const runDefault = (fn) => withServer({ defaultLimits: true }, fn);

/** The allowance used by `elapsedMs` of sending: the burst, and what refilled meanwhile. */
const allowed = (elapsedMs) => BURST + Math.ceil((elapsedMs / 1000) * RATE);

describe('rate limits (defaults)', { concurrency: 1 }, () => {
  test('a burst of 40 from two tabs at once: up to the limit stored, the rest rateLimited with retryAfterMs, nothing refused delivered', () => runDefault(async (scene) => {
    const ann = await sessionUser(scene, 'ann (websocket)', 'Ann', { options: TRANSPORTS[0].options });
    const annPolling = await sessionTab(scene, 'ann (polling)', ann, { options: TRANSPORTS[1].options });
    const bob = await sessionUser(scene, 'bob', 'Bob');
    await settle([ann, annPolling, bob]);

    const started = performance.now();
    const replies = await Promise.all(Array.from({ length: 40 }, (_, n) => (n % 2 ? annPolling : ann)
      .call('send_message', { room: 'general', message: `m${n}`, clientId: `c${n}` })));
    const elapsed = performance.now() - started;
    const stored = replies.filter((r) => r.ok);
    const refused = replies.filter((r) => !r.ok);
    assert.ok(stored.length >= BURST, `at least the burst: ${stored.length}`);
    assert.ok(stored.length <= allowed(elapsed), `${stored.length} stored in ${elapsed} ms: at most ${allowed(elapsed)}`);
    assert.ok(refused.length > 0, `some refused (${elapsed} ms for all 40)`);
    for (const reply of refused) {
      assert.equal(reply.reason, 'rateLimited', JSON.stringify(reply));
      assert.ok(reply.retryAfterMs > 0 && reply.retryAfterMs <= 1000 / RATE, `retryAfterMs ${reply.retryAfterMs}`);
      assert.equal(typeof reply.message, 'string');
    }

    // Bob is not limited by Ann, and his message comes after everything she got stored.
    const marker = await bob.call('send_message', { room: 'general', message: 'bob marker' });
    assert.equal(marker.ok, true, JSON.stringify(marker));
    await until(() => rawOf(bob, 'receive_message').some((m) => m.id === marker.id), 3_000, 'bob sees his marker');
    const seenByBob = rawOf(bob, 'receive_message').filter((m) => m.username === 'Ann').map((m) => m.id);
    assert.deepStrictEqual(seenByBob.sort((a, b) => a - b), stored.map((r) => r.id).sort((a, b) => a - b), 'exactly the stored ones, once each');
    const history = await bob.call('history', { room: 'general' });
    const storedByAnn = history.messages.filter((m) => m.username === 'Ann').map((m) => m.clientId).sort();
    const acceptedIds = replies.map((r, n) => (r.ok ? `c${n}` : null)).filter(Boolean).sort();
    assert.deepStrictEqual(storedByAnn, acceptedIds, 'refused ones were never stored');
  }));

  test('normal use is never limited: a message every 250 ms for 5 s', () => runDefault(async (scene) => {
    const ann = await sessionUser(scene, 'ann', 'Ann');
    for (let n = 0; n < 20; n += 1) {
      const reply = await ann.call('send_message', { room: 'general', message: `steady ${n}` });
      assert.equal(reply.ok, true, `message ${n}: ${JSON.stringify(reply)}`);
      // At most 4 a second (waiting after each answer keeps the rate under it, however
      // slow the machine).
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }));
});
