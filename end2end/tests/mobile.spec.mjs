// A phone-size viewport: login and lobby usable, no horizontal overflow.

import { expect, login, messages, send, test } from './fixtures.mjs';

const PHONE = { width: 390, height: 844 };

test.use({ viewport: PHONE, isMobile: true, hasTouch: true, deviceScaleFactor: 2 });

async function expectNoHorizontalOverflow(page) {
  const width = await page.evaluate(() => document.documentElement.scrollWidth);
  expect(width, 'document.documentElement.scrollWidth').toBeLessThanOrEqual(PHONE.width);
}

test('login and lobby are usable at 390x844 without horizontal overflow', async ({ openUser, bot }) => {
  const contextOptions = { viewport: PHONE, isMobile: true, hasTouch: true, deviceScaleFactor: 2 };
  const { page } = await openUser({ contextOptions });
  await expect(page.getByTestId('name-input')).toBeInViewport();
  await expect(page.getByTestId('login-button')).toBeInViewport();
  await expectNoHorizontalOverflow(page);

  await page.getByTestId('name-input').fill('Bartholome');
  await login(page, 'Bartholome');
  await expect(page.getByTestId('message-input')).toBeInViewport();
  await expect(page.getByTestId('send-button')).toBeInViewport();
  await expect(page.getByTestId('messages')).toBeVisible();
  await expectNoHorizontalOverflow(page);

  await send(page, 'hello from a phone');
  await expect(messages(page).last().locator('span.text')).toHaveText('hello from a phone');

  // Long unbroken words, from us and from others, must wrap rather than widen the page.
  const long = 'x'.repeat(300);
  await send(page, long);
  const other = await bot('Wolfeschle');
  other.chat(`https://example.invalid/${'a'.repeat(400)}`);
  await expect(messages(page)).toHaveCount(3);
  await expectNoHorizontalOverflow(page);
  await expect(page.getByTestId('send-button')).toBeInViewport();
});
