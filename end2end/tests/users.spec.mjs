// The users panel and the join / leave notices.

import { expect, notice, test, userNames } from './fixtures.mjs';

test('user list and count update on join and leave, with notices', async ({ openUser }) => {
  const ann = await openUser({ name: 'Ann' });
  await expect(ann.page.getByTestId('user-count')).toHaveText('1');
  await expect.poll(() => userNames(ann.page)).toEqual(['Ann']);

  const bob = await openUser({ name: 'Bob' });
  for (const { page } of [ann, bob]) {
    await expect(page.getByTestId('user-count')).toHaveText('2');
    await expect.poll(() => userNames(page)).toEqual(['Ann', 'Bob']);
  }
  await expect(notice(ann.page, 'Bob joined')).toHaveCount(1);

  const cid = await openUser({ name: 'Cid' });
  for (const { page } of [ann, bob, cid]) {
    await expect(page.getByTestId('user-count')).toHaveText('3');
    await expect.poll(() => userNames(page)).toEqual(['Ann', 'Bob', 'Cid']);
  }
  await expect(notice(ann.page, 'Cid joined')).toHaveCount(1);
  await expect(notice(bob.page, 'Cid joined')).toHaveCount(1);

  // Closing a context is leaving.
  await bob.context.close();
  for (const { page } of [ann, cid]) {
    await expect(page.getByTestId('user-count')).toHaveText('2');
    await expect.poll(() => userNames(page)).toEqual(['Ann', 'Cid']);
    await expect(notice(page, 'Bob left')).toHaveCount(1);
  }
  await expect(notice(ann.page, 'Bob joined')).toHaveCount(1);

  await cid.page.close();
  await expect(ann.page.getByTestId('user-count')).toHaveText('1');
  await expect.poll(() => userNames(ann.page)).toEqual(['Ann']);
  await expect(notice(ann.page, 'Cid left')).toHaveCount(1);
});

test('someone who logs in later sees everyone already online', async ({ openUser, bot }) => {
  await bot('Ann');
  await bot('Bob');
  const cid = await openUser({ name: 'Cid' });
  await expect(cid.page.getByTestId('user-count')).toHaveText('3');
  await expect.poll(() => userNames(cid.page)).toEqual(['Ann', 'Bob', 'Cid']);
});

test('a bot leaving is shown as a notice and removed from the list', async ({ openUser, bot }) => {
  const ann = await openUser({ name: 'Ann' });
  const dee = await bot('Dee');
  await expect(notice(ann.page, 'Dee joined')).toHaveCount(1);
  await expect(ann.page.getByTestId('user-count')).toHaveText('2');
  dee.close();
  await expect(notice(ann.page, 'Dee left')).toHaveCount(1);
  await expect(ann.page.getByTestId('user-count')).toHaveText('1');
  await expect.poll(() => userNames(ann.page)).toEqual(['Ann']);
});
