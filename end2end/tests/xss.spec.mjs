// HTML in messages and names is shown as text, never interpreted.

import { SESSION_GRACE_MS, expect, messages, notice, send, test, userNames } from './fixtures.mjs';

const IMG = '<img src=x onerror=window.__xss=1>';
const BOLD = '<b>bold</b>';

test('HTML in a message shows literally and runs nothing', async ({ openUser, bot }) => {
  const ann = await openUser({ name: 'Ann' });
  const bob = await openUser({ name: 'Bob' });
  await send(ann.page, IMG);
  await send(ann.page, BOLD);
  const eve = await bot('Eve');
  eve.chat('<script>window.__xss=2</script><svg onload=window.__xss=3>');

  for (const { page } of [ann, bob]) {
    await expect(messages(page).locator('span.text')).toHaveText([
      IMG, BOLD, '<script>window.__xss=2</script><svg onload=window.__xss=3>',
    ]);
    const list = page.getByTestId('messages');
    await expect(list.locator('img')).toHaveCount(0);
    await expect(list.locator('b')).toHaveCount(0);
    await expect(list.locator('script')).toHaveCount(0);
    await expect(list.locator('svg')).toHaveCount(0);
  }
  await ann.page.waitForTimeout(300);
  for (const { page } of [ann, bob]) {
    expect(await page.evaluate(() => window.__xss)).toBeUndefined();
  }
});

test('HTML as a user name shows literally', async ({ openUser }) => {
  const ann = await openUser({ name: 'Ann' });
  const name = '<i>x</i>';
  const mal = await openUser({ name });
  await send(mal.page, 'hi from italics');

  for (const { page } of [ann, mal]) {
    await expect.poll(() => userNames(page)).toEqual([name, 'Ann'].sort());
    await expect(page.getByTestId('user').locator('i')).toHaveCount(0);
    await expect(messages(page).last().locator('span.sender')).toContainText(name);
    await expect(page.getByTestId('messages').locator('i')).toHaveCount(0);
  }
  await expect(notice(ann.page, `${name} joined`)).toHaveCount(1);
  // Leaving (once the grace period has passed) shows the name literally too.
  await mal.context.close();
  await expect(notice(ann.page, `${name} left`)).toHaveCount(1, { timeout: SESSION_GRACE_MS + 5_000 });
  await expect(ann.page.getByTestId('messages').locator('i')).toHaveCount(0);
});
