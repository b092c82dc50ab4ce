// The per-user message limit, as the web app shows it: a message sent faster than the
// limit waits, says so, and goes by itself once the server's wait is over.

import { expect, messages, send, test } from './fixtures.mjs';

// Two at once, then one every 4 s: the third waits about 4 s, long enough to be seen.
test.use({ serverArgs: ['--message-rate', '0.25', '--message-burst', '2'] });

test('a message sent too fast waits, says so, then goes by itself, once, in order', async ({ openUser }) => {
  const ann = await openUser({ name: 'Ann' });
  const bob = await openUser({ name: 'Bob' });
  const texts = ['one', 'two', 'three'];
  for (const text of texts) await send(ann.page, text);

  const waiting = ann.page.locator('li.message[data-state=waiting]');
  await expect(waiting).toHaveCount(1);
  await expect(waiting.locator('span.text')).toHaveText('three');
  await expect(waiting.getByTestId('delivery')).toContainText('sending too fast');
  await expect(waiting.getByTestId('retry')).toHaveCount(0);

  // Nobody clicks anything: it goes after the wait.
  for (const { page } of [ann, bob]) {
    await expect(messages(page).locator('span.text')).toHaveText(texts, { timeout: 15_000 });
  }
  await expect(ann.page.locator('li.message[data-state=sent]')).toHaveCount(3);
});
