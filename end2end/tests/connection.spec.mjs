// The connection indicator: "reconnecting…" while the socket is down; logged back in by the
// session cookie; messages written meanwhile pending, then sent exactly once.
// The socket's WebSocket is routed through Playwright so the test can cut it and keep it down.

import { expect, login, messages, openApp, send, test, userNames } from './fixtures.mjs';

/**
 * Routes the page's Socket.IO WebSocket through Playwright. `cut()` drops the live
 * connections; while `down` is true, new ones are refused.
 */
async function routeSocket(page) {
  const link = { down: false, live: [] };
  await page.routeWebSocket(/\/socket\.io\//, (ws) => {
    if (link.down) {
      ws.close({ code: 1011, reason: 'test: server unreachable' });
      return;
    }
    ws.connectToServer();
    link.live.push(ws);
  });
  link.cut = async () => {
    for (const ws of link.live.splice(0)) await ws.close({ code: 1011, reason: 'test: connection lost' });
  };
  return link;
}

test('shows "reconnecting…" while the socket is down, and not once it is back', async ({ browser }) => {
  const context = await browser.newContext();
  try {
    const page = await context.newPage();
    const link = await routeSocket(page);
    await openApp(page);
    // The app connects once logged in.
    await login(page, 'Ann');
    const connection = page.getByTestId('connection');
    await expect(connection).not.toHaveText(/reconnecting…/);
    expect(link.live.length, 'the app connected over WebSocket').toBeGreaterThan(0);

    link.down = true;
    await link.cut();
    await expect(connection).toHaveText(/reconnecting…/);
    await page.waitForTimeout(1_000);
    await expect(connection).toHaveText(/reconnecting…/);

    link.down = false;
    await expect(connection).not.toHaveText(/reconnecting…/, { timeout: 20_000 });
  } finally {
    await context.close();
  }
});

test('after a dropped connection the user is logged back in and can chat on', async ({ browser, bot }) => {
  const context = await browser.newContext();
  try {
    const page = await context.newPage();
    const link = await routeSocket(page);
    await openApp(page);
    await login(page, 'Ann');
    const bob = await bot('Bob');
    await expect(page.getByTestId('user-count')).toHaveText('2');

    const bobSaw = [];
    bob.socket.onAny((event, payload) => bobSaw.push([event, payload]));

    // Cut the socket; the app reconnects on its own, logged in as Ann by its session.
    await link.cut();
    await expect(page.getByTestId('connection')).toHaveText(/reconnecting…/);
    await expect(page.getByTestId('connection')).not.toHaveText(/reconnecting…/, { timeout: 20_000 });
    await expect(page.getByTestId('user-count')).toHaveText('2');
    expect(await userNames(page)).toEqual(['Ann', 'Bob']);
    await expect(page.getByTestId('messages').locator('li.server')).toHaveText(['Welcome to the chat, Ann!']);

    const received = new Promise((resolve) => bob.socket.on('chat', (m) => m.message === 'back again' && resolve(m)));
    await send(page, 'back again');
    expect(await received).toMatchObject({ sender: 'Ann', message: 'back again' });
    await expect(messages(page).last()).toContainText('back again');
    await expect(messages(page).last()).toHaveAttribute('data-state', 'sent');
    // The blip made no leave/join noise for the others.
    expect(bobSaw.filter(([event]) => event === 'userLeft' || event === 'userJoined')).toEqual([]);
  } finally {
    await context.close();
  }
});

test('a message sent while disconnected is delivered once the app is back', async ({ browser, bot }) => {
  const context = await browser.newContext();
  try {
    const page = await context.newPage();
    const link = await routeSocket(page);
    await openApp(page);
    await login(page, 'Ann');
    const bob = await bot('Bob');
    const received = [];
    bob.socket.on('chat', (m) => received.push(m));

    link.down = true;
    await link.cut();
    await expect(page.getByTestId('connection')).toHaveText(/reconnecting…/);
    await send(page, 'sent while offline');
    // Shown at once, marked pending.
    await expect(messages(page).last()).toContainText('sent while offline');
    await expect(messages(page).last()).toHaveAttribute('data-state', 'pending');
    await expect(messages(page).last().getByTestId('delivery')).toHaveText('sending…');
    await page.waitForTimeout(500);
    expect(received, 'nothing can arrive while the socket is down').toEqual([]);

    link.down = false;
    await expect(page.getByTestId('connection')).not.toHaveText(/reconnecting…/, { timeout: 20_000 });
    await expect.poll(() => received.map((m) => [m.sender, m.message]), { timeout: 10_000 }).toEqual([
      ['Ann', 'sent while offline'],
    ]);
    await expect(messages(page).last()).toHaveAttribute('data-state', 'sent');
    await expect(messages(page).locator('span.text')).toHaveText(['sent while offline']);
    await page.waitForTimeout(500);
    expect(received.length, 'delivered exactly once').toBe(1);
  } finally {
    await context.close();
  }
});
