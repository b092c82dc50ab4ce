// Rooms and direct messages in the browser: three users, two rooms and a DM. Unread badges
// rise and clear, each conversation keeps its own messages, "Seen" under what the other
// party read, deep links and back/forward, the drawer on a phone, a reload mid-conversation,
// and the whole chat without JavaScript (pages and plain forms).

import {
  RECONNECT_TIMEOUT_MS, baseURL, expect, messages, notices, reloadApp, send, takeOffline, test, texts,
} from './fixtures.mjs';

/** The sidebar entry of a room, and of a DM. */
const roomEntry = (page, room) => page.getByTestId('rooms').locator(`[data-room="${room}"]`);
const dmEntry = (page, name) => page.getByTestId('dms').locator(`[data-with="${name}"]`);

/** Joins (or creates) a room with the sidebar's box; waits until it is shown and listed. */
async function joinRoom(page, room) {
  await page.getByTestId('join-room-input').fill(room);
  await page.getByTestId('join-room-button').click();
  await expect(page.getByTestId('conversation-title')).toHaveText(`#${room}`);
  await expect(roomEntry(page, room)).toBeVisible();
  await expect(page.getByTestId('message-input')).toBeVisible();
}

/** Opens a conversation from the sidebar. */
async function openRoom(page, room) {
  await roomEntry(page, room).getByTestId('room-link').click();
  await expect(page.getByTestId('conversation-title')).toHaveText(`#${room}`);
}

/** Sends a message in the conversation shown and waits until the server stored it. */
async function sendStored(page, text) {
  await send(page, text);
  await expect(messages(page).filter({ hasText: text }).last()).toHaveAttribute('data-state', 'sent');
}

test('three users, two rooms and a DM: badges rise and clear, conversations stay apart, Seen', async ({ openUser }) => {
  const ann = await openUser({ name: 'Ann' });
  const bob = await openUser({ name: 'Bob' });
  const cat = await openUser({ name: 'Cat' });
  await joinRoom(ann.page, 'rust');
  await joinRoom(bob.page, 'rust');
  await joinRoom(cat.page, 'ops');
  await joinRoom(bob.page, 'ops');
  await expect(bob.page.getByTestId('users').getByTestId('user')).toHaveText(['Bob', 'Cat']);
  // Ann looks at general.
  await ann.page.getByTestId('rooms').locator('[data-room="general"]').getByTestId('room-link').click();
  await expect(ann.page.getByTestId('conversation-title')).toHaveText('#general');

  // Bob writes in rust: Ann's badge for rust rises; Cat (not a member) sees nothing.
  await openRoom(bob.page, 'rust');
  await sendStored(bob.page, 'rust one');
  await sendStored(bob.page, 'rust two');
  await expect(roomEntry(ann.page, 'rust').getByTestId('badge')).toHaveText('2');
  await expect(texts(ann.page)).not.toContainText(['rust one']);
  await expect(cat.page.getByTestId('rooms').locator('[data-room="rust"]')).toHaveCount(0);

  // Cat writes in ops: Bob, in rust, gets a badge for ops; rust shows only rust's messages.
  await sendStored(cat.page, 'ops one');
  await expect(roomEntry(bob.page, 'ops').getByTestId('badge')).toHaveText('1');
  await expect(texts(bob.page)).toHaveText(['rust one', 'rust two']);

  // Ann opens rust: its messages, "New messages" at the first, the badge gone.
  await openRoom(ann.page, 'rust');
  await expect(texts(ann.page)).toHaveText(['rust one', 'rust two']);
  await expect(ann.page.getByTestId('new-messages')).toHaveCount(1);
  await expect(messages(ann.page).first().getByTestId('new-messages')).toBeVisible();
  await expect(roomEntry(ann.page, 'rust').getByTestId('badge')).toHaveCount(0);
  // General still has only its own lines, and back/forward switch between them.
  await ann.page.goBack();
  await expect(ann.page.getByTestId('conversation-title')).toHaveText('#general');
  await expect(texts(ann.page)).toHaveText([]);
  await ann.page.goForward();
  await expect(ann.page.getByTestId('conversation-title')).toHaveText('#rust');
  await expect(texts(ann.page)).toHaveText(['rust one', 'rust two']);

  // Ann opens a DM with Bob from the members of rust, and writes.
  await ann.page.getByTestId('users').getByTestId('user-link').filter({ hasText: 'Bob' }).click();
  await expect(ann.page.getByTestId('conversation-title')).toHaveText('Bob');
  await expect(ann.page).toHaveURL(/\/dm\/Bob$/);
  await sendStored(ann.page, 'psst, Bob');
  await expect(dmEntry(bob.page, 'Ann').getByTestId('badge')).toHaveText('1');
  await expect(dmEntry(ann.page, 'Bob')).toBeVisible();
  await expect(cat.page.getByTestId('dms').getByTestId('dm')).toHaveCount(0);
  await expect(ann.page.getByTestId('seen')).toHaveCount(0);

  // Bob reads it: his badge clears, and Ann sees "Seen" under her message.
  await dmEntry(bob.page, 'Ann').getByTestId('dm-link').click();
  await expect(texts(bob.page)).toHaveText(['psst, Bob']);
  await expect(dmEntry(bob.page, 'Ann').getByTestId('badge')).toHaveCount(0);
  await expect(messages(ann.page).last().getByTestId('seen')).toHaveText('Seen');

  // Bob answers: Ann, looking at the DM, gets no badge.
  await sendStored(bob.page, 'hi Ann');
  await expect(texts(ann.page)).toHaveText(['psst, Bob', 'hi Ann']);
  await expect(dmEntry(ann.page, 'Bob').getByTestId('badge')).toHaveCount(0);

  // A reload mid-conversation: the same conversation, its messages, once each.
  await ann.page.reload();
  await expect(ann.page.locator('body')).toHaveAttribute('data-hydrated', 'true');
  await expect(ann.page.getByTestId('conversation-title')).toHaveText('Bob');
  await expect(texts(ann.page)).toHaveText(['psst, Bob', 'hi Ann']);
  await sendStored(ann.page, 'after the reload');
  await expect(texts(bob.page)).toHaveText(['psst, Bob', 'hi Ann', 'after the reload']);
});

test('leaving a room: gone from the sidebar, its messages stop', async ({ openUser }) => {
  const ann = await openUser({ name: 'Ann' });
  const bob = await openUser({ name: 'Bob' });
  await joinRoom(ann.page, 'temp');
  await joinRoom(bob.page, 'temp');
  await ann.page.getByTestId('leave-room').click();
  await expect(ann.page.getByTestId('conversation-title')).toHaveText('#general');
  await expect(roomEntry(ann.page, 'temp')).toHaveCount(0);
  await expect(bob.page.getByTestId('users').getByTestId('user')).toHaveText(['Bob']);
  await sendStored(bob.page, 'anyone?');
  await expect(texts(ann.page)).not.toContainText(['anyone?']);
  // The rooms page lists it, with its one member.
  await ann.page.getByTestId('browse-rooms').click();
  await expect(ann.page.getByTestId('all-rooms').locator('[data-room="temp"]').getByTestId('room-members'))
    .toHaveText('1 members, 1 online');
});

test('a phone-sized screen: the conversations are a drawer', async ({ openUser }) => {
  const phone = { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true };
  const ann = await openUser({ name: 'Ann', contextOptions: phone });
  const sidebar = ann.page.getByTestId('sidebar');
  await expect(sidebar).not.toBeInViewport();
  await ann.page.getByTestId('menu').click();
  await expect(sidebar).toBeInViewport();
  await ann.page.getByTestId('join-room-input').fill('mobile');
  await ann.page.getByTestId('join-room-button').click();
  await expect(ann.page.getByTestId('conversation-title')).toHaveText('#mobile');
  await expect(sidebar).not.toBeInViewport();
  await expect(ann.page.getByTestId('message-input')).toBeInViewport();
  const width = await ann.page.evaluate(() => document.documentElement.scrollWidth);
  expect(width).toBeLessThanOrEqual(390);
});

test('leaving a room while reconnecting: it is left once the connection is back', async ({ openUser }) => {
  const ann = await openUser({ name: 'Ann', route: true });
  const bob = await openUser({ name: 'Bob' });
  await joinRoom(ann.page, 'flaky');
  await joinRoom(bob.page, 'flaky');
  await expect(bob.page.getByTestId('users').getByTestId('user')).toHaveText(['Ann', 'Bob']);
  await takeOffline(ann.page, ann.link);
  await ann.page.getByTestId('leave-room').click();
  await expect(ann.page.getByTestId('conversation-title')).toHaveText('#general');
  ann.link.down = false;
  // Bob sees Ann leave (not only go offline and come back), and she stays out.
  await expect(notices(bob.page)).toHaveText(['Ann left'], { timeout: RECONNECT_TIMEOUT_MS });
  await expect(bob.page.getByTestId('users').getByTestId('user')).toHaveText(['Bob']);
  await expect(roomEntry(ann.page, 'flaky')).toHaveCount(0);
  await reloadApp(ann.page);
  await expect(ann.page.getByTestId('rooms').locator('[data-room]')).toHaveCount(1);
  await expect(roomEntry(ann.page, 'general')).toBeVisible();
});

test('without JavaScript: log in, join a room, read and post by plain forms and links', async ({ browser, openUser }) => {
  const bob = await openUser({ name: 'Bob' });
  await joinRoom(bob.page, 'plain');
  await sendStored(bob.page, 'from the app');

  const context = await browser.newContext({ javaScriptEnabled: false });
  try {
    const page = await context.newPage();
    // A deep link renders the room before logging in, and logging in comes back to it.
    const response = await page.goto(`${baseURL()}/r/plain`);
    expect(response?.status()).toBe(200);
    await expect(page.locator('body')).not.toHaveAttribute('data-hydrated', 'true');
    await page.getByTestId('name-input').fill('Nojs');
    await page.getByTestId('login-button').click();
    await expect(page).toHaveURL(/\/r\/plain$/);
    await expect(page.getByTestId('conversation-title')).toHaveText('#plain');
    await expect(texts(page)).toHaveText(['from the app']);
    // Not a member yet: join by the form, then post by the form.
    await page.getByTestId('join-this-room').click();
    await expect(page.getByTestId('message-input')).toBeVisible();
    await page.getByTestId('message-input').fill('from a plain form');
    await page.getByTestId('send-button').click();
    await expect(page).toHaveURL(/\/r\/plain$/);
    await expect(texts(page)).toHaveText(['from the app', 'from a plain form']);
    await expect(texts(bob.page)).toHaveText(['from the app', 'from a plain form']);
    // A DM by link and form.
    await page.goto(`${baseURL()}/dm/Bob`);
    await page.getByTestId('message-input').fill('hello without scripts');
    await page.getByTestId('send-button').click();
    await expect(texts(page)).toHaveText(['hello without scripts']);
    await expect(dmEntry(bob.page, 'Nojs').getByTestId('badge')).toHaveText('1');
    // Joining a room by name.
    await page.getByTestId('join-room-input').fill('Fresh');
    await page.getByTestId('join-room-button').click();
    await expect(page).toHaveURL(/\/r\/fresh$/);
    await expect(page.getByTestId('rooms').locator('[data-room="fresh"]')).toBeVisible();
  } finally {
    await context.close();
  }
});

test('a deep link to a room renders its history with JavaScript disabled', async ({ browser, openUser }) => {
  const ann = await openUser({ name: 'Ann' });
  await joinRoom(ann.page, 'deep');
  await sendStored(ann.page, 'deep one');
  await sendStored(ann.page, 'deep two');
  const context = await browser.newContext({ javaScriptEnabled: false, storageState: await ann.context.storageState() });
  try {
    const page = await context.newPage();
    await page.goto(`${baseURL()}/r/deep`);
    await expect(page.getByTestId('conversation-title')).toHaveText('#deep');
    await expect(texts(page)).toHaveText(['deep one', 'deep two']);
    await expect(page.getByTestId('me')).toHaveText('Ann');
    await expect(roomEntry(page, 'deep')).toBeVisible();
    // The room's online members, as rendered (Ann's app is open).
    await expect(page.getByTestId('user-count')).toHaveText('1');
    await expect(page.getByTestId('users')).toContainText('Ann');
  } finally {
    await context.close();
  }
  // And hydrated, a deep link opens there too.
  const other = await ann.context.newPage();
  await other.goto(`${baseURL()}/r/deep`);
  await expect(other.locator('body')).toHaveAttribute('data-hydrated', 'true');
  await expect(texts(other)).toHaveText(['deep one', 'deep two']);
});
