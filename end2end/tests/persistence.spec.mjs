// History, sessions and healing: reloads (also without JavaScript), tabs, log-out, a
// server restart, the unread count, older pages, a resync. Each test has its own server
// and database (fixtures.mjs).

import {
  RECONNECT_TIMEOUT_MS,
  SESSION_GRACE_MS,
  baseURL,
  expect,
  login,
  messages,
  notice,
  notices,
  openApp,
  reloadApp,
  send,
  serverLines,
  setHidden,
  takeOffline,
  test,
  texts,
  userNames,
  waitWelcomed,
} from './fixtures.mjs';

const sentLines = (page) => page.getByTestId('messages').locator('li.message[data-state="sent"]');

/** Has `bot` send `count` messages `${prefix}1`..; resolves once all came back stored. */
async function seed(bot, count, prefix = 'm') {
  const sent = Array.from({ length: count }, (_, i) => `${prefix}${i + 1}`);
  for (const text of sent) bot.chat(text);
  // Settled once every one of these is back at the bot (whatever else it received
  // meanwhile, e.g. a message of the page that was still on its way).
  const arrived = () => {
    const received = new Set(bot.chats.map((m) => m.message));
    return sent.filter((text) => received.has(text)).length;
  };
  await expect.poll(arrived, { timeout: 15_000 }).toBe(count);
  return sent;
}

/** Waits until `ms` after `since` (performance.now() values), e.g. past a grace period. */
async function waitUntil(page, since, ms) {
  await page.waitForTimeout(Math.max(0, since + ms - performance.now()));
}

/** Scrolls the message list to its top, which asks for the previous page. */
async function scrollToTop(page) {
  await page.getByTestId('messages').evaluate((el) => {
    el.scrollTop = 0;
    el.dispatchEvent(new Event('scroll'));
  });
}

test('a reload keeps you logged in with the history, also without JavaScript', async ({ browser, openUser }) => {
  const ann = await openUser({ name: 'Ann' });
  await send(ann.page, 'first');
  await send(ann.page, 'second');
  await expect(texts(ann.page)).toHaveText(['first', 'second']);
  await expect(sentLines(ann.page)).toHaveCount(2);

  await reloadApp(ann.page);
  await expect(ann.page.getByTestId('me')).toHaveText('Ann');
  await waitWelcomed(ann.page, 'Ann');
  await expect(ann.page.getByTestId('login-form')).toHaveCount(0);
  await expect(ann.page.getByTestId('message-input')).toBeVisible();
  await expect(texts(ann.page)).toHaveText(['first', 'second']);
  await expect(sentLines(ann.page)).toHaveCount(2);
  await expect(messages(ann.page).first()).toHaveClass(/(^|\s)own(\s|$)/);
  await expect(ann.page.getByTestId('history-edge')).toHaveText('This is the beginning of the conversation.');
  await send(ann.page, 'third');
  await expect(texts(ann.page)).toHaveText(['first', 'second', 'third']);
  await expect(sentLines(ann.page)).toHaveCount(3);
  expect(await userNames(ann.page)).toEqual(['Ann']);

  // The same session with JavaScript off: everything comes from the server's HTML.
  const noScript = await browser.newContext({
    javaScriptEnabled: false,
    storageState: await ann.context.storageState(),
  });
  try {
    const page = await noScript.newPage();
    const response = await page.goto(baseURL());
    expect(response?.status()).toBe(200);
    await expect(page.locator('body')).not.toHaveAttribute('data-hydrated', 'true');
    await expect(page.getByTestId('me')).toHaveText('Ann');
    await expect(page.getByTestId('login-form')).toHaveCount(0);
    await expect(texts(page)).toHaveText(['first', 'second', 'third']);
    await expect(messages(page).locator('span.sender')).toHaveText(['Ann', 'Ann', 'Ann']);
    await expect(sentLines(page)).toHaveCount(3);
    await expect(page.getByTestId('users').getByTestId('user')).toHaveText(['Ann']);
    await expect(page.getByTestId('history-edge')).toHaveText('This is the beginning of the conversation.');
    // Before the app runs, times are in UTC, from the stored time.
    const times = page.locator('li.message time.at');
    await expect(times).toHaveCount(3);
    for (const time of await times.all()) {
      const ms = Number(await time.getAttribute('data-ms'));
      expect(Math.abs(Date.now() - ms), 'stored within the last minute').toBeLessThan(60_000);
      await expect(time).toHaveText(`${new Date(ms).toISOString().slice(11, 16)} UTC`);
    }
  } finally {
    await noScript.close();
  }
});

test.describe('with a 5 s grace period', () => {
  // Time enough for a reload on a slow machine; this test waits for it to end.
  test.use({ sessionGraceMs: 5_000 });

  test('a reload in the middle of a conversation makes no noise and loses nothing', async ({ openUser, sessionGraceMs }) => {
    const ann = await openUser({ name: 'Ann' });
    const bob = await openUser({ name: 'Bob' });
    await send(ann.page, 'one');
    await send(bob.page, 'two');
    await expect(texts(bob.page)).toHaveText(['one', 'two']);
    await expect(texts(ann.page)).toHaveText(['one', 'two']);

    const reloadedAt = performance.now();
    await reloadApp(bob.page);
    await expect(bob.page.getByTestId('me')).toHaveText('Bob');
    await waitWelcomed(bob.page, 'Bob');
    await expect(texts(bob.page)).toHaveText(['one', 'two']);
    await send(ann.page, 'three');
    await expect(texts(bob.page)).toHaveText(['one', 'two', 'three']);
    await send(bob.page, 'four');
    for (const { page } of [ann, bob]) {
      await expect(texts(page)).toHaveText(['one', 'two', 'three', 'four']);
      await expect(sentLines(page)).toHaveCount(4);
      await expect(page.getByTestId('user-count')).toHaveText('2');
    }
    await expect(messages(bob.page).locator('span.sender')).toHaveText(['Ann', 'Bob', 'Ann', 'Bob']);
    // Past the grace period: Bob never left, as far as Ann can tell.
    await waitUntil(ann.page, reloadedAt, sessionGraceMs + 500);
    await expect(notices(ann.page)).toHaveText(['Ann joined', 'Bob joined']);
    expect(await userNames(ann.page)).toEqual(['Ann', 'Bob']);
    // The reloaded page itself shows no join or leave either.
    await expect(notices(bob.page)).toHaveCount(0);
    expect(await userNames(bob.page)).toEqual(['Ann', 'Bob']);
    await expect(texts(ann.page)).toHaveText(['one', 'two', 'three', 'four']);
    await expect(texts(bob.page)).toHaveText(['one', 'two', 'three', 'four']);
  });
});

test('messages sent while the page reloads are all there, once each, in order', async ({ openUser, bot }) => {
  const ann = await openUser({ name: 'Ann' });
  const bob = await bot('Bob');
  const all = await seed(bob, 5, 'before');
  await expect(texts(ann.page)).toHaveText(all);

  // Bob keeps talking while Ann's page reloads: some messages are in the server-rendered
  // page, some come with the catch-up after the welcome, some live.
  const during = (async () => {
    for (let i = 1; i <= 40; i += 1) {
      bob.chat(`during${i}`);
      all.push(`during${i}`);
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  })();
  await reloadApp(ann.page);
  await during;
  await expect.poll(() => bob.chats.length).toBe(all.length);
  await expect(texts(ann.page)).toHaveText(all);
  await expect(sentLines(ann.page)).toHaveCount(all.length);
});

test('two tabs of one session are one user', async ({ openUser }) => {
  const ann = await openUser({ name: 'Ann' });
  const bob = await openUser({ name: 'Bob' });
  const tab2 = await ann.context.newPage();
  await openApp(tab2);
  await expect(tab2.getByTestId('me')).toHaveText('Ann');
  await expect(tab2.getByTestId('login-form')).toHaveCount(0);
  await waitWelcomed(tab2, 'Ann');

  await send(tab2, 'from the second tab');
  for (const page of [ann.page, tab2, bob.page]) {
    await expect(texts(page)).toHaveText(['from the second tab']);
    await expect(sentLines(page)).toHaveCount(1);
  }
  await send(ann.page, 'from the first tab');
  for (const page of [ann.page, tab2, bob.page]) {
    await expect(texts(page)).toHaveText(['from the second tab', 'from the first tab']);
  }
  // Both tabs show them as their own; Bob sees one Ann.
  for (const page of [ann.page, tab2]) {
    await expect(messages(page).nth(0)).toHaveClass(/(^|\s)own(\s|$)/);
    await expect(messages(page).nth(1)).toHaveClass(/(^|\s)own(\s|$)/);
  }
  await expect(messages(bob.page).nth(0)).not.toHaveClass(/(^|\s)own(\s|$)/);
  for (const page of [ann.page, tab2, bob.page]) {
    await expect(page.getByTestId('user-count')).toHaveText('2');
    expect(await userNames(page)).toEqual(['Ann', 'Bob']);
  }
  await expect(notice(bob.page, 'Ann joined')).toHaveCount(0);
  await expect(notices(ann.page)).toHaveText(['Ann joined', 'Bob joined']);

  // Closing one tab is not leaving.
  await tab2.close();
  await bob.page.waitForTimeout(SESSION_GRACE_MS + 500);
  expect(await userNames(bob.page)).toEqual(['Ann', 'Bob']);
  await expect(notices(bob.page)).toHaveText(['Bob joined']);
  await send(ann.page, 'still here');
  await expect(texts(bob.page)).toHaveText(['from the second tab', 'from the first tab', 'still here']);
});

test.describe('with a long grace period', () => {
  // Only a log-out can free the name within the test.
  test.use({ sessionGraceMs: 60_000 });

  test('logging out frees the name at once and logs out every tab', async ({ openUser }) => {
    const ann = await openUser({ name: 'Ann' });
    const tab2 = await ann.context.newPage();
    await openApp(tab2);
    await expect(tab2.getByTestId('me')).toHaveText('Ann');
    await waitWelcomed(tab2, 'Ann');
    const bob = await openUser({ name: 'Bob' });
    await send(ann.page, 'bye');
    await expect(texts(bob.page)).toHaveText(['bye']);

    await ann.page.getByTestId('logout-button').click();
    for (const page of [ann.page, tab2]) {
      await expect(page.getByTestId('login-form')).toBeVisible();
      await expect(page.getByTestId('message-input')).toHaveCount(0);
      await expect(page.getByTestId('me')).toHaveCount(0);
    }
    await expect(notices(bob.page)).toHaveText(['Bob joined', 'Ann left']);
    expect(await userNames(bob.page)).toEqual(['Bob']);

    // Someone else takes the name straight away, well within the grace period.
    const other = await openUser({ name: 'Ann' });
    await expect(notices(bob.page)).toHaveText(['Bob joined', 'Ann left', 'Ann joined']);
    expect(await userNames(other.page)).toEqual(['Ann', 'Bob']);
    await expect(texts(other.page)).toHaveText(['bye']);
    // The logged-out browser has no session any more, and cannot take the name back.
    await ann.page.reload();
    await expect(ann.page.getByTestId('login-form')).toBeVisible();
    await expect(ann.page.getByTestId('me')).toHaveCount(0);
    await ann.page.getByTestId('name-input').fill('Ann');
    await ann.page.getByTestId('login-button').click();
    await expect(ann.page.getByTestId('login-error')).toHaveText('Name already taken');
  });
});

test.describe('with an 8 s grace period', () => {
  // Users online at the restart are held this long from the restart: time enough for the
  // pages to come back through their backoff, even on a slow machine.
  test.use({ sessionGraceMs: 8_000 });

  test('a server restart mid-conversation heals itself: nothing lost, nothing doubled', async ({ openUser, server, sessionGraceMs }) => {
    const ann = await openUser({ name: 'Ann' });
    const bob = await openUser({ name: 'Bob' });
    const users = [ann, bob];
    await send(ann.page, 'before 1');
    await send(bob.page, 'before 2');
    for (const { page } of users) {
      await expect(texts(page)).toHaveText(['before 1', 'before 2']);
      await expect(sentLines(page)).toHaveCount(2);
    }

    // One more just as the server dies: stored or not, it must end up there exactly once.
    await send(bob.page, 'as it crashes');
    await server.crash();
    for (const { page } of users) await expect(page.getByTestId('connection')).toHaveText('reconnecting…');
    await send(ann.page, 'Ann while down');
    await send(bob.page, 'Bob while down');
    for (const { page } of users) {
      const line = messages(page).last();
      await expect(line).toHaveAttribute('data-state', 'pending');
      await expect(line.getByTestId('delivery')).toHaveText('sending…');
    }
    // Down for a while: the pages keep retrying with their backoff.
    await ann.page.waitForTimeout(1_500);
    await expect(ann.page.getByTestId('connection')).toHaveText('reconnecting…');

    // It comes back on the same port and database; the pages reconnect by themselves.
    await server.start();
    const restartedAt = performance.now();
    for (const { page } of users) {
      await expect(page.getByTestId('connection')).toHaveText('', { timeout: RECONNECT_TIMEOUT_MS });
      await expect(messages(page).filter({ hasText: 'while down' })).toHaveCount(2);
    }
    await expect(messages(ann.page).filter({ hasText: 'Ann while down' })).toHaveAttribute('data-state', 'sent');
    await expect(messages(bob.page).filter({ hasText: 'Bob while down' })).toHaveAttribute('data-state', 'sent');
    await send(bob.page, 'after 1');
    await expect(messages(bob.page).last()).toHaveAttribute('data-state', 'sent');
    await send(ann.page, 'after 2');

    const all = ['before 1', 'before 2', 'as it crashes', 'Ann while down', 'Bob while down', 'after 1', 'after 2'];
    for (const { page } of users) {
      await expect.poll(async () => (await texts(page).allTextContents()).sort(), { timeout: 10_000 }).toEqual([...all].sort());
      await expect(sentLines(page)).toHaveCount(all.length);
      await expect(page.getByTestId('messages').getByTestId('delivery')).toHaveCount(0);
    }
    // One order for everyone; each sender's messages in the order written.
    const order = await texts(ann.page).allTextContents();
    expect(await texts(bob.page).allTextContents()).toEqual(order);
    expect(order.slice(0, 2)).toEqual(['before 1', 'before 2']);
    expect(order.slice(-2)).toEqual(['after 1', 'after 2']);
    expect(order.indexOf('as it crashes')).toBeLessThan(order.indexOf('Bob while down'));

    // No leave/join noise for the restart, even past the grace period, and one welcome each.
    await waitUntil(ann.page, restartedAt, sessionGraceMs + 500);
    await expect(notices(ann.page)).toHaveText(['Ann joined', 'Bob joined']);
    await expect(notices(bob.page)).toHaveText(['Bob joined']);
    for (const { page, name } of users) {
      await expect(serverLines(page)).toHaveText([`Welcome to the chat, ${name}!`]);
      expect(await userNames(page)).toEqual(['Ann', 'Bob']);
    }
    // A reload shows the same history, from the restarted server's database.
    await reloadApp(bob.page);
    await expect(texts(bob.page)).toHaveText(order);
    await expect(texts(ann.page)).toHaveText(order);
  });
});

test.describe('with a 4 s grace period', () => {
  // Time enough for the page that stays to come back after the restart, even on a slow
  // machine; the test waits for the one that does not.
  test.use({ sessionGraceMs: 4_000 });

  test('after a restart, a user who does not come back leaves once the grace period is over', async ({ openUser, server, sessionGraceMs }) => {
    const ann = await openUser({ name: 'Ann' });
    const bob = await openUser({ name: 'Bob' });
    await server.crash();
    await bob.context.close();
    await server.start();
    await expect(ann.page.getByTestId('connection')).toHaveText('', { timeout: RECONNECT_TIMEOUT_MS });
    // Still listed (the grace period), then gone, with one notice.
    await expect(ann.page.getByTestId('user-count')).toHaveText('2');
    await expect(notice(ann.page, 'Bob left')).toHaveCount(1, { timeout: sessionGraceMs + 5_000 });
    await expect(ann.page.getByTestId('user-count')).toHaveText('1');
    expect(await userNames(ann.page)).toEqual(['Ann']);
    await expect(notices(ann.page)).toHaveText(['Ann joined', 'Bob joined', 'Bob left']);
  });
});

test('the title counts unread messages from others while the tab is hidden', async ({ openUser, bot }) => {
  const ann = await openUser({ name: 'Ann' });
  const bob = await bot('Bob');
  await expect(ann.page).toHaveTitle('Chat');
  bob.chat('seen');
  await expect(texts(ann.page)).toHaveText(['seen']);
  await expect(ann.page).toHaveTitle('Chat');

  await setHidden(ann.page, true);
  bob.chat('one');
  bob.chat('two');
  await expect(texts(ann.page)).toHaveText(['seen', 'one', 'two']);
  await expect(ann.page).toHaveTitle('(2) Chat');
  // Your own messages and join notices are not unread.
  await send(ann.page, 'mine');
  await expect(messages(ann.page).last()).toHaveAttribute('data-state', 'sent');
  await bot('Cid');
  await expect(notice(ann.page, 'Cid joined')).toHaveCount(1);
  await expect(ann.page).toHaveTitle('(2) Chat');
  bob.chat('three');
  await expect(texts(ann.page)).toHaveText(['seen', 'one', 'two', 'mine', 'three']);
  await expect(ann.page).toHaveTitle('(3) Chat');

  await setHidden(ann.page, false);
  await expect(ann.page).toHaveTitle('Chat');
  bob.chat('four');
  await expect(texts(ann.page)).toHaveText(['seen', 'one', 'two', 'mine', 'three', 'four']);
  await expect(ann.page).toHaveTitle('Chat');

  // Hidden again: counting starts from zero.
  await setHidden(ann.page, true);
  bob.chat('five');
  await expect(ann.page).toHaveTitle('(1) Chat');
  await setHidden(ann.page, false);
  await expect(ann.page).toHaveTitle('Chat');
});

test('messages from others caught up after a reconnection count as unread', async ({ openUser, bot }) => {
  const ann = await openUser({ name: 'Ann', route: true });
  const bob = await bot('Bob');
  await setHidden(ann.page, true);
  await takeOffline(ann.page, ann.link);
  await seed(bob, 2, 'missed');
  await expect(ann.page).toHaveTitle('Chat');

  ann.link.down = false;
  await expect(texts(ann.page)).toHaveText(['missed1', 'missed2'], { timeout: RECONNECT_TIMEOUT_MS });
  await expect(ann.page).toHaveTitle('(2) Chat');
  await setHidden(ann.page, false);
  await expect(ann.page).toHaveTitle('Chat');
});

test('your own messages from another tab, caught up after a reconnection, are not unread', async ({ openUser, bot }) => {
  const ann = await openUser({ name: 'Ann', route: true });
  const bob = await bot('Bob');
  const tab2 = await ann.context.newPage();
  await openApp(tab2);
  await waitWelcomed(tab2, 'Ann');
  await setHidden(ann.page, true);
  await takeOffline(ann.page, ann.link);
  await send(tab2, 'from tab 2');
  await expect.poll(() => bob.chats.map((m) => m.message)).toEqual(['from tab 2']);

  ann.link.down = false;
  await expect(texts(ann.page)).toHaveText(['from tab 2'], { timeout: RECONNECT_TIMEOUT_MS });
  await expect(messages(ann.page).last()).toHaveClass(/(^|\s)own(\s|$)/);
  // Nothing from anyone else arrived: nothing is unread.
  await expect(ann.page).toHaveTitle('Chat', { timeout: 5_000 });
});

test('a tab offline while another logs out and in as someone else never sends as them', async ({ openUser, bot }) => {
  const ann = await openUser({ name: 'Ann', route: true });
  const cat = await bot('Cat');
  const tab2 = await ann.context.newPage();
  await openApp(tab2);
  await waitWelcomed(tab2, 'Ann');
  await takeOffline(ann.page, ann.link);
  await send(ann.page, 'written offline as Ann');
  await expect(messages(ann.page).last()).toHaveAttribute('data-state', 'pending');
  // The other tab logs out and in as Bob: the cookie both tabs share is Bob's now.
  await tab2.getByTestId('logout-button').click();
  await login(tab2, 'Bob');

  ann.link.down = false;
  // Welcomed as Bob, the first tab ends Ann's session there instead of sending for her.
  await expect(ann.page.getByTestId('login-form')).toBeVisible({ timeout: RECONNECT_TIMEOUT_MS });
  await expect(ann.page.getByTestId('message-input')).toHaveCount(0);
  await send(tab2, 'Bob here');
  await expect.poll(() => cat.chats.map((m) => m.message)).toContain('Bob here');
  expect(cat.chats.map((m) => m.message)).not.toContain('written offline as Ann');
  const sentTexts = ann.link.sentEvents().map((e) => JSON.stringify(e.payload ?? null));
  expect(sentTexts.filter((p) => p.includes('written offline as Ann'))).toEqual([]);
});

test('scrolling up loads older pages down to the first message', async ({ openUser, bot }) => {
  const TOTAL = 120;
  const bob = await bot('Bob');
  const all = await seed(bob, TOTAL);

  const ann = await openUser({ name: 'Ann' });
  // The page arrives with the newest 50, scrolled to the newest.
  await expect(texts(ann.page)).toHaveText(all.slice(-50));
  await expect(messages(ann.page).last()).toBeInViewport();
  await expect(ann.page.getByTestId('history-edge')).toHaveText('');

  // Scrolling up loads the 50 before, keeping the message you looked at in view.
  await scrollToTop(ann.page);
  await expect(texts(ann.page)).toHaveText(all.slice(-100));
  await expect(texts(ann.page).filter({ hasText: /^m71$/ })).toBeInViewport();
  await expect(ann.page.getByTestId('history-edge')).toHaveText('');

  // Then the last 20, and the beginning.
  await scrollToTop(ann.page);
  await expect(texts(ann.page)).toHaveText(all);
  await expect(ann.page.getByTestId('history-edge')).toHaveText('This is the beginning of the conversation.');
  await expect(ann.page.getByTestId('load-older')).toBeHidden();

  // Nothing more to load; live messages still go at the end.
  await scrollToTop(ann.page);
  bob.chat('live');
  await expect(texts(ann.page)).toHaveText([...all, 'live']);
});

test('"Load older messages" loads page by page to the beginning', async ({ openUser, bot }) => {
  const bob = await bot('Bob');
  const all = await seed(bob, 120);
  const ann = await openUser({ name: 'Ann' });
  const button = ann.page.getByTestId('load-older');
  await expect(texts(ann.page)).toHaveText(all.slice(-50));
  await expect(button).toHaveText('Load older messages');

  // Activated without scrolling (keyboard, assistive technology): scrolling to it would load
  // by itself, as the test above shows.
  await button.dispatchEvent('click');
  await expect(texts(ann.page)).toHaveText(all.slice(-100));
  await expect(ann.page.getByTestId('history-edge')).toHaveText('');
  await expect(button).not.toHaveAttribute('hidden');
  await button.dispatchEvent('click');
  await expect(texts(ann.page)).toHaveText(all);
  await expect(button).toBeHidden();
  await expect(ann.page.getByTestId('history-edge')).toHaveText('This is the beginning of the conversation.');
  await expect(sentLines(ann.page)).toHaveCount(120);
});

test.describe('with a small catch-up limit', () => {
  test.use({ serverArgs: ['--catch-up-max', '10'] });

  test('after missing more than the catch-up limit, the page resyncs: each message once, in order', async ({ openUser, bot }) => {
    const { page, link } = await openUser({ name: 'Ann', route: true });
    const bob = await bot('Bob');
    await send(page, 'a');
    await expect(sentLines(page)).toHaveCount(1);

    await takeOffline(page, link);
    const missed = await seed(bob, 30, 'b');
    await send(page, 'offline');
    await expect(messages(page).last()).toHaveAttribute('data-state', 'pending');

    link.down = false;
    await expect(page.getByTestId('connection')).toHaveText('', { timeout: RECONNECT_TIMEOUT_MS });
    const all = ['a', ...missed, 'offline'];
    await expect(texts(page)).toHaveText(all, { timeout: 10_000 });
    await expect(sentLines(page)).toHaveCount(all.length);
    await expect.poll(() => bob.chats.map((m) => m.message)).toEqual(all);
    await page.waitForTimeout(500);
    await expect(texts(page)).toHaveText(all);
    expect(bob.chats.length).toBe(all.length);
  });
});
