// Sessions: POST /api/session and /api/logout over HTTP, the HttpOnly cookie, and sockets
// that connect with it (socket.io-client's extraHeaders): welcomed under the session's name,
// several tabs and reconnections within the grace period without userJoined/userLeft noise,
// the name held during the grace period, log-out, and cookies that name no live session.
// A fresh server (own database, 1.5 s grace period) for every test.

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';

import {
  ANY_MESSAGE, QUIET_MS, TRANSPORTS, createSession, expectEvents, expectNothing, onlineUsers, postLogout,
  postSession, rejected, sessionEnded, withAnyMessage, withCookie, withServer,
} from './helpers.mjs';

const GRACE_MS = 1_500;
/** Tests of one describe running at once (each has its own server; most of their time is waiting). */
const CONCURRENCY = 8;
/** Thirty days, the session cookie's lifetime: as long as an unused session lives (each
 * page load and Socket.IO handshake renews it). */
const COOKIE_DAYS = 30;
const COOKIE_S = COOKIE_DAYS * 24 * 3600;

/** Runs a test against a server of its own with a short grace period. */
const run = (fn) => withServer({ args: ['--session-grace-ms', String(GRACE_MS)] }, fn);

const chat = (sender, message) => ['chat', { sender, message }];
const error = (reason) => ({ reason, message: ANY_MESSAGE });

/** The attributes of a Set-Cookie line, lower-cased names → values (true when valueless). */
function cookieAttributes(setCookie) {
  const [, ...parts] = setCookie.split(';').map((part) => part.trim());
  const attributes = {};
  for (const part of parts) {
    const [key, ...value] = part.split('=');
    attributes[key.toLowerCase()] = value.length ? value.join('=') : true;
  }
  return attributes;
}

/** Asserts a session cookie as docs/protocol.md describes it; returns its token. */
function assertSessionCookie(answer, { secure = false } = {}) {
  assert.ok(answer.setCookie, `no chat_session cookie set: ${JSON.stringify(answer.setCookies)}`);
  const token = answer.cookie.slice('chat_session='.length);
  // 32 random bytes in base64url: 43 characters (44 with padding).
  assert.match(token, /^[A-Za-z0-9_-]{43}=?$/, `the token ${token}`);
  const attributes = cookieAttributes(answer.setCookie);
  assert.equal(attributes.httponly, true, `HttpOnly in ${answer.setCookie}`);
  assert.equal(String(attributes.samesite).toLowerCase(), 'lax', `SameSite=Lax in ${answer.setCookie}`);
  assert.equal(attributes.path, '/', `Path=/ in ${answer.setCookie}`);
  assert.equal(attributes.secure === true, secure, `Secure ${secure ? '' : 'not '}in ${answer.setCookie}`);
  if ('max-age' in attributes) {
    assert.equal(Number(attributes['max-age']), COOKIE_S, `Max-Age in ${answer.setCookie}`);
  } else {
    assert.ok(attributes.expires, `a lifetime (Max-Age or Expires) in ${answer.setCookie}`);
    const days = (Date.parse(attributes.expires) - Date.now()) / 86_400_000;
    assert.ok(Math.abs(days - COOKIE_DAYS) < 1, `Expires about ${COOKIE_DAYS} days ahead in ${answer.setCookie}`);
  }
  return token;
}

/** Asserts that a Set-Cookie line clears chat_session. */
function assertCookieCleared(answer) {
  assert.ok(answer.setCookie, `the log-out clears the cookie: ${JSON.stringify(answer.setCookies)}`);
  assert.equal(answer.cookie, 'chat_session=', answer.setCookie);
  const attributes = cookieAttributes(answer.setCookie);
  assert.equal(attributes.path, '/', `Path=/ in ${answer.setCookie}`);
  const expired = Number(attributes['max-age']) <= 0
    || (attributes.expires && Date.parse(attributes.expires) <= Date.now());
  assert.ok(expired, `the cleared cookie expires at once: ${answer.setCookie}`);
}

/**
 * A client logged in with the legacy `login`; its welcome and userJoined, and the userJoined
 * of every client in `observers`, taken.
 */
async function legacy(ctx, label, name, options = TRANSPORTS[0].options, observers = []) {
  const client = await ctx.connect(label, options);
  client.emit('login', name);
  await expectEvents([
    [client, [['welcome', name], ['userJoined', name]]],
    ...observers.map((observer) => [observer, [['userJoined', name]]]),
  ]);
  return client;
}

describe('POST /api/session', { concurrency: CONCURRENCY }, () => {
  test('JSON: 200 {name} (trimmed) and an HttpOnly, SameSite=Lax, Path=/ cookie of 30 days', () => run(async (ctx) => {
    const answer = await postSession(ctx.url, { name: '  Ann ' });
    assert.equal(answer.status, 200, answer.text);
    assert.match(answer.contentType, /^application\/json/);
    assert.deepStrictEqual(Object.keys(answer.json).sort(), ['name', 'userId']);
    assert.equal(answer.json.name, 'Ann');
    assert.ok(Number.isInteger(answer.json.userId) && answer.json.userId > 0, JSON.stringify(answer.json));
    assertSessionCookie(answer);
  }));

  test('every session gets its own token; Secure behind X-Forwarded-Proto: https', () => run(async (ctx) => {
    const ann = await postSession(ctx.url, { name: 'Ann' });
    const bob = await postSession(ctx.url, { name: 'Bob' }, { headers: { 'x-forwarded-proto': 'https' } });
    assert.equal(ann.status, 200, ann.text);
    assert.equal(bob.status, 200, bob.text);
    assert.notEqual(assertSessionCookie(ann), assertSessionCookie(bob, { secure: true }));
  }));

  test('a form: 303 to / with the cookie; its errors: 303 to /?login-error=<reason>, no cookie', () => run(async (ctx) => {
    const answer = await postSession(ctx.url, { name: ' Bob ' }, { form: true });
    assert.equal(answer.status, 303, answer.text);
    assert.equal(answer.location, '/');
    assertSessionCookie(answer);
    const socket = await ctx.connect('bob', withCookie(answer.cookie, TRANSPORTS[0].options));
    await expectEvents([[socket, [['welcome', 'Bob'], ['userJoined', 'Bob']]]]);

    for (const [body, reason] of [
      [{ name: 'ab' }, 'invalidName'],
      [{ name: 'bob' }, 'nameTaken'],
      [{ other: 'x' }, 'badRequest'],
    ]) {
      const refused = await postSession(ctx.url, body, { form: true });
      assert.equal(refused.status, 303, `${JSON.stringify(body)}: ${refused.text}`);
      assert.equal(refused.location, `/?login-error=${reason}`, JSON.stringify(body));
      assert.equal(refused.setCookie, null, `${JSON.stringify(body)} sets no session cookie`);
    }
  }));

  const invalid = [
    ['too short', 'ab'],
    ['too short once trimmed', '  ab  '],
    ['too long', 'abcdefghijk'],
    ['only spaces', '     '],
    ['empty', ''],
    ['a control character', 'An\u0007n'],
    ['a number', 42],
    ['an object', { first: 'Ann' }],
  ];
  for (const [what, name] of invalid) {
    test(`a name that is ${what}: 400 {reason:"invalidName"}, no cookie`, () => run(async (ctx) => {
      const answer = await postSession(ctx.url, { name });
      assert.equal(answer.status, 400, answer.text);
      assert.deepStrictEqual(withAnyMessage(answer.json), error('invalidName'));
      assert.equal(answer.setCookie, null);
    }));
  }

  test('no name in the body: 400 {reason:"badRequest"}', () => run(async (ctx) => {
    for (const body of ['{}', '{"nom":"Ann"}', 'not json', '']) {
      const answer = await postSession(ctx.url, body);
      assert.equal(answer.status, 400, `${JSON.stringify(body)}: ${answer.text}`);
      assert.deepStrictEqual(withAnyMessage(answer.json), error('badRequest'), JSON.stringify(body));
      assert.equal(answer.setCookie, null);
    }
  }));

  test('a name held by a user logged in with `login`: 409 {reason:"nameTaken"}, any case', () => run(async (ctx) => {
    await legacy(ctx, 'cat (login)', 'Cat');
    for (const name of ['Cat', 'cat', ' CAT ']) {
      const answer = await postSession(ctx.url, { name });
      assert.equal(answer.status, 409, `${name}: ${answer.text}`);
      assert.deepStrictEqual(withAnyMessage(answer.json), error('nameTaken'));
      assert.equal(answer.setCookie, null);
    }
  }));

  test('a name held by another session, even before it connects: 409, and login gets loginNameExists', () => run(async (ctx) => {
    await createSession(ctx.url, 'Dee');
    const answer = await postSession(ctx.url, { name: 'dEE' });
    assert.equal(answer.status, 409, answer.text);
    assert.deepStrictEqual(withAnyMessage(answer.json), error('nameTaken'));
    const tryer = await ctx.connect('tryer', TRANSPORTS[0].options);
    tryer.emit('login', 'dee');
    await expectEvents([[tryer, [['loginNameExists', 'dee']]]]);
  }));

  test('an Origin naming another host: 403 {reason:"crossOrigin"}, nothing created; the same origin is fine', () => run(async (ctx) => {
    const evil = await postSession(ctx.url, { name: 'Eve' }, { headers: { origin: 'http://evil.example' } });
    assert.equal(evil.status, 403, evil.text);
    assert.deepStrictEqual(withAnyMessage(evil.json), error('crossOrigin'));
    assert.equal(evil.setCookie, null);
    const form = await postSession(ctx.url, { name: 'Eve' }, { form: true, headers: { origin: 'http://evil.example' } });
    assert.equal(form.status, 403, form.text);
    assert.equal(form.setCookie, null);
    const same = await postSession(ctx.url, { name: 'Eve' }, { headers: { origin: new URL(ctx.url).origin } });
    assert.equal(same.status, 200, `the name was not held by the refused requests: ${same.text}`);
    assertSessionCookie(same);
  }));
});

for (const { label, options } of TRANSPORTS) {
  describe(`session sockets (${label})`, { concurrency: CONCURRENCY }, () => {
    // Flows that do not depend on the transport run over WebSocket only.
    const once = label === TRANSPORTS[0].label ? test : () => {};

    test('a socket with the cookie is welcomed under the session name; userJoined to everyone once', () => run(async (ctx) => {
      const watcher = await ctx.connect('watcher', options);
      const bob = await legacy(ctx, 'bob (login)', 'Bob', options, [watcher]);
      const cookie = await createSession(ctx.url, 'Ann');
      const tab1 = await ctx.connect('ann tab 1', withCookie(cookie, options));
      await expectEvents([
        [tab1, [['welcome', 'Ann'], ['userJoined', 'Ann']]],
        [watcher, [['userJoined', 'Ann']]],
        [bob, [['userJoined', 'Ann']]],
      ]);
      assert.deepStrictEqual(await onlineUsers(ctx.url), ['Bob', 'Ann']);

      tab1.emit('chat', 'hello from a session');
      const message = chat('Ann', 'hello from a session');
      await expectEvents([[tab1, [message]], [watcher, [message]], [bob, [message]]]);
    }));

    test('a second tab gets welcome only; both tabs chat as the user; closing one tab sends nothing', () => run(async (ctx) => {
      const watcher = await ctx.connect('watcher', options);
      const cookie = await createSession(ctx.url, 'Ann');
      const tab1 = await ctx.connect('ann tab 1', withCookie(cookie, options));
      await expectEvents([[tab1, [['welcome', 'Ann'], ['userJoined', 'Ann']]], [watcher, [['userJoined', 'Ann']]]]);

      const tab2 = await ctx.connect('ann tab 2', withCookie(cookie, options));
      await expectEvents([[tab2, [['welcome', 'Ann']]], [tab1, []], [watcher, []]]);
      assert.deepStrictEqual(await onlineUsers(ctx.url), ['Ann']);

      tab2.emit('chat', 'from tab 2');
      await expectEvents([[tab1, [chat('Ann', 'from tab 2')]], [tab2, [chat('Ann', 'from tab 2')]], [watcher, [chat('Ann', 'from tab 2')]]]);
      tab1.emit('chat', 'from tab 1');
      await expectEvents([[tab1, [chat('Ann', 'from tab 1')]], [tab2, [chat('Ann', 'from tab 1')]], [watcher, [chat('Ann', 'from tab 1')]]]);

      tab1.close();
      await expectNothing([tab2, watcher]);
      assert.deepStrictEqual(await onlineUsers(ctx.url), ['Ann']);
      tab2.emit('chat', 'still here');
      await expectEvents([[tab2, [chat('Ann', 'still here')]], [watcher, [chat('Ann', 'still here')]]]);
    }));

    test('the last tab closes: no userLeft during the grace period, then exactly one', () => run(async (ctx) => {
      const watcher = await ctx.connect('watcher', options);
      const cookie = await createSession(ctx.url, 'Ann');
      const tab1 = await ctx.connect('ann tab 1', withCookie(cookie, options));
      await expectEvents([[tab1, [['welcome', 'Ann'], ['userJoined', 'Ann']]], [watcher, [['userJoined', 'Ann']]]]);
      const tab2 = await ctx.connect('ann tab 2', withCookie(cookie, options));
      await expectEvents([[tab2, [['welcome', 'Ann']]], [tab1, []], [watcher, []]]);
      tab1.close();
      tab2.close();
      const closedAt = performance.now();
      // Still online and announced nothing well into the grace period...
      await expectNothing([watcher], GRACE_MS - 500);
      assert.deepStrictEqual(await onlineUsers(ctx.url), ['Ann']);
      // ...then one userLeft once it has passed.
      await watcher.waitFor('userLeft', GRACE_MS + 3_000);
      const elapsed = performance.now() - closedAt;
      assert.ok(elapsed >= GRACE_MS - 100, `userLeft came ${elapsed} ms after the last tab closed (grace ${GRACE_MS} ms)`);
      await expectEvents([[watcher, [['userLeft', 'Ann']]]]);
      assert.deepStrictEqual(await onlineUsers(ctx.url), []);
    }));

    test('reconnecting within the grace period: welcome only, no userLeft or userJoined for anyone', () => run(async (ctx) => {
      const watcher = await ctx.connect('watcher', options);
      const cookie = await createSession(ctx.url, 'Ann');
      const tab = await ctx.connect('ann', withCookie(cookie, options));
      await expectEvents([[tab, [['welcome', 'Ann'], ['userJoined', 'Ann']]], [watcher, [['userJoined', 'Ann']]]]);
      tab.close();
      const closedAt = performance.now();
      await expectNothing([watcher], GRACE_MS / 3);

      const again = await ctx.connect('ann again (reload)', withCookie(cookie, options));
      await expectEvents([[again, [['welcome', 'Ann']]], [watcher, []]]);
      // Past the end of the first grace period: still nobody leaves.
      await expectNothing([again, watcher], Math.max(QUIET_MS, GRACE_MS + 500 - (performance.now() - closedAt)));
      assert.deepStrictEqual(await onlineUsers(ctx.url), ['Ann']);
      again.emit('chat', 'back');
      await expectEvents([[again, [chat('Ann', 'back')]], [watcher, [chat('Ann', 'back')]]]);
    }));

    once('the name stays held during the grace period (login: loginNameExists, any case), then is free', () => run(async (ctx) => {
      const watcher = await ctx.connect('watcher', options);
      const cookie = await createSession(ctx.url, 'Ann');
      const tab = await ctx.connect('ann', withCookie(cookie, options));
      await expectEvents([[tab, [['welcome', 'Ann'], ['userJoined', 'Ann']]], [watcher, [['userJoined', 'Ann']]]]);
      tab.close();
      await expectNothing([watcher]);

      const tryer = await ctx.connect('tryer', options);
      for (const name of ['Ann', 'ann', ' ANN ']) {
        tryer.emit('login', name);
        await expectEvents([[tryer, [['loginNameExists', name.trim()]]], [watcher, []]]);
      }
      const taken = await postSession(ctx.url, { name: 'aNN' });
      assert.equal(taken.status, 409, taken.text);

      await watcher.waitFor('userLeft', GRACE_MS + 3_000);
      await expectEvents([[watcher, [['userLeft', 'Ann']]], [tryer, [['userLeft', 'Ann']]]]);
      tryer.emit('login', 'ann');
      await expectEvents([
        [tryer, [['welcome', 'ann'], ['userJoined', 'ann']]],
        [watcher, [['userJoined', 'ann']]],
      ]);
    }));

    once('after the grace period the session still works: welcome and userJoined again', () => run(async (ctx) => {
      const watcher = await ctx.connect('watcher', options);
      const cookie = await createSession(ctx.url, 'Ann');
      const tab = await ctx.connect('ann', withCookie(cookie, options));
      await expectEvents([[tab, [['welcome', 'Ann'], ['userJoined', 'Ann']]], [watcher, [['userJoined', 'Ann']]]]);
      tab.close();
      await watcher.waitFor('userLeft', GRACE_MS + 3_000);
      await expectEvents([[watcher, [['userLeft', 'Ann']]]]);

      const back = await ctx.connect('ann back', withCookie(cookie, options));
      await expectEvents([[back, [['welcome', 'Ann'], ['userJoined', 'Ann']]], [watcher, [['userJoined', 'Ann']]]]);
    }));

    once('someone took the name after the grace period: the session socket gets sessionEnded nameTaken', () => run(async (ctx) => {
      const watcher = await ctx.connect('watcher', options);
      const cookie = await createSession(ctx.url, 'Ann');
      const tab = await ctx.connect('ann', withCookie(cookie, options));
      await expectEvents([[tab, [['welcome', 'Ann'], ['userJoined', 'Ann']]], [watcher, [['userJoined', 'Ann']]]]);
      tab.close();
      await watcher.waitFor('userLeft', GRACE_MS + 3_000);
      await expectEvents([[watcher, [['userLeft', 'Ann']]]]);
      const other = await legacy(ctx, 'other ANN (login)', 'ANN', options, [watcher]);

      const back = await ctx.connect('ann back', withCookie(cookie, options));
      await expectEvents([[back, [sessionEnded('nameTaken')]], [watcher, []], [other, []]]);
      back.emit('chat', 'am I Ann?');
      await expectEvents([[back, [rejected('chat', 'notLoggedIn')]], [watcher, []], [other, []]]);
      assert.deepStrictEqual(await onlineUsers(ctx.url), ['ANN']);
    }));

    once('a session that never connects holds its name for the grace period, silently', () => run(async (ctx) => {
      const watcher = await ctx.connect('watcher', options);
      const created = performance.now();
      await createSession(ctx.url, 'Eve');
      const tryer = await ctx.connect('tryer', options);
      tryer.emit('login', 'eve');
      await expectEvents([[tryer, [['loginNameExists', 'eve']]], [watcher, []]]);
      // No userJoined, and no userLeft when the hold ends: nobody was ever shown.
      await expectNothing([watcher, tryer], Math.max(QUIET_MS, GRACE_MS + 500 - (performance.now() - created)));
      tryer.emit('login', 'eve');
      await expectEvents([[tryer, [['welcome', 'eve'], ['userJoined', 'eve']]], [watcher, [['userJoined', 'eve']]]]);
    }));

    once('a session socket cannot log in again, under another name or its own', () => run(async (ctx) => {
      const watcher = await ctx.connect('watcher', options);
      const cookie = await createSession(ctx.url, 'Ann');
      const tab = await ctx.connect('ann', withCookie(cookie, options));
      await expectEvents([[tab, [['welcome', 'Ann'], ['userJoined', 'Ann']]], [watcher, [['userJoined', 'Ann']]]]);
      for (const name of ['Bob', 'Ann', 'ab']) {
        tab.emit('login', name);
        await expectEvents([[tab, [rejected('login', 'alreadyLoggedIn')]], [watcher, []]]);
      }
      tab.emit('chat', 'still Ann');
      await expectEvents([[tab, [chat('Ann', 'still Ann')]], [watcher, [chat('Ann', 'still Ann')]]]);
      assert.deepStrictEqual(await onlineUsers(ctx.url), ['Ann']);
      // Bob was never taken.
      watcher.emit('login', 'Bob');
      await expectEvents([[watcher, [['welcome', 'Bob'], ['userJoined', 'Bob']]], [tab, [['userJoined', 'Bob']]]]);
    }));

    once('the cookie is found among other cookies', () => run(async (ctx) => {
      const cookie = await createSession(ctx.url, 'Ann');
      const tab = await ctx.connect('ann', withCookie(`theme=dark; ${cookie}; lang=en`, options));
      await expectEvents([[tab, [['welcome', 'Ann'], ['userJoined', 'Ann']]]]);
    }));

    test('POST /api/logout: sessionEnded loggedOut to every tab, userLeft to all, the name free at once', () => run(async (ctx) => {
      const watcher = await ctx.connect('watcher', options);
      const bob = await legacy(ctx, 'bob (login)', 'Bob', options, [watcher]);
      const cookie = await createSession(ctx.url, 'Ann');
      const tab1 = await ctx.connect('ann tab 1', withCookie(cookie, options));
      await expectEvents([
        [tab1, [['welcome', 'Ann'], ['userJoined', 'Ann']]],
        [watcher, [['userJoined', 'Ann']]],
        [bob, [['userJoined', 'Ann']]],
      ]);
      const tab2 = await ctx.connect('ann tab 2', withCookie(cookie, options));
      await expectEvents([[tab2, [['welcome', 'Ann']]], [tab1, []], [watcher, []], [bob, []]]);

      const answer = await postLogout(ctx.url, cookie);
      assert.equal(answer.status, 200, answer.text);
      assert.deepStrictEqual(answer.json, {});
      assertCookieCleared(answer);
      await expectEvents([
        [tab1, [sessionEnded('loggedOut'), ['userLeft', 'Ann']]],
        [tab2, [sessionEnded('loggedOut'), ['userLeft', 'Ann']]],
        [watcher, [['userLeft', 'Ann']]],
        [bob, [['userLeft', 'Ann']]],
      ]);
      // The tabs stay connected, logged out.
      assert.ok(tab1.socket.connected && tab2.socket.connected, 'the tabs stay connected');
      tab1.emit('chat', 'still me?');
      await expectEvents([[tab1, [rejected('chat', 'notLoggedIn')]], [tab2, []], [watcher, []], [bob, []]]);
      assert.deepStrictEqual(await onlineUsers(ctx.url), ['Bob']);

      // The name is free at once, no grace period.
      watcher.emit('login', 'ann');
      await expectEvents([
        [watcher, [['welcome', 'ann'], ['userJoined', 'ann']]],
        [tab1, [['userJoined', 'ann']]],
        [tab2, [['userJoined', 'ann']]],
        [bob, [['userJoined', 'ann']]],
      ]);

      // The old cookie names no session any more.
      const stale = await ctx.connect('ann, old cookie', withCookie(cookie, options));
      await expectEvents([[stale, [sessionEnded('unknownSession')]], [watcher, []], [bob, []], [tab1, []]]);
    }));

    once('logging out during the grace period: userLeft at once', () => run(async (ctx) => {
      const watcher = await ctx.connect('watcher', options);
      const cookie = await createSession(ctx.url, 'Ann');
      const tab = await ctx.connect('ann', withCookie(cookie, options));
      await expectEvents([[tab, [['welcome', 'Ann'], ['userJoined', 'Ann']]], [watcher, [['userJoined', 'Ann']]]]);
      tab.close();
      await expectNothing([watcher]);
      const loggedOutAt = performance.now();
      assert.equal((await postLogout(ctx.url, cookie)).status, 200);
      await watcher.waitFor('userLeft', GRACE_MS / 2);
      assert.ok(performance.now() - loggedOutAt < GRACE_MS / 2);
      await expectEvents([[watcher, [['userLeft', 'Ann']]]]);
      const answer = await postSession(ctx.url, { name: 'ANN' });
      assert.equal(answer.status, 200, `the name is free: ${answer.text}`);
    }));

    const unknown = [
      ['a forged token (32 random bytes)', () => `chat_session=${randomBytes(32).toString('base64url')}`],
      ['garbage', () => 'chat_session=%%%not a token%%%'],
      ['a quoted forged token', () => `chat_session="${randomBytes(32).toString('base64url')}"`],
    ];
    for (const [i, [what, cookie]] of unknown.entries()) {
      (i === 0 ? test : once)(`a cookie with ${what}: sessionEnded unknownSession, and the socket stays logged out`, () => run(async (ctx) => {
        const watcher = await legacy(ctx, 'watcher (login)', 'Wat', options);
        const forged = await ctx.connect('forger', withCookie(cookie(), options));
        await expectEvents([[forged, [sessionEnded('unknownSession')]], [watcher, []]]);
        assert.ok(forged.socket.connected, 'the socket stays connected');
        forged.emit('chat', 'let me in');
        forged.emit('typing');
        await expectEvents([[forged, [rejected('chat', 'notLoggedIn'), rejected('typing', 'notLoggedIn')]], [watcher, []]]);
        assert.deepStrictEqual(await onlineUsers(ctx.url), ['Wat']);
        // It may still log in the original way.
        forged.emit('login', 'Mal');
        await expectEvents([[forged, [['welcome', 'Mal'], ['userJoined', 'Mal']]], [watcher, [['userJoined', 'Mal']]]]);
      }));
    }
  });
}

describe('POST /api/logout', { concurrency: CONCURRENCY }, () => {
  test('without a session: 200 {}; a form: 303 to /; both clear the cookie', () => run(async (ctx) => {
    const bare = await postLogout(ctx.url, null);
    assert.equal(bare.status, 200, bare.text);
    assert.deepStrictEqual(bare.json, {});
    assertCookieCleared(bare);

    const watcher = await ctx.connect('watcher', TRANSPORTS[0].options);
    const cookie = await createSession(ctx.url, 'Ann');
    const tab = await ctx.connect('ann', withCookie(cookie, TRANSPORTS[0].options));
    await expectEvents([[tab, [['welcome', 'Ann'], ['userJoined', 'Ann']]], [watcher, [['userJoined', 'Ann']]]]);
    const form = await postLogout(ctx.url, cookie, { form: true });
    assert.equal(form.status, 303, form.text);
    assert.equal(form.location, '/');
    assertCookieCleared(form);
    await expectEvents([[tab, [sessionEnded('loggedOut'), ['userLeft', 'Ann']]], [watcher, [['userLeft', 'Ann']]]]);
  }));

  test('from another origin: 403 {reason:"crossOrigin"}, the session goes on', () => run(async (ctx) => {
    const watcher = await ctx.connect('watcher', TRANSPORTS[0].options);
    const cookie = await createSession(ctx.url, 'Ann');
    const tab = await ctx.connect('ann', withCookie(cookie, TRANSPORTS[0].options));
    await expectEvents([[tab, [['welcome', 'Ann'], ['userJoined', 'Ann']]], [watcher, [['userJoined', 'Ann']]]]);
    const answer = await postLogout(ctx.url, cookie, { headers: { origin: 'https://evil.example' } });
    assert.equal(answer.status, 403, answer.text);
    assert.deepStrictEqual(withAnyMessage(answer.json), error('crossOrigin'));
    await expectNothing([tab, watcher]);
    tab.emit('chat', 'still in');
    await expectEvents([[tab, [chat('Ann', 'still in')]], [watcher, [chat('Ann', 'still in')]]]);
  }));
});
