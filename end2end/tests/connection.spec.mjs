// The connection indicator: "reconnecting…" while the socket is down.
// The socket's WebSocket is routed through Playwright so the test can cut it and keep it down.

import { expect, openApp, test } from './fixtures.mjs';

test('shows "reconnecting…" while the socket is down, and not once it is back', async ({ browser }) => {
  const context = await browser.newContext();
  try {
    const page = await context.newPage();
    let down = false;
    const live = [];
    await page.routeWebSocket(/\/socket\.io\//, (ws) => {
      if (down) {
        ws.close({ code: 1011, reason: 'test: server unreachable' });
        return;
      }
      ws.connectToServer();
      live.push(ws);
    });
    await openApp(page);
    const connection = page.getByTestId('connection');
    await expect(connection).not.toHaveText(/reconnecting…/);
    expect(live.length, 'the app connected over WebSocket').toBeGreaterThan(0);

    down = true;
    for (const ws of live.splice(0)) await ws.close({ code: 1011, reason: 'test: connection lost' });
    await expect(connection).toHaveText(/reconnecting…/);
    await page.waitForTimeout(1_000);
    await expect(connection).toHaveText(/reconnecting…/);

    down = false;
    await expect(connection).not.toHaveText(/reconnecting…/, { timeout: 20_000 });
  } finally {
    await context.close();
  }
});
