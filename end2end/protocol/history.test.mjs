// Stored messages: `chat {text, clientId}` with an acknowledgement (ids, sentAt, idempotent
// resends), refusals answered in the acknowledgement too, and `history`: the newest page,
// `before` pages back to the first message, `after` catch-up, `resync` past catch-up-max,
// and every malformed request. A fresh server (own database) for every test.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import {
  ANY_MESSAGE, QUIET_MS, TRANSPORTS, expectEvents, expectNothing, rejected, sleep, until, withAnyMessage, withServer,
} from './helpers.mjs';

/** Tests of one describe running at once (each has its own server). */
const CONCURRENCY = 4;

const run = (fn) => withServer({}, fn);

/** ann and bob logged in (with `login`), lurker connected only; nothing pending. */
async function lobby(scene, options = TRANSPORTS[0].options) {
  const ann = await scene.connect('ann', options);
  const bob = await scene.connect('bob', options);
  const lurker = await scene.connect('lurker (not logged in)', options);
  for (const [client, name] of [[ann, 'Ann'], [bob, 'Bob']]) {
    client.emit('login', name);
    for (const other of [ann, bob, lurker]) await other.waitFor((e) => e[0] === 'userJoined' && e[1] === name);
  }
  for (const client of [ann, bob, lurker]) client.take();
  return { ann, bob, lurker, everyone: [ann, bob, lurker] };
}

/** Asserts an acknowledged, stored chat: exactly {ok, id, sentAt, duplicate}. */
function assertStored(receipt, { duplicate = false, after = 0, sentBetween = null } = {}) {
  assert.ok(receipt && typeof receipt === 'object', `receipt ${JSON.stringify(receipt)}`);
  assert.deepStrictEqual(receipt, { ok: true, id: receipt.id, sentAt: receipt.sentAt, duplicate });
  assert.ok(Number.isInteger(receipt.id) && receipt.id > after, `id ${receipt.id} (must be an integer above ${after})`);
  assert.ok(Number.isInteger(receipt.sentAt), `sentAt ${receipt.sentAt}`);
  if (sentBetween) {
    const [from, to] = sentBetween;
    assert.ok(receipt.sentAt >= from - 1_000 && receipt.sentAt <= to + 1_000, `sentAt ${receipt.sentAt} is the time of storing (${from}..${to})`);
  }
}

/** Sends texts from `client` as `{text, clientId}` chats, all at once; resolves with the receipts, in order. */
async function sendAll(client, texts, prefix) {
  return Promise.all(texts.map((text, i) => client.call('chat', { text, clientId: `${prefix}-${i}` })));
}

/**
 * Waits until every client has received `count` chats in total, checks that they all got the
 * same ones and nothing else, forgets their events, and returns the chats as received.
 */
async function chatsSeen(clients, count, timeoutMs = 10_000) {
  for (const client of clients) {
    await until(() => client.rawChats().length >= count, timeoutMs, () => `${client.label} to receive ${count} chats (got ${client.rawChats().length})`);
  }
  await sleep(QUIET_MS);
  const seen = clients[0].rawChats();
  for (const client of clients) {
    assert.deepStrictEqual(client.rawChats(), seen, `chats seen by ${client.label}`);
    assert.deepStrictEqual(client.take().filter(([event]) => event !== 'chat'), [], `${client.label} got only chats`);
  }
  return seen;
}

const page = (messages, hasMore) => ({ ok: true, messages, hasMore, resync: false });
const refused = (reason) => ({ ok: false, reason, message: ANY_MESSAGE });

for (const { label, options } of TRANSPORTS) {
  describe(`chat with a clientId and an acknowledgement (${label})`, () => {
    test('acknowledged {ok, id, sentAt, duplicate:false}; everyone gets the chat with id, sentAt and clientId', () => run(async (scene) => {
      const { ann, bob, lurker, everyone } = await lobby(scene, options);
      const from = Date.now();
      const receipt = await ann.call('chat', { text: 'hello', clientId: 'c-1' });
      assertStored(receipt, { sentBetween: [from, Date.now()] });
      const message = { sender: 'Ann', message: 'hello', clientId: 'c-1' };
      await expectEvents(everyone.map((client) => [client, [['chat', message]]]));
      for (const client of [ann, bob, lurker]) {
        assert.deepStrictEqual(client.rawChats(), [{ ...message, id: receipt.id, sentAt: receipt.sentAt }], client.label);
      }
    }));
  });
}

describe('chat with a clientId and an acknowledgement', { concurrency: CONCURRENCY }, () => {
  test('the same clientId again: the first id, duplicate:true, and nothing is broadcast', () => run(async (scene) => {
    const { ann, bob, lurker, everyone } = await lobby(scene);
    const first = await ann.call('chat', { text: 'once', clientId: 'retry-me' });
    assertStored(first);
    await expectEvents(everyone.map((client) => [client, [['chat', { sender: 'Ann', message: 'once', clientId: 'retry-me' }]]]));

    for (const text of ['once', 'a different text, same clientId']) {
      const again = await ann.call('chat', { text, clientId: 'retry-me' });
      assert.deepStrictEqual(again, { ok: true, id: first.id, sentAt: first.sentAt, duplicate: true });
      await expectNothing(everyone);
    }
    // Without an acknowledgement: nothing at all.
    ann.emit('chat', { text: 'once', clientId: 'retry-me' });
    await expectNothing(everyone);

    const history = await lurker.call('history', { after: 0 });
    assert.deepStrictEqual(history, page([{ sender: 'Ann', message: 'once', clientId: 'retry-me', id: first.id, sentAt: first.sentAt }], false));

    // A new clientId is a new message.
    const next = await ann.call('chat', { text: 'twice', clientId: 'retry-me-2' });
    assertStored(next, { after: first.id });
    await expectEvents([ann, bob, lurker].map((client) => [client, [['chat', { sender: 'Ann', message: 'twice', clientId: 'retry-me-2' }]]]));
  }));

  test("another user's message with the same clientId is a message of its own", () => run(async (scene) => {
    const { ann, bob, everyone } = await lobby(scene);
    const mine = await ann.call('chat', { text: 'from Ann', clientId: 'same' });
    assertStored(mine);
    const theirs = await bob.call('chat', { text: 'from Bob', clientId: 'same' });
    assertStored(theirs, { after: mine.id });
    await expectEvents(everyone.map((client) => [client, [
      ['chat', { sender: 'Ann', message: 'from Ann', clientId: 'same' }],
      ['chat', { sender: 'Bob', message: 'from Bob', clientId: 'same' }],
    ]]));
  }));

  test('ids strictly increase in the order stored, for plain and object chats of several users', () => run(async (scene) => {
    const { ann, bob, lurker, everyone } = await lobby(scene);
    const receipts = [];
    const expected = [];
    for (let i = 0; i < 10; i += 1) {
      const annText = `ann ${i}`;
      receipts.push(await ann.call('chat', { text: annText, clientId: `a-${i}` }));
      expected.push({ sender: 'Ann', message: annText, clientId: `a-${i}` });
      // The original string payload, acknowledged too.
      const bobText = `bob ${i}`;
      receipts.push(await bob.call('chat', bobText));
      expected.push({ sender: 'Bob', message: bobText });
    }
    let last = 0;
    for (const receipt of receipts) {
      assertStored(receipt, { after: last });
      last = receipt.id;
    }
    const seen = await chatsSeen(everyone, expected.length);
    assert.deepStrictEqual(
      seen,
      expected.map((message, i) => ({ ...message, id: receipts[i].id, sentAt: receipts[i].sentAt })),
    );
  }));

  test('refused chats: ok:false with the reason in the acknowledgement, requestRejected to the sender only', () => run(async (scene) => {
    const { ann, bob, lurker } = await lobby(scene);
    const cases = [
      [{ text: 'hi', clientId: '' }, 'badClientId'],
      [{ text: 'hi', clientId: 'a b' }, 'badClientId'],
      [{ text: 'hi', clientId: 'a/b' }, 'badClientId'],
      [{ text: 'hi', clientId: 'é' }, 'badClientId'],
      [{ text: 'hi', clientId: 'x'.repeat(65) }, 'badClientId'],
      [{ text: 'hi', clientId: 42 }, 'badClientId'],
      [{ text: 'hi', clientId: null }, 'badClientId'],
      [{ text: 'hi' }, 'badClientId'],
      [{ text: 42, clientId: 'r-1' }, 'notAString'],
      [{ text: null, clientId: 'r-1' }, 'notAString'],
      [{ clientId: 'r-1' }, 'notAString'],
      [{ text: ['hi'], clientId: 'r-1' }, 'notAString'],
      [{ text: ' \n ', clientId: 'r-1' }, 'emptyMessage'],
      [{ text: 'x'.repeat(2001), clientId: 'r-1' }, 'messageTooLong'],
      [42, 'notAString'],
      ['', 'emptyMessage'],
    ];
    for (const [payload, reason] of cases) {
      const receipt = await ann.call('chat', payload);
      assert.deepStrictEqual(withAnyMessage(receipt), refused(reason), JSON.stringify(payload).slice(0, 80));
      await expectEvents([[ann, [rejected('chat', reason)]], [bob, []], [lurker, []]]);
    }
    // Refused messages were not stored: their clientId is still unused; the longest valid one works.
    const longest = 'aZ09-_'.repeat(11).slice(0, 64);
    for (const clientId of ['r-1', longest]) {
      const receipt = await ann.call('chat', { text: 'valid', clientId });
      assertStored(receipt);
      await expectEvents([ann, bob, lurker].map((client) => [client, [['chat', { sender: 'Ann', message: 'valid', clientId }]]]));
    }
  }));

  test('a chat from a socket that is not logged in: ok:false notLoggedIn, and requestRejected', () => run(async (scene) => {
    const { ann, lurker } = await lobby(scene);
    const receipt = await lurker.call('chat', { text: 'let me in', clientId: 'l-1' });
    assert.deepStrictEqual(withAnyMessage(receipt), refused('notLoggedIn'));
    await expectEvents([[lurker, [rejected('chat', 'notLoggedIn')]], [ann, []]]);
    assert.deepStrictEqual(await lurker.call('history', {}), page([], false));
  }));
});

for (const { label, options } of TRANSPORTS) {
  describe(`history pages (${label})`, () => {
    test('the newest page, then pages before an id, with hasMore; asked by any socket', () => run(async (scene) => {
      const { ann, bob, lurker, everyone } = await lobby(scene, options);
      assert.deepStrictEqual(await lurker.call('history'), page([], false), 'an empty lobby');
      for (let i = 0; i < 7; i += 1) await (i % 2 ? bob : ann).call('chat', { text: `m${i}`, clientId: `k${i}` });
      const all = await chatsSeen(everyone, 7);
      const ids = all.map((m) => m.id);

      // No payload, {} and {conversation: "lobby"}: the newest page (50 by default).
      assert.deepStrictEqual(await lurker.call('history'), page(all, false));
      assert.deepStrictEqual(await lurker.call('history', {}), page(all, false));
      assert.deepStrictEqual(await ann.call('history', { conversation: 'lobby' }), page(all, false));
      assert.deepStrictEqual(await lurker.call('history', { limit: 3 }), page(all.slice(4), true));
      assert.deepStrictEqual(await lurker.call('history', { limit: 7 }), page(all, false));
      assert.deepStrictEqual(await lurker.call('history', { before: ids[4], limit: 3 }), page(all.slice(1, 4), true));
      assert.deepStrictEqual(await lurker.call('history', { before: ids[3], limit: 3 }), page(all.slice(0, 3), false));
      assert.deepStrictEqual(await lurker.call('history', { before: ids[1], limit: 3 }), page(all.slice(0, 1), false));
      assert.deepStrictEqual(await lurker.call('history', { before: ids[0] }), page([], false));
      assert.deepStrictEqual(await lurker.call('history', { before: ids[6] + 1000 }), page(all, false));
      assert.deepStrictEqual(await bob.call('history', { limit: 1 }), page(all.slice(6), true));
      // Reading sends nothing to anyone.
      await expectNothing(everyone);
    }));
  });
}

describe('history', { concurrency: CONCURRENCY }, () => {
  test('without an acknowledgement: requestRejected ackRequired to that socket only', () => run(async (scene) => {
    const { ann, lurker, everyone } = await lobby(scene);
    await ann.call('chat', { text: 'there is history', clientId: 'h' });
    await chatsSeen(everyone, 1);
    for (const client of [lurker, ann]) {
      for (const args of [[], [{}], [{ after: 0 }]]) {
        client.emit('history', ...args);
        await expectEvents(everyone.map((c) => [c, c === client ? [rejected('history', 'ackRequired')] : []]));
      }
    }
  }));

  test('limit is 1 to 100; malformed requests get ok:false badRequest and nothing else', () => run(async (scene) => {
    const { ann, lurker, everyone } = await lobby(scene);
    await sendAll(ann, Array.from({ length: 120 }, (_, i) => `n${i}`), 'n');
    const all = await chatsSeen(everyone, 120);
    assert.deepStrictEqual(await lurker.call('history', { limit: 100 }), page(all.slice(20), true));
    assert.deepStrictEqual(await lurker.call('history', { limit: 1 }), page(all.slice(119), true));
    assert.deepStrictEqual(await lurker.call('history'), page(all.slice(70), true), 'the default page is 50');

    const bad = [
      { limit: 0 },
      { limit: 101 },
      { limit: -1 },
      { limit: 1.5 },
      { limit: '10' },
      { limit: true },
      { before: -1 },
      { before: 2.5 },
      { before: '5' },
      { after: -1 },
      { after: 'x' },
      { after: 0.5 },
      { conversation: 7 },
      'lobby',
      42,
      [1],
    ];
    for (const payload of bad) {
      assert.deepStrictEqual(withAnyMessage(await lurker.call('history', payload)), refused('badRequest'), JSON.stringify(payload));
    }
    await expectNothing(everyone);
  }));

  test('an unknown conversation: ok:false unknownConversation', () => run(async (scene) => {
    const { ann, lurker, everyone } = await lobby(scene);
    for (const conversation of ['nope', 'dm:1:99']) {
      for (const payload of [{ conversation }, { conversation, after: 0 }, { conversation, before: 5 }]) {
        assert.deepStrictEqual(withAnyMessage(await lurker.call('history', payload)), refused('unknownConversation'), JSON.stringify(payload));
        assert.deepStrictEqual(withAnyMessage(await ann.call('history', payload)), refused('unknownConversation'), JSON.stringify(payload));
      }
    }
    await expectNothing(everyone);
  }));

  test('paging back through 300 messages reaches the first one, without gaps or repeats', () => run(async (scene) => {
    const { ann, bob, lurker, everyone } = await lobby(scene);
    const [annReceipts, bobReceipts] = await Promise.all([
      sendAll(ann, Array.from({ length: 150 }, (_, i) => `ann says ${i}`), 'a'),
      sendAll(bob, Array.from({ length: 150 }, (_, i) => `bob says ${i}`), 'b'),
    ]);
    const all = await chatsSeen(everyone, 300, 20_000);
    const ids = all.map((m) => m.id);
    assert.deepStrictEqual([...ids].sort((a, b) => a - b), ids, 'broadcast in id order');
    assert.deepStrictEqual(
      [...annReceipts, ...bobReceipts].map((r) => r.id).sort((a, b) => a - b),
      ids,
      'every acknowledged id was broadcast once',
    );

    const pages = [];
    let before;
    for (;;) {
      const reply = await lurker.call('history', before === undefined ? { limit: 7 } : { before, limit: 7 });
      assert.equal(reply.ok, true, JSON.stringify(reply));
      assert.equal(reply.resync, false);
      pages.unshift(reply.messages);
      const isLast = pages.flat().length >= all.length;
      assert.equal(reply.hasMore, !isLast, `hasMore of the page before ${before}`);
      assert.equal(reply.messages.length, isLast ? all.length % 7 || 7 : 7);
      if (!reply.hasMore || pages.length > 100) break;
      before = reply.messages[0].id;
    }
    assert.equal(pages.length, Math.ceil(300 / 7));
    assert.deepStrictEqual(pages.flat(), all, 'the pages, oldest first, are the history exactly');

    // A catch-up from the start answers everything (up to catch-up-max), whatever the limit.
    assert.deepStrictEqual(await lurker.call('history', { after: 0 }), page(all, false));
    assert.deepStrictEqual(await lurker.call('history', { after: 0, limit: 5 }), page(all, false));
  }));

  test('after: exactly the newer messages, oldest first', () => run(async (scene) => {
    const { ann, bob, lurker, everyone } = await lobby(scene);
    for (let i = 0; i < 12; i += 1) await (i % 3 ? ann : bob).call('chat', i % 4 ? `plain ${i}` : { text: `object ${i}`, clientId: `o${i}` });
    const all = await chatsSeen(everyone, 12);
    const ids = all.map((m) => m.id);
    assert.deepStrictEqual(await lurker.call('history', { after: 0 }), page(all, false));
    assert.deepStrictEqual(await lurker.call('history', { after: ids[4] }), page(all.slice(5), true));
    assert.deepStrictEqual(await ann.call('history', { after: ids[10] }), page(all.slice(11), true));
    // Up to date: nothing newer, and older messages exist.
    assert.deepStrictEqual(await lurker.call('history', { after: ids[11] }), page([], true));
    // A cursor past the newest id comes from another history (a replaced database): start over.
    assert.deepStrictEqual(
      await lurker.call('history', { after: ids[11] + 1000 }),
      { ok: true, messages: [], hasMore: true, resync: true },
    );
    // Messages stored later come after the last id seen.
    const later = await ann.call('chat', { text: 'later', clientId: 'later' });
    assert.deepStrictEqual(
      await lurker.call('history', { after: ids[11] }),
      page([{ sender: 'Ann', message: 'later', clientId: 'later', id: later.id, sentAt: later.sentAt }], true),
    );
  }));
});

describe('history with catch-up-max 5', { concurrency: CONCURRENCY }, () => {
  test('more than catch-up-max newer messages: resync:true and no messages; up to it: the messages', () => withServer({ args: ['--catch-up-max', '5'] }, async (scene) => {
    const { ann, lurker, everyone } = await lobby(scene);
    for (let i = 0; i < 8; i += 1) await ann.call('chat', { text: `r${i}`, clientId: `r${i}` });
    const all = await chatsSeen(everyone, 8);
    const ids = all.map((m) => m.id);
    for (const after of [0, ids[0], ids[1]]) {
      const reply = await lurker.call('history', { after });
      assert.equal(typeof reply.hasMore, 'boolean');
      assert.deepStrictEqual({ ...reply, hasMore: null }, { ok: true, messages: [], hasMore: null, resync: true }, `after ${after}`);
    }
    // Exactly catch-up-max newer: no resync.
    assert.deepStrictEqual(await lurker.call('history', { after: ids[2] }), page(all.slice(3), true));
    // Pages are not limited by catch-up-max.
    assert.deepStrictEqual(await lurker.call('history'), page(all, false));
    assert.deepStrictEqual(await lurker.call('history', { limit: 6 }), page(all.slice(2), true));
  }));
});
