// login: welcome / userJoined, loginNameBad, trimming, loginNameExists, alreadyLoggedIn,
// and onlineUsers — run over WebSocket and over polling-then-upgrade.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import {
  Clients, TRANSPORTS, expectEvents, expectNothing, loginAll, onlineUsers, rejected, useServer,
} from './helpers.mjs';
import { ack, refusedAck } from './rooms-helpers.mjs';

const ctx = useServer();

for (const { label, options } of TRANSPORTS) {
  describe(`login (${label})`, () => {
    const clients = new Clients(ctx, options);

    test('welcome goes to the new user only, userJoined to every socket (logged in or not)', async () => {
      const [bob, ann, lurker] = await clients.connectMany(['bob', 'ann', 'lurker (not logged in)']);
      await loginAll([bob, ann, lurker], [[bob, 'Bob']]);

      ann.emit('login', 'Ann');
      await expectEvents([
        [ann, [['welcome', 'Ann'], ['userJoined', 'Ann']]],
        [bob, [['userJoined', 'Ann']]],
        [lurker, [['userJoined', 'Ann']]],
      ]);
    });

    test('a socket that connects later does not get earlier userJoined events', async () => {
      const [ann] = await clients.connectMany(['ann']);
      await loginAll([ann], [[ann, 'Ann']]);
      const late = await clients.connect('late');
      await expectNothing([ann, late]);
    });

    const badNames = [
      ['missing', []],
      ['null', [null]],
      ['a number', [42]],
      ['a boolean', [true]],
      ['an object', [{ name: 'Ann' }]],
      ['an array', [['Ann']]],
      ['empty', ['']],
      ['2 characters', ['ab']],
      ['2 characters once trimmed', ['  ab  ']],
      ['11 characters', ['Bartholomew']],
      ['11 non-ASCII characters', ['é'.repeat(11)]],
      ['11 astral characters', ['😀'.repeat(11)]],
      ['whitespace only', ['     ']],
      ['a NUL inside', ['An\u0000n']],
      ['a newline inside', ['An\nn']],
      ['a DEL inside', ['An\u007fn']],
    ];
    for (const [what, args] of badNames) {
      test(`loginNameBad for a name that is ${what}, echoing the payload as sent`, async () => {
        const [tryer, bob, lurker] = await clients.connectMany(['tryer', 'bob', 'lurker']);
        await loginAll([tryer, bob, lurker], [[bob, 'Bob']]);

        tryer.emit('login', ...args);
        const echoed = args.length === 0 ? null : args[0];
        await expectEvents([
          [tryer, [['loginNameBad', echoed]]],
          [bob, []],
          [lurker, []],
        ]);

        // Still not logged in: chatting is refused, and a good name then works.
        tryer.emit('chat', 'hello');
        await expectEvents([[tryer, [rejected('chat', 'notLoggedIn')]], [bob, []], [lurker, []]]);
        tryer.emit('login', 'Tia');
        await expectEvents([
          [tryer, [['welcome', 'Tia'], ['userJoined', 'Tia']]],
          [bob, [['userJoined', 'Tia']]],
          [lurker, [['userJoined', 'Tia']]],
        ]);
      });
    }

    const goodNames = [
      ['3 characters', 'Ann', 'Ann'],
      ['10 characters', 'Bartholome', 'Bartholome'],
      ['3 non-ASCII characters', 'Zoë', 'Zoë'],
      ['3 CJK characters', '日本語', '日本語'],
      ['10 two-byte characters', 'é'.repeat(10), 'é'.repeat(10)],
      ['3 astral characters (6 UTF-16 units)', '😀😀😀', '😀😀😀'],
      ['10 astral characters (20 UTF-16 units)', '😀'.repeat(10), '😀'.repeat(10)],
      ['surrounded by spaces', '  Ann  ', 'Ann'],
      ['surrounded by tabs and newlines', '\tAnn\n', 'Ann'],
      ['10 characters once trimmed', '   Bartholome   ', 'Bartholome'],
      ['with an inner space', 'Ann Lee', 'Ann Lee'],
      ['made of HTML', '<i>x</i>', '<i>x</i>'],
    ];
    for (const [what, sent, used] of goodNames) {
      test(`a name ${what} is accepted as ${JSON.stringify(used)}`, async () => {
        const [user, other] = await clients.connectMany(['user', 'other']);
        user.emit('login', sent);
        await expectEvents([
          [user, [['welcome', used], ['userJoined', used]]],
          [other, [['userJoined', used]]],
        ]);
        other.emit('onlineUsers');
        await expectEvents([[other, [['onlineUsers', [used]]]], [user, []]]);
      });
    }

    test('extra arguments after the name are ignored', async () => {
      const [ann, bob] = await clients.connectMany(['ann', 'bob']);
      ann.emit('login', 'Ann', 'extra', 42);
      await expectEvents([
        [ann, [['welcome', 'Ann'], ['userJoined', 'Ann']]],
        [bob, [['userJoined', 'Ann']]],
      ]);
    });

    test('loginNameExists for an online name, ignoring case, with the trimmed name', async () => {
      const [ann, other, lurker] = await clients.connectMany(['ann', 'other', 'lurker']);
      await loginAll([ann, other, lurker], [[ann, 'Ann']]);

      for (const [sent, echoed] of [['Ann', 'Ann'], ['ann', 'ann'], ['  ANN ', 'ANN'], ['aNn', 'aNn']]) {
        other.emit('login', sent);
        await expectEvents([
          [other, [['loginNameExists', echoed]]],
          [ann, []],
          [lurker, []],
        ]);
      }

      // The refused socket is still free to pick another name.
      other.emit('login', 'Bob');
      await expectEvents([
        [other, [['welcome', 'Bob'], ['userJoined', 'Bob']]],
        [ann, [['userJoined', 'Bob']]],
        [lurker, [['userJoined', 'Bob']]],
      ]);
      lurker.emit('onlineUsers');
      await expectEvents([[lurker, [['onlineUsers', ['Ann', 'Bob']]]], [ann, []], [other, []]]);
    });

    test('a login sent with an acknowledgement still gets the lobby replies, and the answer too', async () => {
      const [tryer, ann] = await clients.connectMany(['tryer', 'ann']);
      await loginAll([tryer, ann], [[ann, 'Ann']]);
      const cases = [
        ['ab', ['loginNameBad', 'ab'], 'invalidName'],
        ['ANN', ['loginNameExists', 'ANN'], 'nameTaken'],
      ];
      for (const [name, event, reason] of cases) {
        assert.deepStrictEqual(ack(await tryer.call('login', name)), refusedAck(reason), name);
        await expectEvents([[tryer, [event]], [ann, []]]);
      }
      const welcomed = await tryer.call('login', 'Tia');
      assert.deepStrictEqual({ ...welcomed, userId: typeof welcomed.userId }, { ok: true, username: 'Tia', userId: 'number' });
      await expectEvents([
        [tryer, [['welcome', 'Tia'], ['userJoined', 'Tia']]],
        [ann, [['userJoined', 'Tia']]],
      ]);
    });

    test('a second login on the same socket is rejected with alreadyLoggedIn', async () => {
      const [ann, bob] = await clients.connectMany(['ann', 'bob']);
      await loginAll([ann, bob], [[ann, 'Ann']]);

      ann.emit('login', 'Annie');
      await expectEvents([[ann, [rejected('login', 'alreadyLoggedIn')]], [bob, []]]);

      // Still known under the first name only; the second name is free.
      bob.emit('onlineUsers');
      await expectEvents([[bob, [['onlineUsers', ['Ann']]]], [ann, []]]);
      bob.emit('login', 'Annie');
      await expectEvents([
        [bob, [['welcome', 'Annie'], ['userJoined', 'Annie']]],
        [ann, [['userJoined', 'Annie']]],
      ]);
      ann.emit('chat', 'still me');
      await expectEvents([
        [ann, [['chat', { sender: 'Ann', message: 'still me' }]]],
        [bob, [['chat', { sender: 'Ann', message: 'still me' }]]],
      ]);
    });

    test('onlineUsers answers only the asker, in order of login, before and after joins and leaves', async () => {
      const [asker, ann, bob] = await clients.connectMany(['asker', 'ann', 'bob']);
      asker.emit('onlineUsers');
      await expectEvents([[asker, [['onlineUsers', []]]], [ann, []], [bob, []]]);

      await loginAll([asker, ann, bob], [[bob, 'Bob'], [ann, 'Ann']]);
      asker.emit('onlineUsers');
      await expectEvents([[asker, [['onlineUsers', ['Bob', 'Ann']]]], [ann, []], [bob, []]]);

      // A logged-in user may ask too, and an extra argument is ignored.
      ann.emit('onlineUsers', 'ignored');
      await expectEvents([[ann, [['onlineUsers', ['Bob', 'Ann']]]], [asker, []], [bob, []]]);

      bob.close();
      await expectEvents([[asker, [['userLeft', 'Bob']]], [ann, [['userLeft', 'Bob']]]]);
      asker.emit('onlineUsers');
      await expectEvents([[asker, [['onlineUsers', ['Ann']]]], [ann, []]]);

      const cid = await clients.connect('cid');
      const bob2 = await clients.connect('bob again');
      await loginAll([asker, ann, cid, bob2], [[cid, 'Cid'], [bob2, 'Bob']]);
      asker.emit('onlineUsers');
      await expectEvents([[asker, [['onlineUsers', ['Ann', 'Cid', 'Bob']]]], [ann, []], [cid, []], [bob2, []]]);
    });

    test('login is handled in order with what follows it (chat right after login is accepted)', async () => {
      const [ann, bob] = await clients.connectMany(['ann', 'bob']);
      ann.emit('chat', 'too early');
      ann.emit('login', 'Ann');
      ann.emit('chat', 'first');
      await expectEvents([
        [ann, [
          rejected('chat', 'notLoggedIn'),
          ['welcome', 'Ann'],
          ['userJoined', 'Ann'],
          ['chat', { sender: 'Ann', message: 'first' }],
        ]],
        [bob, [['userJoined', 'Ann'], ['chat', { sender: 'Ann', message: 'first' }]]],
      ]);
    });
  });
}

test('onlineUsers from a fresh client is empty once everyone has gone', async () => {
  assert.deepStrictEqual(await onlineUsers(ctx.url), []);
});
