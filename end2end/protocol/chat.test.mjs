// chat: delivered to every socket exactly once (sender included), text kept as sent, and every
// refused case answered with requestRejected to the sender only — over both transports.

import { describe, test } from 'node:test';

import { Clients, TRANSPORTS, expectEvents, loginAll, rejected, useServer } from './helpers.mjs';

const ctx = useServer();

const chat = (sender, message) => ['chat', { sender, message }];

for (const { label, options } of TRANSPORTS) {
  describe(`chat (${label})`, () => {
    const clients = new Clients(ctx, options);

    /** ann and bob logged in, lurker connected but not logged in. */
    async function lobby() {
      const [ann, bob, lurker] = await clients.connectMany(['ann', 'bob', 'lurker (not logged in)']);
      await loginAll([ann, bob, lurker], [[ann, 'Ann'], [bob, 'Bob']]);
      return { ann, bob, lurker };
    }

    test('a chat goes to every socket exactly once, the sender and sockets not logged in included', async () => {
      const { ann, bob, lurker } = await lobby();
      ann.emit('chat', 'hello');
      await expectEvents([
        [ann, [chat('Ann', 'hello')]],
        [bob, [chat('Ann', 'hello')]],
        [lurker, [chat('Ann', 'hello')]],
      ]);
      bob.emit('chat', 'hi Ann');
      await expectEvents([
        [ann, [chat('Bob', 'hi Ann')]],
        [bob, [chat('Bob', 'hi Ann')]],
        [lurker, [chat('Bob', 'hi Ann')]],
      ]);
    });

    const keptAsSent = [
      ['surrounding whitespace', '  spaced out \t'],
      ['newlines', 'line one\nline two\r\n'],
      ['HTML', '<img src=x onerror=alert(1)> <b>bold</b> &amp; &lt;'],
      ['JSON-looking text', '{"sender":"Mallory","message":"x"}'],
      ['non-ASCII and astral characters', 'Zoë says 日本語 😀👍🏽'],
      ['a single character', 'x'],
      ['a NUL character', 'a\u0000b'],
      ['exactly 2000 characters', 'a'.repeat(2000)],
      ['exactly 2000 two-byte characters', 'é'.repeat(2000)],
      ['exactly 2000 astral characters (4000 UTF-16 units)', '😀'.repeat(2000)],
    ];
    for (const [what, text] of keptAsSent) {
      test(`a chat with ${what} is delivered exactly as sent`, async () => {
        const { ann, bob, lurker } = await lobby();
        ann.emit('chat', text);
        await expectEvents([
          [ann, [chat('Ann', text)]],
          [bob, [chat('Ann', text)]],
          [lurker, [chat('Ann', text)]],
        ]);
      });
    }

    test('extra arguments after the text are ignored', async () => {
      const { ann, bob } = await lobby();
      ann.emit('chat', 'one', 'two', { three: 3 });
      await expectEvents([[ann, [chat('Ann', 'one')]], [bob, [chat('Ann', 'one')]]]);
    });

    test('a chat from a socket that is not logged in: notLoggedIn to it only', async () => {
      const { ann, bob, lurker } = await lobby();
      lurker.emit('chat', 'let me in');
      await expectEvents([[lurker, [rejected('chat', 'notLoggedIn')]], [ann, []], [bob, []]]);
    });

    const refused = [
      ['missing', [], 'notAString'],
      ['null', [null], 'notAString'],
      ['a number', [42], 'notAString'],
      ['a boolean', [false], 'notAString'],
      ['an object', [{ message: 'hi' }], 'notAString'],
      ['an array', [['hi']], 'notAString'],
      ['empty', [''], 'emptyMessage'],
      ['a space', [' '], 'emptyMessage'],
      ['whitespace only', [' \n\t  \r\n '], 'emptyMessage'],
      ['2001 characters', ['a'.repeat(2001)], 'messageTooLong'],
      ['2001 two-byte characters', ['é'.repeat(2001)], 'messageTooLong'],
      ['2001 astral characters', ['😀'.repeat(2001)], 'messageTooLong'],
      ['10000 characters', ['b'.repeat(10_000)], 'messageTooLong'],
    ];
    for (const [what, args, reason] of refused) {
      test(`a chat whose text is ${what}: ${reason} to the sender only, nobody gets a chat`, async () => {
        const { ann, bob, lurker } = await lobby();
        ann.emit('chat', ...args);
        await expectEvents([[ann, [rejected('chat', reason)]], [bob, []], [lurker, []]]);
        // The sender stays logged in and can chat right after.
        ann.emit('chat', 'after');
        await expectEvents([
          [ann, [chat('Ann', 'after')]],
          [bob, [chat('Ann', 'after')]],
          [lurker, [chat('Ann', 'after')]],
        ]);
      });
    }

    test('each socket gets its own rejections, in the order it sent the requests', async () => {
      const { ann, bob, lurker } = await lobby();
      ann.emit('chat', '');
      ann.emit('chat', 7);
      ann.emit('chat', 'ok');
      ann.emit('chat', 'x'.repeat(2001));
      await expectEvents([
        [ann, [
          rejected('chat', 'emptyMessage'),
          rejected('chat', 'notAString'),
          chat('Ann', 'ok'),
          rejected('chat', 'messageTooLong'),
        ]],
        [bob, [chat('Ann', 'ok')]],
        [lurker, [chat('Ann', 'ok')]],
      ]);
    });
  });
}
