// The login view: errors for bad and taken names, and the server-rendered form without
// JavaScript, which logs in (and out) by posting itself.

import { baseURL, expect, login, messages, notices, test, texts } from './fixtures.mjs';

test('a name of 2 characters shows "Invalid name: 3 to 10 characters"', async ({ openUser }) => {
  const { page } = await openUser();
  await page.getByTestId('name-input').fill('ab');
  await page.getByTestId('login-button').click();
  await expect(page.getByTestId('login-error')).toHaveText('Invalid name: 3 to 10 characters');
  await expect(page.getByTestId('login-form')).toBeVisible();

  // Too long is the same error; a good name then gets in.
  await page.getByTestId('name-input').fill('Bartholomew');
  await page.getByTestId('login-button').click();
  await expect(page.getByTestId('login-error')).toHaveText('Invalid name: 3 to 10 characters');
  await login(page, 'Ann');
});

test('a taken name shows "Name already taken", ignoring case', async ({ openUser, bot }) => {
  await bot('Ann');
  const { page } = await openUser();
  await page.getByTestId('name-input').fill('Ann');
  await page.getByTestId('login-button').click();
  await expect(page.getByTestId('login-error')).toHaveText('Name already taken');
  await expect(page.getByTestId('login-form')).toBeVisible();

  await page.getByTestId('name-input').fill('ANN');
  await page.getByTestId('login-button').click();
  await expect(page.getByTestId('login-error')).toHaveText('Name already taken');

  await login(page, 'Bob');
  await expect(page.getByTestId('user-count')).toHaveText('2');
});

test('logging in shows the lobby with the welcome and your join', async ({ openUser }) => {
  const { page } = await openUser();
  await page.getByTestId('name-input').fill('  Ann  ');
  await page.getByTestId('login-button').click();
  await expect(page.getByTestId('me')).toHaveText('Ann');
  await expect(page.getByTestId('message-input')).toBeFocused();
  await expect(page.getByTestId('messages').locator('li.server')).toHaveText(['Welcome to the chat, Ann!']);
  await expect(notices(page)).toHaveText(['Ann joined']);
  await expect(page.getByTestId('user')).toHaveText(['Ann']);
  await expect(page.getByTestId('history-edge')).toHaveText('This is the beginning of the conversation.');
  await expect(messages(page)).toHaveCount(0);
});

test('the login form has a name input and a Join button', async ({ openUser }) => {
  const { page } = await openUser();
  const form = page.getByTestId('login-form');
  await expect(form).toBeVisible();
  await expect(form.getByTestId('name-input')).toBeVisible();
  await expect(form.getByTestId('login-button')).toHaveText('Join');
});

test.describe('without JavaScript', () => {
  test.use({ javaScriptEnabled: false });

  test('the server-rendered page has the login form with the name input and the Join button', async ({ page }) => {
    const response = await page.goto(baseURL());
    expect(response?.status()).toBe(200);
    const form = page.locator('form[data-testid=login-form]');
    await expect(form).toBeVisible();
    await expect(form.locator('input[data-testid=name-input]')).toBeVisible();
    await expect(form.locator('button[data-testid=login-button]')).toHaveText('Join');
    await expect(page.locator('body')).not.toHaveAttribute('data-hydrated', 'true');
  });

  test('the form posts itself: errors come back in the page, a good name logs in, log-out logs out', async ({ page, bot }) => {
    const bob = await bot('Bob');
    bob.chat('hello from Bob');
    await expect.poll(() => bob.chats.length).toBe(1);
    await page.goto(baseURL());

    await page.getByTestId('name-input').fill('ab');
    await page.getByTestId('login-button').click();
    await expect(page).toHaveURL(/\/\?login-error=invalidName$/);
    await expect(page.getByTestId('login-error')).toHaveText('Invalid name: 3 to 10 characters');
    await expect(page.getByTestId('login-form')).toBeVisible();

    await page.getByTestId('name-input').fill('BOB');
    await page.getByTestId('login-button').click();
    await expect(page).toHaveURL(/\/\?login-error=nameTaken$/);
    await expect(page.getByTestId('login-error')).toHaveText('Name already taken');

    await page.getByTestId('name-input').fill('Ann');
    await page.getByTestId('login-button').click();
    await expect(page).toHaveURL(`${baseURL()}/`);
    await expect(page.getByTestId('login-form')).toHaveCount(0);
    await expect(page.getByTestId('me')).toHaveText('Ann');
    await expect(page.getByTestId('message-input')).toBeVisible();
    await expect(texts(page)).toHaveText(['hello from Bob']);
    await expect(messages(page).locator('span.sender')).toHaveText(['Bob']);

    await page.getByTestId('logout-button').click();
    await expect(page).toHaveURL(`${baseURL()}/`);
    await expect(page.getByTestId('login-form')).toBeVisible();
    await expect(page.getByTestId('me')).toHaveCount(0);
  });
});
