// The typing indicator.

import { expect, send, test } from './fixtures.mjs';

test('the other user sees "Ann is typing…" while Ann types; it goes after sending and after ~3 s idle', async ({ openUser }) => {
  const ann = await openUser({ name: 'Ann' });
  const bob = await openUser({ name: 'Bob' });
  const bobSees = bob.page.getByTestId('typing');
  const annSees = ann.page.getByTestId('typing');
  await expect(bobSees).toHaveText('');

  const input = ann.page.getByTestId('message-input');
  await input.pressSequentially('hello th', { delay: 30 });
  await expect(bobSees).toHaveText('Ann is typing…');
  await expect(annSees).toHaveText('', { timeout: 1_000 });

  await input.press('Enter');
  await expect(bobSees).toHaveText('');

  // Typing again, then nothing: gone once the 3 s lease runs out.
  await input.pressSequentially('more', { delay: 30 });
  await expect(bobSees).toHaveText('Ann is typing…');
  await expect(bobSees).toHaveText('', { timeout: 6_000 });
  await expect(input).toHaveValue('more');

  // Typing after that shows it again; clearing the input hides it at once (stopTyping),
  // well before the 3 s lease would run out.
  await input.pressSequentially('!', { delay: 30 });
  await expect(bobSees).toHaveText('Ann is typing…');
  await input.fill('');
  await expect(bobSees).toHaveText('', { timeout: 1_500 });
});

test('several typers: "Ann and Bob are typing…", "3 people are typing…"', async ({ openUser, bot }) => {
  const dee = await openUser({ name: 'Dee' });
  const sees = dee.page.getByTestId('typing');
  const ann = await bot('Ann');
  const bob = await bot('Bob');
  const cid = await bot('Cid');

  ann.startTyping();
  await expect(sees).toHaveText('Ann is typing…');
  bob.startTyping();
  await expect(sees).toHaveText(/^(Ann and Bob|Bob and Ann) are typing…$/);
  cid.startTyping();
  await expect(sees).toHaveText('3 people are typing…');

  bob.stopTyping();
  await expect(sees).toHaveText(/^(Ann and Cid|Cid and Ann) are typing…$/);
  ann.chat('done');
  await expect(sees).toHaveText('Cid is typing…');
  cid.close();
  await expect(sees).toHaveText('');
});
