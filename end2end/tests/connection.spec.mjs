// The connection indicator: "reconnecting…" while the socket is down.
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

    // Cut the socket; the app reconnects on its own and logs in as Ann again.
    await link.cut();
    await expect(page.getByTestId('connection')).toHaveText(/reconnecting…/);
    await expect(page.getByTestId('connection')).not.toHaveText(/reconnecting…/, { timeout: 20_000 });
    await expect(page.getByTestId('messages').locator('li.server').last()).toHaveText('Reconnected as Ann.');
    await expect(page.getByTestId('user-count')).toHaveText('2');
    expect(await userNames(page)).toEqual(['Ann', 'Bob']);

    const received = new Promise((resolve) => bob.socket.on('chat', (m) => m.message === 'back again' && resolve(m)));
    await send(page, 'back again');
    expect(await received).toEqual({ sender: 'Ann', message: 'back again' });
    await expect(messages(page).last()).toContainText('back again');
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
    await page.waitForTimeout(500);
    expect(received, 'nothing can arrive while the socket is down').toEqual([]);

    link.down = false;
    await expect(page.getByTestId('connection')).not.toHaveText(/reconnecting…/, { timeout: 20_000 });
    await expect.poll(() => received, { timeout: 10_000 }).toEqual([{ sender: 'Ann', message: 'sent while offline' }]);
    await expect(messages(page).last()).toContainText('sent while offline');
  } finally {
    await context.close();
  }
});
