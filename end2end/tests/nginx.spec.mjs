// The app through the load balancer the README ships (deploy/nginx.conf, Debian's nginx):
// the page loads and hydrates, and people chat over its Socket.IO connection.

import { expect, messages, send, test } from './fixtures.mjs';

test('the app works through nginx', async ({ behindNginx, openUser, bot }) => {
  const ann = await openUser({ name: 'Ann' });
  expect(ann.page.url()).toContain(behindNginx.url);
  const bob = await bot('Bob');
  await send(ann.page, 'Hello from behind the proxy');
  await expect.poll(() => bob.chats.map((chat) => chat.message)).toContain('Hello from behind the proxy');
  bob.chat('Hi Ann');
  await expect(messages(ann.page).locator('span.text')).toHaveText(['Hello from behind the proxy', 'Hi Ann']);
});
