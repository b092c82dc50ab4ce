// History, sessions and healing: reloads, tabs, log-out, a server restart, older pages,
// the unread count. Each test has its own server and database (fixtures.mjs).

import {
  SESSION_GRACE_MS,
  baseURL,
  expect,
  messages,
  notice,
  openApp,
  send,
  test,
  userNames,
} from './fixtures.mjs';

const texts = (page) => messages(page).locator('span.text');

/** Makes the page believe it is hidden (or visible again), as when switching tabs. */
async function setHidden(page, hidden) {
  await page.evaluate((isHidden) => {
    Object.defineProperty(document, 'hidden', { configurable: true, get: () => isHidden });
    Object.defineProperty(document, 'visibilityState', {
      configurable: true,
      get: () => (isHidden ? 'hidden' : 'visible'),
    });
    document.dispatchEvent(new Event('visibilitychange'));
  }, hidden);
}

test('a reload keeps you logged in with the history, also without JavaScript', async ({ browser, openUser }) => {
  const ann = await openUser({ name: 'Ann' });
  await send(ann.page, 'first');
  await send(ann.page, 'second');
  await expect(texts(ann.page)).toHaveText(['first', 'second']);
  await expect(messages(ann.page).last()).toHaveAttribute('data-state', 'sent');

  await ann.page.reload();
  await expect(ann.page.getByTestId('me')).toHaveText('Ann');
  await expect(texts(ann.page)).toHaveText(['first', 'second']);
  await expect(ann.page.getByTestId('login-form')).toHaveCount(0);
  await expect(ann.page.locator('body')).toHaveAttribute('data-hydrated', 'true');
  await send(ann.page, 'third');
  await expect(texts(ann.page)).toHaveText(['first', 'second', 'third']);

  // The same session with JavaScript off: everything comes from the server's HTML.
  const noScript = await browser.newContext({
    javaScriptEnabled: false,
    storageState: await ann.context.storageState(),
  });
  try {
    const page = await noScript.newPage();
    await page.goto(baseURL());
    await expect(page.getByTestId('me')).toHaveText('Ann');
    await expect(page.getByTestId('login-form')).toHaveCount(0);
    await expect(texts(page)).toHaveText(['first', 'second', 'third']);
    await expect(page.locator('time.at').first()).toHaveText(/^\d\d:\d\d UTC$/);
    await expect(page.getByTestId('users').getByTestId('user')).toHaveText(['Ann']);
  } finally {
    await noScript.close();
  }
});

test('a reload in the middle of a conversation makes no noise and loses nothing', async ({ openUser }) => {
  const ann = await openUser({ name: 'Ann' });
  const bob = await openUser({ name: 'Bob' });
  await send(ann.page, 'one');
  await send(bob.page, 'two');
  await expect(texts(bob.page)).toHaveText(['one', 'two']);

  await bob.page.reload();
  await expect(bob.page.locator('body')).toHaveAttribute('data-hydrated', 'true');
  await send(ann.page, 'three');
  await expect(texts(bob.page)).toHaveText(['one', 'two', 'three']);
  await send(bob.page, 'four');
  for (const { page } of [ann, bob]) {
    await expect(texts(page)).toHaveText(['one', 'two', 'three', 'four']);
  }
  // Past the grace period: Bob never left, as far as Ann can tell.
  await ann.page.waitForTimeout(SESSION_GRACE_MS + 500);
  await expect(ann.page.getByTestId('messages').locator('li.notice')).toHaveText(['Ann joined', 'Bob joined']);
  expect(await userNames(ann.page)).toEqual(['Ann', 'Bob']);
});

test('two tabs of one session are one user', async ({ openUser }) => {
  const ann = await openUser({ name: 'Ann' });
  const bob = await openUser({ name: 'Bob' });
  const tab2 = await ann.context.newPage();
  await openApp(tab2);
  await expect(tab2.getByTestId('me')).toHaveText('Ann');

  await send(tab2, 'from the second tab');
  for (const page of [ann.page, tab2, bob.page]) {
    await expect(texts(page)).toHaveText(['from the second tab']);
  }
  await expect(messages(ann.page).last()).toHaveClass(/(^|\s)own(\s|$)/);
  await expect(messages(bob.page).last()).not.toHaveClass(/(^|\s)own(\s|$)/);
  expect(await userNames(bob.page)).toEqual(['Ann', 'Bob']);
  await expect(notice(bob.page, 'Ann joined')).toHaveCount(0);

  // Closing one tab is not leaving.
  await tab2.close();
  await bob.page.waitForTimeout(SESSION_GRACE_MS + 500);
  expect(await userNames(bob.page)).toEqual(['Ann', 'Bob']);
  await expect(notice(bob.page, 'Ann left')).toHaveCount(0);
});

test('logging out frees the name at once', async ({ openUser }) => {
  const ann = await openUser({ name: 'Ann' });
  const bob = await openUser({ name: 'Bob' });
  await ann.page.getByTestId('logout-button').click();
  await expect(ann.page.getByTestId('login-form')).toBeVisible();
  await expect(notice(bob.page, 'Ann left')).toHaveCount(1);
  expect(await userNames(bob.page)).toEqual(['Bob']);

  // Someone else takes the name straight away.
  const other = await openUser({ name: 'ann' });
  await expect(other.page.getByTestId('me')).toHaveText('ann');
  // The logged-out browser has no session any more.
  await ann.page.reload();
  await expect(ann.page.getByTestId('login-form')).toBeVisible();
});

test('a server restart mid-conversation heals itself: nothing lost, nothing doubled', async ({ openUser, server }) => {
  const ann = await openUser({ name: 'Ann' });
  const bob = await openUser({ name: 'Bob' });
  await send(ann.page, 'before 1');
  await send(bob.page, 'before 2');
  for (const { page } of [ann, bob]) await expect(texts(page)).toHaveText(['before 1', 'before 2']);

  // The server crashes.
  server.child.kill('SIGKILL');
  await expect.poll(() => server.exitStatus()).not.toBeNull();
  await expect(ann.page.getByTestId('connection')).toHaveText(/reconnecting…/);
  await send(ann.page, 'written while down');
  await expect(messages(ann.page).last()).toHaveAttribute('data-state', 'pending');

  // It comes back on the same port and database; the pages reconnect by themselves.
  await server.restart();
  for (const { page } of [ann, bob]) {
    await expect(page.getByTestId('connection')).not.toHaveText(/reconnecting…/, { timeout: 20_000 });
  }
  await send(bob.page, 'after');
  const all = ['before 1', 'before 2', 'written while down', 'after'];
  for (const { page } of [ann, bob]) {
    await expect(texts(page)).toHaveText(all, { timeout: 10_000 });
    await expect(page.getByTestId('messages').locator('li.message[data-state="sent"]')).toHaveCount(4);
  }
  // No leave/join noise for the restart, and a reload shows the same history.
  await expect(ann.page.getByTestId('messages').locator('li.notice')).toHaveText(['Ann joined', 'Bob joined']);
  await bob.page.reload();
  await expect(texts(bob.page)).toHaveText(all);
});

test('the title counts unread messages while the tab is hidden', async ({ openUser, bot }) => {
  const ann = await openUser({ name: 'Ann' });
  const bob = await bot('Bob');
  await expect(ann.page).toHaveTitle('Chat');
  await setHidden(ann.page, true);
  bob.chat('one');
  bob.chat('two');
  await expect(ann.page).toHaveTitle('(2) Chat');
  await expect(texts(ann.page)).toHaveText(['one', 'two']);

  await setHidden(ann.page, false);
  await expect(ann.page).toHaveTitle('Chat');
  bob.chat('three');
  await expect(texts(ann.page)).toHaveText(['one', 'two', 'three']);
  await expect(ann.page).toHaveTitle('Chat');
});

test('scrolling up loads older pages down to the first message', async ({ openUser, bot }) => {
  const TOTAL = 120;
  const bob = await bot('Bob');
  let stored = 0;
  bob.socket.on('chat', () => {
    stored += 1;
  });
  for (let i = 1; i <= TOTAL; i += 1) bob.chat(`m${i}`);
  await expect.poll(() => stored, { timeout: 10_000 }).toBe(TOTAL);

  const ann = await openUser({ name: 'Ann' });
  // The page arrives with the newest 50.
  await expect(texts(ann.page)).toHaveCount(50);
  await expect(texts(ann.page).first()).toHaveText('m71');
  await expect(ann.page.getByTestId('history-edge')).toHaveText('');

  const list = ann.page.getByTestId('messages');
  await expect
    .poll(
      async () => {
        await list.evaluate((el) => {
          el.scrollTop = 0;
          el.dispatchEvent(new Event('scroll'));
        });
        return texts(ann.page).count();
      },
      { timeout: 15_000 },
    )
    .toBe(TOTAL);
  await expect(ann.page.getByTestId('history-edge')).toHaveText('This is the beginning of the conversation.');
  expect(await texts(ann.page).allTextContents()).toEqual(Array.from({ length: TOTAL }, (_, i) => `m${i + 1}`));
});
