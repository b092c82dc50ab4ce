// typing / stopTyping: the 3 s lease, who hears userTyping / userStoppedTyping, and how a chat
// or a disconnect ends the lease — over both transports.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import {
  Clients, TRANSPORTS, expectEvents, expectNothing, loginAll, rejected, sleep, useServer,
} from './helpers.mjs';

const ctx = useServer();

const LEASE_MS = 3_000;

for (const { label, options } of TRANSPORTS) {
  describe(`typing (${label})`, () => {
    const clients = new Clients(ctx, options);

    async function lobby() {
      const [ann, bob, lurker] = await clients.connectMany(['ann', 'bob', 'lurker (not logged in)']);
      await loginAll([ann, bob, lurker], [[ann, 'Ann'], [bob, 'Bob']]);
      return { ann, bob, lurker };
    }

    test('typing and stopTyping from a socket that is not logged in: notLoggedIn', async () => {
      const { ann, bob, lurker } = await lobby();
      lurker.emit('typing');
      await expectEvents([[lurker, [rejected('typing', 'notLoggedIn')]], [ann, []], [bob, []]]);
      lurker.emit('stopTyping');
      await expectEvents([[lurker, [rejected('stopTyping', 'notLoggedIn')]], [ann, []], [bob, []]]);
    });

    test('userTyping goes to everyone but the typer; repeated typing sends nothing more', async () => {
      const { ann, bob, lurker } = await lobby();
      ann.emit('typing');
      await expectEvents([
        [bob, [['userTyping', 'Ann']]],
        [lurker, [['userTyping', 'Ann']]],
        [ann, []],
      ]);
      ann.emit('typing');
      ann.emit('typing');
      await sleep(300);
      ann.emit('typing');
      await expectNothing([ann, bob, lurker]);
    });

    test('stopTyping sends userStoppedTyping to everyone but the typer, once', async () => {
      const { ann, bob, lurker } = await lobby();
      ann.emit('typing');
      await expectEvents([[bob, [['userTyping', 'Ann']]], [lurker, [['userTyping', 'Ann']]], [ann, []]]);
      ann.emit('stopTyping');
      await expectEvents([
        [bob, [['userStoppedTyping', 'Ann']]],
        [lurker, [['userStoppedTyping', 'Ann']]],
        [ann, []],
      ]);
      // Not typing any more: another stopTyping ends nothing and sends nothing.
      ann.emit('stopTyping');
      await expectNothing([ann, bob, lurker]);
      // Typing again starts a new lease and is announced again.
      ann.emit('typing');
      await expectEvents([[bob, [['userTyping', 'Ann']]], [lurker, [['userTyping', 'Ann']]], [ann, []]]);
    });

    test('stopTyping without typing first sends nothing', async () => {
      const { ann, bob, lurker } = await lobby();
      ann.emit('stopTyping');
      await expectNothing([ann, bob, lurker]);
    });

    test('a chat while typing: userStoppedTyping before the chat (not to the typer)', async () => {
      const { ann, bob, lurker } = await lobby();
      ann.emit('typing');
      await expectEvents([[bob, [['userTyping', 'Ann']]], [lurker, [['userTyping', 'Ann']]], [ann, []]]);
      ann.emit('chat', 'done typing');
      const message = ['chat', { sender: 'Ann', message: 'done typing' }];
      await expectEvents([
        [bob, [['userStoppedTyping', 'Ann'], message]],
        [lurker, [['userStoppedTyping', 'Ann'], message]],
        [ann, [message]],
      ]);
      // The lease is over: no late userStoppedTyping when it would have run out.
      await expectNothing([ann, bob, lurker], LEASE_MS + 500);
    });

    test('a chat while not typing sends no userStoppedTyping', async () => {
      const { ann, bob, lurker } = await lobby();
      ann.emit('chat', 'plain');
      const message = ['chat', { sender: 'Ann', message: 'plain' }];
      await expectEvents([[bob, [message]], [lurker, [message]], [ann, [message]]]);
    });

    test('a refused chat while typing leaves the lease alone', async () => {
      const { ann, bob, lurker } = await lobby();
      ann.emit('typing');
      await expectEvents([[bob, [['userTyping', 'Ann']]], [lurker, [['userTyping', 'Ann']]], [ann, []]]);
      ann.emit('chat', '   ');
      await expectEvents([[ann, [rejected('chat', 'emptyMessage')]], [bob, []], [lurker, []]]);
      ann.emit('stopTyping');
      await expectEvents([[bob, [['userStoppedTyping', 'Ann']]], [lurker, [['userStoppedTyping', 'Ann']]], [ann, []]]);
    });

    test('a disconnect while typing: userStoppedTyping, then userLeft', async () => {
      const { ann, bob, lurker } = await lobby();
      ann.emit('typing');
      await expectEvents([[bob, [['userTyping', 'Ann']]], [lurker, [['userTyping', 'Ann']]], [ann, []]]);
      ann.close();
      await expectEvents([
        [bob, [['userStoppedTyping', 'Ann'], ['userLeft', 'Ann']]],
        [lurker, [['userStoppedTyping', 'Ann'], ['userLeft', 'Ann']]],
      ]);
      await expectNothing([bob, lurker], LEASE_MS + 500);
    });

    test('the lease runs out about 3 s after the last typing: userStoppedTyping', async () => {
      const { ann, bob, lurker } = await lobby();
      const sentAt = performance.now();
      ann.emit('typing');
      await expectEvents([[bob, [['userTyping', 'Ann']]], [lurker, [['userTyping', 'Ann']]], [ann, []]]);
      await bob.waitFor((e) => e[0] === 'userStoppedTyping', LEASE_MS + 2_000);
      const elapsed = performance.now() - sentAt;
      assert.ok(elapsed >= LEASE_MS - 300, `userStoppedTyping came after ${elapsed} ms, before the 3 s lease ran out`);
      assert.ok(elapsed <= LEASE_MS + 2_000, `userStoppedTyping came after ${elapsed} ms`);
      await expectEvents([
        [bob, [['userStoppedTyping', 'Ann']]],
        [lurker, [['userStoppedTyping', 'Ann']]],
        [ann, []],
      ]);
      // Typing again after the lease ran out is a new lease.
      ann.emit('typing');
      await expectEvents([[bob, [['userTyping', 'Ann']]], [lurker, [['userTyping', 'Ann']]], [ann, []]]);
    });

    test('typing renews the lease: it runs out 3 s after the last renewal, not the first typing', async () => {
      const { ann, bob, lurker } = await lobby();
      ann.emit('typing');
      await expectEvents([[bob, [['userTyping', 'Ann']]], [lurker, [['userTyping', 'Ann']]], [ann, []]]);
      // Renew every second for 3.5 s: the first lease would have run out at 3 s.
      let renewedAt = performance.now();
      for (let i = 0; i < 3; i += 1) {
        await sleep(1_000);
        ann.emit('typing');
        renewedAt = performance.now();
      }
      await sleep(500);
      assert.deepStrictEqual(bob.pending(), [], 'no userStoppedTyping while the lease is being renewed');
      await bob.waitFor((e) => e[0] === 'userStoppedTyping', LEASE_MS + 2_000);
      const elapsed = performance.now() - renewedAt;
      assert.ok(elapsed >= LEASE_MS - 300, `userStoppedTyping ${elapsed} ms after the last renewal`);
      await expectEvents([
        [bob, [['userStoppedTyping', 'Ann']]],
        [lurker, [['userStoppedTyping', 'Ann']]],
        [ann, []],
      ]);
    });

    test('two typers: each is told about the other only', async () => {
      const { ann, bob, lurker } = await lobby();
      ann.emit('typing');
      await expectEvents([[bob, [['userTyping', 'Ann']]], [lurker, [['userTyping', 'Ann']]], [ann, []]]);
      bob.emit('typing');
      await expectEvents([[ann, [['userTyping', 'Bob']]], [lurker, [['userTyping', 'Bob']]], [bob, []]]);
      bob.emit('stopTyping');
      await expectEvents([[ann, [['userStoppedTyping', 'Bob']]], [lurker, [['userStoppedTyping', 'Bob']]], [bob, []]]);
      ann.emit('stopTyping');
      await expectEvents([[bob, [['userStoppedTyping', 'Ann']]], [lurker, [['userStoppedTyping', 'Ann']]], [ann, []]]);
    });

    test('two leases run out independently, each about 3 s after its own typing', async () => {
      const { ann, bob, lurker } = await lobby();
      ann.emit('typing');
      await lurker.waitFor((e) => e[0] === 'userTyping' && e[1] === 'Ann');
      await sleep(1_000);
      bob.emit('typing');
      await lurker.waitFor((e) => e[0] === 'userTyping' && e[1] === 'Bob');
      const annStop = await lurker.waitFor((e) => e[0] === 'userStoppedTyping' && e[1] === 'Ann', LEASE_MS + 2_000);
      assert.ok(annStop);
      assert.equal(
        lurker.pending().some((e) => e[0] === 'userStoppedTyping' && e[1] === 'Bob'),
        false,
        "Bob's lease ended together with Ann's",
      );
      await lurker.waitFor((e) => e[0] === 'userStoppedTyping' && e[1] === 'Bob', LEASE_MS + 2_000);
      await expectEvents([
        [lurker, [['userTyping', 'Ann'], ['userTyping', 'Bob'], ['userStoppedTyping', 'Ann'], ['userStoppedTyping', 'Bob']]],
        [ann, [['userTyping', 'Bob'], ['userStoppedTyping', 'Bob']]],
        [bob, [['userTyping', 'Ann'], ['userStoppedTyping', 'Ann']]],
      ]);
    });
  });
}
