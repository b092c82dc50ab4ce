// The connection indicator: "reconnecting…" while the socket is down; logged back in by the
// session cookie (never by `login`), silently; messages written meanwhile pending, then sent
// exactly once, in order. The delivery state of your own messages: pending, sent, failed
// and retried.
// The socket's WebSocket is routed through Playwright (routeSocket in fixtures.mjs) so the
// test can cut it, keep it down, or hold and rewrite what the page sends.

import { io } from 'socket.io-client';

import {
  RECONNECT_TIMEOUT_MS,
  baseURL,
  decodeEvent,
  encodeEvent,
  expect,
  messages,
  notices,
  reloadApp,
  send,
  serverLines,
  takeOffline,
  test,
  texts,
  userNames,
} from './fixtures.mjs';

/** A message the page sends (to a room, `general` included). */
const isChat = (frame) => decodeEvent(frame)?.event === 'send_message';

// Reconnections here must come back within the grace period however slow the machine (a
// session user who does, never left); no test here waits for a grace period to end.
test.use({ sessionGraceMs: 30_000 });

test('shows "reconnecting…" while the socket is down, and not once it is back', async ({ openUser }) => {
  const { page, link } = await openUser({ name: 'Ann', route: true });
  const connection = page.getByTestId('connection');
  await expect(connection).toHaveText('');
  expect(link.live.length, 'the app connected over WebSocket').toBeGreaterThan(0);

  link.down = true;
  await link.cut();
  await expect(connection).toHaveText('reconnecting…');
  await page.waitForTimeout(1_000);
  await expect(connection).toHaveText('reconnecting…');

  link.down = false;
  await expect(connection).toHaveText('', { timeout: RECONNECT_TIMEOUT_MS });
});

test('after a dropped connection the session logs the user back in, silently, and they chat on', async ({ openUser, bot }) => {
  const { page, link } = await openUser({ name: 'Ann', route: true });
  const bob = await bot('Bob');
  await expect(page.getByTestId('user-count')).toHaveText('2');

  const bobSaw = [];
  bob.socket.onAny((event, payload) => bobSaw.push([event, payload]));

  // Cut the socket; the app reconnects on its own, logged in as Ann by its session.
  const welcomes = link.welcomes();
  expect(welcomes).toBe(1);
  await link.cut();
  await expect(page.getByTestId('connection')).toHaveText('reconnecting…');
  await expect(page.getByTestId('connection')).toHaveText('', { timeout: RECONNECT_TIMEOUT_MS });
  expect(link.live.length, 'a new WebSocket').toBe(1);
  await link.waitForWelcome(welcomes);
  await expect(page.getByTestId('me')).toHaveText('Ann');
  await expect(page.getByTestId('user-count')).toHaveText('2');
  expect(await userNames(page)).toEqual(['Ann', 'Bob']);

  await send(page, 'back again');
  await expect.poll(() => bob.chats.map((m) => [m.sender, m.message])).toEqual([['Ann', 'back again']]);
  await expect(texts(page)).toHaveText(['back again']);
  await expect(messages(page).last()).toHaveAttribute('data-state', 'sent');

  // Only the first welcome is greeted; a reconnection adds no line of its own.
  await expect(serverLines(page)).toHaveText(['Welcome to the chat, Ann!']);
  await expect(notices(page)).toHaveText(['Ann joined', 'Bob joined']);
  // The session cookie logged the new socket in: the app never sent `login`.
  expect(link.sentEvents().map((e) => e.event)).not.toContain('login');
  // The blip made no leave/join noise for the others.
  expect(bobSaw.filter(([event]) => event === 'userLeft' || event === 'userJoined')).toEqual([]);
});

test('messages written while disconnected are pending, then delivered once each, in order', async ({ openUser, bot }) => {
  const { page, link } = await openUser({ name: 'Ann', route: true });
  const bob = await bot('Bob');
  await send(page, 'before');
  await expect(messages(page).last()).toHaveAttribute('data-state', 'sent');

  await takeOffline(page, link);
  await send(page, 'offline 1');
  await send(page, 'offline 2');
  // Shown at once, marked pending.
  await expect(texts(page)).toHaveText(['before', 'offline 1', 'offline 2']);
  for (const line of [messages(page).nth(1), messages(page).nth(2)]) {
    await expect(line).toHaveAttribute('data-state', 'pending');
    await expect(line.getByTestId('delivery')).toHaveText('sending…');
  }
  await page.waitForTimeout(500);
  expect(bob.chats.map((m) => m.message), 'nothing can arrive while the socket is down').toEqual(['before']);

  link.down = false;
  await expect(page.getByTestId('connection')).toHaveText('', { timeout: RECONNECT_TIMEOUT_MS });
  await expect.poll(() => bob.chats.map((m) => [m.sender, m.message]), { timeout: 10_000 }).toEqual([
    ['Ann', 'before'],
    ['Ann', 'offline 1'],
    ['Ann', 'offline 2'],
  ]);
  await expect(page.getByTestId('messages').locator('li.message[data-state="sent"]')).toHaveCount(3);
  await expect(texts(page)).toHaveText(['before', 'offline 1', 'offline 2']);
  await expect(messages(page).getByTestId('delivery')).toHaveCount(0);
  await page.waitForTimeout(500);
  expect(bob.chats.length, 'delivered exactly once').toBe(3);
  // Stored once: a reload shows each once, from the server.
  await page.reload();
  await expect(texts(page)).toHaveText(['before', 'offline 1', 'offline 2']);
});

// Unsent messages live in the tab's sessionStorage: a reload while the server is out of
// reach (the page itself still loads) loses none of them.
test.describe('unsent messages survive a reload of the page', () => {
  const pendingLines = (page) => page.getByTestId('messages').locator('li.message[data-state="pending"]');

  test('messages written while disconnected are still pending after a reload, then delivered once each', async ({ openUser, bot }) => {
    const { page, link } = await openUser({ name: 'Ann', route: true });
    const bob = await bot('Bob');
    await send(page, 'before');
    await expect(messages(page).last()).toHaveAttribute('data-state', 'sent');

    await takeOffline(page, link);
    await send(page, 'offline 1');
    await send(page, 'offline 2');
    await expect(pendingLines(page)).toHaveCount(2);

    // The socket stays down across the reload: the page comes from the server, the two
    // unsent messages from the tab.
    await reloadApp(page);
    await expect(texts(page)).toHaveText(['before', 'offline 1', 'offline 2']);
    await expect(pendingLines(page)).toHaveText([/offline 1/, /offline 2/]);
    await page.waitForTimeout(500);
    expect(bob.chats.map((m) => m.message), 'nothing can arrive while the socket is down').toEqual(['before']);

    link.down = false;
    await expect.poll(() => bob.chats.map((m) => m.message), { timeout: RECONNECT_TIMEOUT_MS }).toEqual([
      'before',
      'offline 1',
      'offline 2',
    ]);
    await expect(pendingLines(page)).toHaveCount(0);
    await expect(texts(page)).toHaveText(['before', 'offline 1', 'offline 2']);
    await page.waitForTimeout(500);
    expect(bob.chats.length, 'delivered exactly once').toBe(3);

    // Sent is forgotten: another reload brings nothing back to send.
    await reloadApp(page);
    await expect(serverLines(page)).toHaveText(['Welcome to the chat, Ann!']);
    await expect(texts(page)).toHaveText(['before', 'offline 1', 'offline 2']);
    await expect(pendingLines(page)).toHaveCount(0);
  });

  test('a message stored just before the reload, unknown to the page, is shown once and not sent again', async ({ openUser, bot }) => {
    const { context, page, link } = await openUser({ name: 'Ann', route: true });
    const bob = await bot('Bob');
    // The page's chat never reaches the server; the link goes down with it pending.
    link.outgoing = (frame) => (isChat(frame) ? null : frame);
    await send(page, 'stored elsewhere');
    await expect(pendingLines(page)).toHaveCount(1);
    const held = decodeEvent(link.held[0].frame);
    link.down = true;
    await link.cut();
    link.outgoing = null;
    link.held.length = 0;

    // Meanwhile the same message (same session, same clientId) is stored, as if its
    // acknowledgement had been lost.
    const cookie = (await context.cookies()).find((c) => c.name === 'chat_session');
    const annElsewhere = io(baseURL(), {
      transports: ['websocket'],
      forceNew: true,
      reconnection: false,
      extraHeaders: { cookie: `chat_session=${cookie.value}` },
    });
    try {
      await new Promise((resolve, reject) => {
        annElsewhere.once('welcome', resolve);
        annElsewhere.once('connect_error', reject);
      });
      const receipt = await annElsewhere.timeout(5_000).emitWithAck('send_message', held.payload);
      expect(receipt).toMatchObject({ ok: true, duplicate: false });
    } finally {
      annElsewhere.close();
    }
    await expect.poll(() => bob.chats.map((m) => m.message)).toEqual(['stored elsewhere']);

    // The reloaded page has it from the server, once, and nothing to send.
    await reloadApp(page);
    await expect(texts(page)).toHaveText(['stored elsewhere']);
    await expect(pendingLines(page)).toHaveCount(0);
    const sentBefore = link.sent.length;
    link.down = false;
    await link.waitForWelcome(link.welcomes());
    await page.waitForTimeout(500);
    const resent = link.sent.slice(sentBefore).map(decodeEvent).filter((e) => e?.event === 'send_message');
    expect(resent, 'not sent again').toEqual([]);
    expect(bob.chats.length).toBe(1);
    await expect(texts(page)).toHaveText(['stored elsewhere']);
  });

  test('unsent messages are kept per tab and only for their author', async ({ openUser }) => {
    const { context, page, link } = await openUser({ name: 'Ann', route: true });
    await takeOffline(page, link);
    await send(page, 'only in this tab');
    await expect(pendingLines(page)).toHaveCount(1);

    // Another tab of the same session has nothing of it to send.
    const other = await context.newPage();
    await other.goto(baseURL());
    await expect(other.locator('body')).toHaveAttribute('data-hydrated', 'true');
    await expect(other.getByTestId('me')).toHaveText('Ann');
    await expect(serverLines(other)).toHaveText(['Welcome to the chat, Ann!'], { timeout: RECONNECT_TIMEOUT_MS });
    await expect(texts(other)).toHaveText([]);
    await other.close();

    // Logging out and in as someone else in the same tab: Ann's message is not Bob's.
    await page.getByTestId('logout-button').click();
    await expect(page.getByTestId('login-form')).toBeVisible();
    await page.getByTestId('name-input').fill('Bob');
    await page.getByTestId('login-button').click();
    await expect(page.getByTestId('me')).toHaveText('Bob');
    await expect(pendingLines(page)).toHaveCount(0);
    await reloadApp(page);
    await expect(page.getByTestId('me')).toHaveText('Bob');
    await expect(pendingLines(page)).toHaveCount(0);
    link.down = false;
    await expect(serverLines(page)).toHaveText(['Welcome to the chat, Bob!'], { timeout: RECONNECT_TIMEOUT_MS });
    await page.waitForTimeout(500);
    expect(link.sentEvents().filter((e) => e.event === 'send_message'), 'never sent, as anyone').toEqual([]);
    await expect(texts(page)).toHaveText([]);
  });
});

test('an own message is pending until the server has stored it, then sent', async ({ openUser, bot }) => {
  const { page, link } = await openUser({ name: 'Ann', route: true });
  const bob = await bot('Bob');
  // Hold back the page's chat frames: the connection is up, the server just has not got it.
  link.outgoing = (frame) => (isChat(frame) ? null : frame);

  await send(page, 'hold on');
  const line = messages(page).last();
  await expect(texts(page)).toHaveText(['hold on']);
  await expect(line).toHaveAttribute('data-state', 'pending');
  await expect(line).toHaveClass(/(^|\s)own(\s|$)/);
  await expect(line.getByTestId('delivery')).toHaveText('sending…');
  await expect(line.locator('time.at')).toHaveCount(0);
  await expect.poll(() => link.held.length).toBe(1);
  await page.waitForTimeout(300);
  await expect(line).toHaveAttribute('data-state', 'pending');
  expect(bob.chats).toEqual([]);

  link.outgoing = null;
  link.release();
  await expect(line).toHaveAttribute('data-state', 'sent');
  await expect(line.getByTestId('delivery')).toHaveCount(0);
  await expect(line.locator('time.at')).toHaveCount(1);
  await expect.poll(() => bob.chats.map((m) => [m.sender, m.message])).toEqual([['Ann', 'hold on']]);
  await expect(texts(page)).toHaveText(['hold on']);
});

test('a message the server refuses shows as failed with Retry, and Retry sends it once', async ({ openUser, bot }) => {
  const { page, link } = await openUser({ name: 'Ann', route: true });
  const bob = await bot('Bob');
  // The first attempt reaches the server emptied, so the server really refuses it
  // (emptyMessage): same client id, same acknowledgement, only the text changed.
  let clientId = null;
  link.outgoing = (frame) => {
    const event = decodeEvent(frame);
    if (event?.event !== 'send_message') return frame;
    clientId = event.payload.clientId;
    return encodeEvent({ ...event, payload: { ...event.payload, message: '   ' } });
  };

  await send(page, 'try me');
  const line = messages(page).last();
  await expect(line).toHaveAttribute('data-state', 'failed');
  await expect(line.getByTestId('delivery')).toHaveText('Not sent: A message cannot be empty.');
  await expect(line.getByTestId('retry')).toHaveText('Retry');
  await expect(texts(page)).toHaveText(['try me']);
  expect(clientId, 'the app sent a clientId').toMatch(/^[A-Za-z0-9_-]{1,64}$/);
  expect(bob.chats).toEqual([]);

  link.outgoing = null;
  await line.getByTestId('retry').click();
  await expect(line).toHaveAttribute('data-state', 'sent');
  await expect(line.getByTestId('retry')).toHaveCount(0);
  await expect(line.getByTestId('delivery')).toHaveCount(0);
  await expect.poll(() => bob.chats.map((m) => [m.sender, m.message, m.clientId])).toEqual([['Ann', 'try me', clientId]]);
  await expect(texts(page)).toHaveText(['try me']);
  // The retry went out with the same client id.
  const chats = link.sentEvents().filter((e) => e.event === 'send_message');
  expect(chats.map((e) => [e.payload.message, e.payload.clientId])).toEqual([
    ['try me', clientId],
    ['try me', clientId],
  ]);
});

// A `welcome` (each reconnection, and the first one after logging in) must not rebuild the
// lobby: what is being typed stays, and a message typed before it is sent after it.
test.describe('a reconnection keeps what you are typing', () => {
  test('a half-written message is still in the input after a reconnection', async ({ openUser }) => {
    const { page, link } = await openUser({ name: 'Ann', route: true });
    const welcomes = link.welcomes();
    await takeOffline(page, link);
    const input = page.getByTestId('message-input');
    await input.fill('half-written');
    link.down = false;
    await link.waitForWelcome(welcomes);
    await expect(page.getByTestId('connection')).toHaveText('');
    await expect(input).toHaveValue('half-written', { timeout: 3_000 });
  });

  test('what you type right after logging in, before the first welcome, stays and is sent', async ({ openUser, bot }) => {
    const { page, link } = await openUser({ route: true });
    const bob = await bot('Bob');
    link.down = true;
    await page.getByTestId('name-input').fill('Ann');
    await page.getByTestId('login-button').click();
    const input = page.getByTestId('message-input');
    await expect(input).toBeVisible();
    await input.fill('first words');
    link.down = false;
    await link.waitForWelcome(0);
    await expect(serverLines(page)).toHaveText(['Welcome to the chat, Ann!']);
    await expect(input).toHaveValue('first words');
    await page.getByTestId('send-button').click();
    await expect(texts(page)).toHaveText(['first words']);
    await expect.poll(() => bob.chats.map((m) => m.message)).toEqual(['first words']);
  });

  test('a message typed before the welcome and sent after it is sent', async ({ openUser, bot }) => {
    const { page, link } = await openUser({ name: 'Ann', route: true });
    const bob = await bot('Bob');
    const welcomes = link.welcomes();
    await takeOffline(page, link);
    await page.getByTestId('message-input').fill('typed while away');
    link.down = false;
    await link.waitForWelcome(welcomes);
    await page.getByTestId('send-button').click();
    await expect(texts(page)).toHaveText(['typed while away'], { timeout: 3_000 });
    await expect.poll(() => bob.chats.map((m) => m.message), { timeout: 3_000 }).toEqual(['typed while away']);
  });
});
