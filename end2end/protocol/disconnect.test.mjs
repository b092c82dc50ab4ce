// Disconnects: userLeft to every remaining socket, the name freed; sockets that never logged in
// leave silently — over both transports.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import {
  Clients, QUIET_MS, TRANSPORTS, expectEvents, expectNothing, loginAll, sleep, useServer,
} from './helpers.mjs';

const ctx = useServer();

for (const { label, options } of TRANSPORTS) {
  describe(`disconnect (${label})`, () => {
    const clients = new Clients(ctx, options);

    test('a logged-in socket leaves: userLeft once to every remaining socket, logged in or not', async () => {
      const [ann, bob, cid, lurker] = await clients.connectMany(['ann', 'bob', 'cid', 'lurker']);
      await loginAll([ann, bob, cid, lurker], [[ann, 'Ann'], [bob, 'Bob'], [cid, 'Cid']]);
      ann.close();
      await expectEvents([
        [bob, [['userLeft', 'Ann']]],
        [cid, [['userLeft', 'Ann']]],
        [lurker, [['userLeft', 'Ann']]],
      ]);
      lurker.emit('onlineUsers');
      await expectEvents([[lurker, [['onlineUsers', ['Bob', 'Cid']]]], [bob, []], [cid, []]]);
    });

    test('the name of a user who left is free again (any case)', async () => {
      const [ann, bob] = await clients.connectMany(['ann', 'bob']);
      await loginAll([ann, bob], [[ann, 'Ann']]);
      ann.close();
      await expectEvents([[bob, [['userLeft', 'Ann']]]]);

      const again = await clients.connect('ann again');
      again.emit('login', 'ANN');
      await expectEvents([
        [again, [['welcome', 'ANN'], ['userJoined', 'ANN']]],
        [bob, [['userJoined', 'ANN']]],
      ]);
      again.emit('chat', 'back');
      const message = ['chat', { sender: 'ANN', message: 'back' }];
      await expectEvents([[again, [message]], [bob, [message]]]);
    });

    test('a socket that never logged in leaves silently', async () => {
      const [ann, lurker] = await clients.connectMany(['ann', 'lurker']);
      await loginAll([ann, lurker], [[ann, 'Ann']]);
      lurker.close();
      await expectNothing([ann]);
    });

    test('a socket whose login was refused leaves silently', async () => {
      const [ann, tryer] = await clients.connectMany(['ann', 'tryer']);
      await loginAll([ann, tryer], [[ann, 'Ann']]);
      tryer.emit('login', 'ann');
      await expectEvents([[tryer, [['loginNameExists', 'ann']]], [ann, []]]);
      tryer.emit('login', 'x');
      await expectEvents([[tryer, [['loginNameBad', 'x']]], [ann, []]]);
      tryer.close();
      await expectNothing([ann]);
      ann.emit('onlineUsers');
      await expectEvents([[ann, [['onlineUsers', ['Ann']]]]]);
    });

    test('several users leaving at once: one userLeft each to everyone remaining', async () => {
      const [ann, bob, cid, dee] = await clients.connectMany(['ann', 'bob', 'cid', 'dee']);
      await loginAll([ann, bob, cid, dee], [[ann, 'Ann'], [bob, 'Bob'], [cid, 'Cid'], [dee, 'Dee']]);
      ann.close();
      bob.close();
      cid.close();
      await dee.waitForCount(3);
      await sleep(QUIET_MS);
      // Any order is fine across sockets that left at the same time, but each exactly once.
      const got = dee.take();
      assert.deepStrictEqual(got.map((e) => e[0]), ['userLeft', 'userLeft', 'userLeft'], JSON.stringify(got));
      assert.deepStrictEqual(got.map((e) => e[1]).sort(), ['Ann', 'Bob', 'Cid']);
    });
  });
}
