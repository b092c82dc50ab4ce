// What the administrators' namespace (`/admin`) does to the web app: a deleted message
// leaves every page at once and stays gone after a reload (and after a catch-up, with no
// endless "fill the gap" requests); an announcement shows on every page, as text, wherever
// its reader looks; a kicked user's page goes back to the login form with the kicked
// message and stays there, and the others see them leave. The admin is the official
// socket.io-client on `${url}/admin` with the server's `--admin-token`.

import { randomBytes } from 'node:crypto';

import { io } from 'socket.io-client';

import {
  baseURL, test as base, expect, login, messages, notice, reloadApp, send, texts, userNames, waitWelcomed,
} from './fixtures.mjs';

const TOKEN = randomBytes(18).toString('hex');

const KICKED = 'A moderator removed you from the chat.';

/** An administrator's socket, connected; closed after the test. */
async function adminOf(admins) {
  const socket = io(`${baseURL()}/admin`, {
    auth: { token: TOKEN }, transports: ['websocket'], forceNew: true, reconnection: false, timeout: 5_000,
  });
  admins.push(socket);
  await new Promise((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('connect_error', (error) => reject(new Error(`admin connect_error: ${error.message}`)));
  });
  return {
    /** Asks `event` and returns its acknowledgement. */
    call: (event, payload) => socket.timeout(5_000).emitWithAck(event, payload),
  };
}

/** The fixtures of fixtures.mjs, a server with the admin token, and `admin()`. */
const test = base.extend({
  admin: async ({}, use) => {
    const admins = [];
    await use(() => adminOf(admins));
    for (const socket of admins) socket.disconnect();
  },
});
test.use({ serverArgs: ['--admin-token', TOKEN] });

/** Sends a message in the conversation shown and waits until stored; returns its id. */
async function sendStored(page, text) {
  await send(page, text);
  const line = messages(page).filter({ hasText: text }).last();
  await expect(line).toHaveAttribute('data-state', 'sent');
  const id = Number(await line.getAttribute('data-id'));
  expect(Number.isInteger(id) && id > 0, `stored id of ${text}: ${id}`).toBe(true);
  return id;
}

/** Marks the document, to tell later that it was not reloaded. */
const markDocument = (page) => page.evaluate(() => { window.__sameDocument = true; });
const sameDocument = (page) => page.evaluate(() => window.__sameDocument === true);

/** The `history {after}` requests (catch-ups) the page has sent so far (a routed socket). */
const catchUps = (link) => link.sentEvents().filter((e) => e.event === 'history' && e.payload?.after !== undefined).length;

test('a deleted message leaves both pages at once, without a reload, and stays gone after one', async ({ openUser, admin }) => {
  const ann = await openUser({ name: 'Ann', route: true });
  const bob = await openUser({ name: 'Bob' });
  await sendStored(ann.page, 'keep this');
  const doomed = await sendStored(ann.page, 'delete me');
  await sendStored(bob.page, 'after it');
  for (const { page } of [ann, bob]) {
    await expect(texts(page)).toHaveText(['keep this', 'delete me', 'after it']);
    await markDocument(page);
  }
  const asked = catchUps(ann.link);

  const moderator = await admin();
  const reply = await moderator.call('delete_message', { room: 'general', id: doomed });
  expect(reply, JSON.stringify(reply)).toMatchObject({ ok: true });
  for (const { page } of [ann, bob]) {
    await expect(texts(page)).toHaveText(['keep this', 'after it']);
    expect(await sameDocument(page), 'no reload').toBe(true);
  }
  // The next message is no jump past a hole: nothing to catch up with.
  await sendStored(bob.page, 'one more');
  await expect(texts(ann.page)).toHaveText(['keep this', 'after it', 'one more']);
  expect(catchUps(ann.link) - asked, 'catch-ups asked since the delete').toBe(0);

  // After a reload: the page the server renders has it not, nor has the catch-up after it.
  const beforeReload = catchUps(ann.link);
  for (const { page, name } of [ann, bob]) {
    await reloadApp(page);
    await waitWelcomed(page, name);
    await expect(texts(page)).toHaveText(['keep this', 'after it', 'one more']);
  }
  // The reconnection's one catch-up; its answer says which ids were deleted, so the next
  // message is no jump past a hole.
  await expect.poll(() => catchUps(ann.link)).toBe(beforeReload + 1);
  await sendStored(bob.page, 'and another');
  await expect(texts(ann.page)).toHaveText(['keep this', 'after it', 'one more', 'and another']);
  expect(catchUps(ann.link) - beforeReload, 'the deleted id is no gap after a reload either').toBe(1);

  // Deleting it again: refused, nothing changes.
  const again = await moderator.call('delete_message', { room: 'general', id: doomed });
  expect(again, JSON.stringify(again)).toMatchObject({ ok: false, reason: 'unknownMessage' });
});

test('a deleted direct message leaves both sides of the conversation', async ({ openUser, admin }) => {
  const ann = await openUser({ name: 'Ann' });
  const bob = await openUser({ name: 'Bob' });
  await ann.page.getByTestId('users').getByTestId('user-link').filter({ hasText: 'Bob' }).click();
  await expect(ann.page.getByTestId('conversation-title')).toHaveText('Bob');
  const first = await sendStored(ann.page, 'psst');
  await sendStored(ann.page, 'still here');
  await bob.page.getByTestId('dms').locator('[data-with="Ann"]').getByTestId('dm-link').click();
  await expect(bob.page.getByTestId('conversation-title')).toHaveText('Ann');
  await expect(texts(bob.page)).toHaveText(['psst', 'still here']);

  const moderator = await admin();
  const reply = await moderator.call('delete_message', { with: ['Ann', 'Bob'], id: first });
  expect(reply, JSON.stringify(reply)).toMatchObject({ ok: true });
  for (const { page } of [ann, bob]) await expect(texts(page)).toHaveText(['still here']);
  await reloadApp(bob.page);
  await expect(texts(bob.page)).toHaveText(['still here']);
});

test('an announcement shows on every page as text, where each reader looks', async ({ openUser, admin }) => {
  const TEXT = '<b>maintenance</b> at 5';
  const ann = await openUser({ name: 'Ann' });
  const bob = await openUser({ name: 'Bob' });
  await sendStored(ann.page, 'hello');
  await expect(texts(bob.page)).toHaveText(['hello']);
  // Bob looks at a room of his own.
  await bob.page.getByTestId('join-room-input').fill('ops');
  await bob.page.getByTestId('join-room-button').click();
  await expect(bob.page.getByTestId('conversation-title')).toHaveText('#ops');
  await expect(bob.page.getByTestId('message-input')).toBeVisible();

  const moderator = await admin();
  const reply = await moderator.call('announce', { message: TEXT });
  expect(reply, JSON.stringify(reply)).toMatchObject({ ok: true });
  for (const { page } of [ann, bob]) {
    const line = page.getByTestId('messages').getByTestId('announcement');
    await expect(line).toHaveCount(1);
    await expect(line.locator('span.text')).toHaveText(TEXT);
    await expect(page.getByTestId('messages').locator('b')).toHaveCount(0);
  }
  // Not a message: the lists of messages are what they were, and nothing is unread.
  await expect(texts(ann.page)).toHaveText(['hello']);
  await expect(texts(bob.page)).toHaveText([]);
  await expect(bob.page.getByTestId('rooms').locator('[data-room="general"]').getByTestId('badge')).toHaveCount(0);
  // Bob finds it in general too, once.
  await bob.page.getByTestId('rooms').locator('[data-room="general"]').getByTestId('room-link').click();
  await expect(bob.page.getByTestId('conversation-title')).toHaveText('#general');
  await expect(bob.page.getByTestId('messages').getByTestId('announcement').locator('span.text')).toHaveText([TEXT]);
});

test('a kicked user goes back to the login form with the kicked message, stays there, and leaves', async ({ openUser, admin }) => {
  const ann = await openUser({ name: 'Ann', route: true });
  const bob = await openUser({ name: 'Bob' });
  await expect.poll(() => userNames(bob.page)).toEqual(['Ann', 'Bob']);
  const connections = ann.link.live.length;

  const moderator = await admin();
  const reply = await moderator.call('kick_user', { username: 'Ann' });
  expect(reply, JSON.stringify(reply)).toMatchObject({ ok: true, username: 'Ann' });
  expect(Number.isInteger(reply.userId), `userId ${reply.userId}`).toBe(true);

  await expect(ann.page.getByTestId('login-form')).toBeVisible();
  await expect(ann.page.getByTestId('login-error')).toHaveText(KICKED);
  await expect(ann.page.getByTestId('message-input')).toHaveCount(0);
  // Bob sees her leave.
  await expect.poll(() => userNames(bob.page)).toEqual(['Bob']);
  await expect(notice(bob.page, 'Ann left')).toHaveCount(1);

  // The kicked page does not try again with its dead session: over a few of its reconnect
  // delays (the first is under 0.5 s), no new connection, and the kicked message stays.
  const quiet = performance.now() + 2_000;
  while (performance.now() < quiet) {
    expect(ann.link.live.length, 'connections opened after the kick').toBe(connections);
    await expect(ann.page.getByTestId('login-error')).toHaveText(KICKED);
    await ann.page.waitForTimeout(100);
  }

  // A reload: the session is over, the login form again.
  await reloadApp(ann.page);
  await expect(ann.page.getByTestId('login-form')).toBeVisible();
  await expect(ann.page.getByTestId('me')).toHaveCount(0);
  // The name is free: she (or anyone) may log in as Ann again, a new user.
  await login(ann.page, 'Ann');
  await expect.poll(() => userNames(bob.page)).toEqual(['Ann', 'Bob']);
});
