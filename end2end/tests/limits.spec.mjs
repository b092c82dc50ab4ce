// The per-user message limit, as the web app shows it: a message sent faster than the
// limit waits, says so, and goes by itself once the server's wait is over.

import { expect, messages, send, test } from './fixtures.mjs';

// Two at once, then one every 5 s: the third waits about 5 s, long enough to be seen
// however busy the machine.
test.use({ serverArgs: ['--message-rate', '0.2', '--message-burst', '2'] });

test('messages sent too fast wait, say so, then go by themselves, once each, in order', async ({ openUser }) => {
  const ann = await openUser({ name: 'Ann' });
  const bob = await openUser({ name: 'Bob' });
  for (const text of ['one', 'two', 'three']) await send(ann.page, text);

  const waiting = ann.page.locator('li.message[data-state=waiting]');
  await expect(waiting.locator('span.text')).toHaveText(['three']);
  await expect(waiting.getByTestId('delivery')).toContainText('sending too fast');
  await expect(waiting.getByTestId('retry')).toHaveCount(0);
  // One written meanwhile waits behind it, not ahead.
  await send(ann.page, 'four');
  await expect(waiting.locator('span.text')).toHaveText(['three', 'four']);

  // Nobody clicks anything: they go after the waits, in the order written.
  const texts = ['one', 'two', 'three', 'four'];
  for (const { page } of [ann, bob]) {
    await expect(messages(page).locator('span.text')).toHaveText(texts, { timeout: 30_000 });
  }
  await expect(ann.page.locator('li.message[data-state=sent]')).toHaveCount(4);
});
