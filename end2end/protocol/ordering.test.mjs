// Ordering: a burst of chats arrives at every socket exactly once and in the order sent, and all
// sockets see broadcasts in one and the same order — senders and receivers on both transports.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { Clients, QUIET_MS, TRANSPORTS, loginAll, sleep, useServer } from './helpers.mjs';

const ctx = useServer();

const BURST = 200;
const WAIT_BURST_MS = 15_000;

async function receivers(clients) {
  const ws = await clients.connect('receiver (websocket)', TRANSPORTS[0].options);
  const upgraded = await clients.connect('receiver (polling then upgrade)', TRANSPORTS[1].options);
  const polling = await clients.connect('receiver (polling only, not logged in)', { transports: ['polling'] });
  return [ws, upgraded, polling];
}

for (const { label, options } of TRANSPORTS) {
  describe(`ordering, sender over ${label}`, () => {
    const clients = new Clients(ctx, options);

    test(`${BURST} chats sent in a burst reach every socket exactly once, in the order sent`, async () => {
      const sender = await clients.connect('sender');
      const [ws, upgraded, polling] = await receivers(clients);
      const everyone = [sender, ws, upgraded, polling];
      await loginAll(everyone, [[sender, 'Ann'], [ws, 'Bob'], [upgraded, 'Cid']]);

      const expected = [];
      for (let i = 0; i < BURST; i += 1) {
        const message = `message ${i} ${'·'.repeat(i % 7)}`;
        sender.emit('chat', message);
        expected.push(['chat', { sender: 'Ann', message }]);
      }
      await Promise.all(everyone.map((client) => client.waitForCount(BURST, WAIT_BURST_MS).catch(() => {})));
      await sleep(QUIET_MS);
      for (const client of everyone) {
        assert.deepStrictEqual(client.take(), expected, `chats received by ${client.label}`);
      }
    });

    test('two senders bursting at once: every socket sees the same single order', async () => {
      const ann = await clients.connect('ann');
      const bob = await clients.connect('bob', TRANSPORTS[0].options);
      const [ws, upgraded, polling] = await receivers(clients);
      const everyone = [ann, bob, ws, upgraded, polling];
      await loginAll(everyone, [[ann, 'Ann'], [bob, 'Bob'], [ws, 'Cid'], [upgraded, 'Dee']]);

      const half = BURST / 2;
      for (let i = 0; i < half; i += 1) {
        ann.emit('chat', `ann ${i}`);
        bob.emit('chat', `bob ${i}`);
      }
      await Promise.all(everyone.map((client) => client.waitForCount(BURST, WAIT_BURST_MS).catch(() => {})));
      await sleep(QUIET_MS);
      const seen = everyone.map((client) => client.take());
      const reference = seen[0];
      assert.equal(reference.length, BURST, `${ann.label} got ${reference.length} events`);
      for (const [sender, prefix] of [['Ann', 'ann'], ['Bob', 'bob']]) {
        assert.deepStrictEqual(
          reference.filter((e) => e[1].sender === sender).map((e) => e[1].message),
          Array.from({ length: half }, (_, i) => `${prefix} ${i}`),
          `${sender}'s chats in the order ${sender} sent them`,
        );
      }
      for (const [index, events] of seen.entries()) {
        assert.deepStrictEqual(events, reference, `${everyone[index].label} saw the same order as ${ann.label}`);
      }
    });

    test('joins, chats and leaves interleaved are seen in the same order by everyone', async () => {
      const [ws, upgraded, polling] = await receivers(clients);
      const ann = await clients.connect('ann');
      const watchers = [ws, upgraded, polling];
      ann.emit('login', 'Ann');
      ann.emit('chat', 'one');
      await Promise.all(watchers.map((w) => w.waitFor((e) => e[0] === 'chat' && e[1].message === 'one')));
      const bob = await clients.connect('bob');
      bob.emit('login', 'Bob');
      bob.emit('chat', 'two');
      await Promise.all(watchers.map((w) => w.waitFor((e) => e[0] === 'chat' && e[1].message === 'two')));
      ann.close();
      await Promise.all(watchers.map((w) => w.waitFor((e) => e[0] === 'userLeft')));
      await sleep(QUIET_MS);
      const expected = [
        ['userJoined', 'Ann'],
        ['chat', { sender: 'Ann', message: 'one' }],
        ['userJoined', 'Bob'],
        ['chat', { sender: 'Bob', message: 'two' }],
        ['userLeft', 'Ann'],
      ];
      for (const watcher of watchers) assert.deepStrictEqual(watcher.take(), expected, watcher.label);
    });
  });
}
