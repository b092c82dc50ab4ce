// Two people chatting in two browser contexts; Enter to submit; auto-scroll; message times.

import { expect, messages, send, test, waitWelcomed } from './fixtures.mjs';

test('two users log in and chat both ways', async ({ openUser }) => {
  const ann = await openUser({ name: 'Ann' });
  const bob = await openUser({ name: 'Bob' });

  // A new conversation: its beginning, then the welcome line.
  for (const { page, name } of [ann, bob]) {
    await expect(page.getByTestId('history-edge')).toHaveText('This is the beginning of the conversation.');
    await expect(page.getByTestId('messages').locator('li.server')).toHaveText([`Welcome to the chat, ${name}!`]);
  }

  await send(ann.page, 'Hello Bob');
  for (const { page } of [ann, bob]) {
    await expect(messages(page)).toHaveCount(1);
    await expect(messages(page).last().locator('span.text')).toHaveText('Hello Bob');
    await expect(messages(page).last().locator('span.sender')).toContainText('Ann');
  }
  await expect(messages(ann.page).last()).toHaveClass(/(^|\s)own(\s|$)/);
  await expect(messages(bob.page).last()).not.toHaveClass(/(^|\s)own(\s|$)/);

  await send(bob.page, 'Hi Ann!');
  for (const { page } of [ann, bob]) {
    await expect(messages(page)).toHaveCount(2);
    await expect(messages(page).locator('span.text')).toHaveText(['Hello Bob', 'Hi Ann!']);
    await expect(messages(page).last().locator('span.sender')).toContainText('Bob');
  }
  await expect(messages(bob.page).last()).toHaveClass(/(^|\s)own(\s|$)/);
  await expect(messages(ann.page).last()).not.toHaveClass(/(^|\s)own(\s|$)/);
  await expect(messages(ann.page).first()).toHaveClass(/(^|\s)own(\s|$)/);
  await expect(messages(bob.page).first()).not.toHaveClass(/(^|\s)own(\s|$)/);
});

test('Enter submits the login form and Enter sends a message', async ({ openUser }) => {
  const bob = await openUser({ name: 'Bob' });
  const ann = await openUser();
  await ann.page.getByTestId('name-input').fill('Ann');
  await ann.page.getByTestId('name-input').press('Enter');
  await expect(ann.page.getByTestId('message-input')).toBeVisible();
  await expect(ann.page.getByTestId('login-form')).toHaveCount(0);
  await waitWelcomed(ann.page, 'Ann');

  const input = ann.page.getByTestId('message-input');
  await input.fill('sent with Enter');
  await input.press('Enter');
  for (const { page } of [ann, bob]) {
    await expect(messages(page).locator('span.text')).toHaveText(['sent with Enter']);
  }
  await expect(input).toHaveValue('');

  // And a second one, typed key by key.
  await input.pressSequentially('typed out', { delay: 20 });
  await input.press('Enter');
  await expect(messages(bob.page).locator('span.text')).toHaveText(['sent with Enter', 'typed out']);
});

test('an empty message is not sent', async ({ openUser }) => {
  const ann = await openUser({ name: 'Ann' });
  const bob = await openUser({ name: 'Bob' });
  await send(ann.page, '   ', { submit: 'enter' });
  await send(ann.page, 'real one', { submit: 'enter' });
  await expect(messages(bob.page).locator('span.text')).toHaveText(['real one']);
  await expect(messages(ann.page).locator('span.text')).toHaveText(['real one']);
});

test('the message list keeps scrolled to the newest message', async ({ openUser, bot }) => {
  const ann = await openUser({ name: 'Ann' });
  const list = ann.page.getByTestId('messages');
  const distanceFromBottom = () => list.evaluate((el) => el.scrollHeight - el.scrollTop - el.clientHeight);

  for (let i = 1; i <= 30; i += 1) await send(ann.page, `own message ${i}`, { submit: 'enter' });
  await expect(messages(ann.page)).toHaveCount(30);
  await expect(messages(ann.page).last().locator('span.text')).toHaveText('own message 30');
  const { scrollHeight, clientHeight } = await list.evaluate((el) => ({ scrollHeight: el.scrollHeight, clientHeight: el.clientHeight }));
  expect(scrollHeight, 'the message list overflows and scrolls itself').toBeGreaterThan(clientHeight);
  await expect.poll(distanceFromBottom).toBeLessThanOrEqual(2);
  await expect(messages(ann.page).last()).toBeInViewport();

  // Messages from someone else scroll it too.
  const bob = await bot('Bob');
  for (let i = 1; i <= 10; i += 1) bob.chat(`bob says ${i}`);
  await expect(messages(ann.page).last().locator('span.text')).toHaveText('bob says 10');
  await expect.poll(distanceFromBottom).toBeLessThanOrEqual(2);
  await expect(messages(ann.page).last()).toBeInViewport();
});

test('message times show in the reader\'s time zone once the app runs', async ({ openUser, bot }) => {
  const zone = 'Asia/Kathmandu'; // UTC+5:45: hours and minutes both differ from UTC
  const ann = await openUser({ name: 'Ann', contextOptions: { timezoneId: zone } });
  const bob = await bot('Bob');
  await send(ann.page, 'mine');
  bob.chat('theirs');
  await expect(messages(ann.page).locator('span.text')).toHaveText(['mine', 'theirs']);
  await expect(ann.page.getByTestId('messages').locator('li.message[data-state="sent"]')).toHaveCount(2);
  const local = new Intl.DateTimeFormat('en-GB', { timeZone: zone, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
  await expect.poll(() => bob.chats.length).toBe(2);
  const stored = new Map(bob.chats.map((m) => [m.message, m.sentAt]));
  const times = messages(ann.page).locator('time.at');
  await expect(times).toHaveCount(2);
  for (const [index, text] of ['mine', 'theirs'].entries()) {
    const time = times.nth(index);
    await expect(time).toHaveAttribute('data-ms', String(stored.get(text)));
    await expect(time).toHaveText(local.format(stored.get(text)));
  }
});
