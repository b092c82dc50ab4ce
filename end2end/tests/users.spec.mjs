// The users panel and the join / leave notices. A browser user (a session) leaves only once
// the grace period after their last connection has passed; a `login` user (bot) at once.

import { SESSION_GRACE_MS, expect, login, notice, notices, test, userNames } from './fixtures.mjs';

test('user list and count update on join and, after the grace period, on leave, with notices', async ({ openUser }) => {
  const ann = await openUser({ name: 'Ann' });
  await expect(ann.page.getByTestId('user-count')).toHaveText('1');
  await expect.poll(() => userNames(ann.page)).toEqual(['Ann']);
  await expect(ann.page.locator('[data-testid=user].me')).toHaveText('Ann');

  const bob = await openUser({ name: 'Bob' });
  for (const { page } of [ann, bob]) {
    await expect(page.getByTestId('user-count')).toHaveText('2');
    await expect.poll(() => userNames(page)).toEqual(['Ann', 'Bob']);
  }
  await expect(notices(ann.page)).toHaveText(['Ann joined', 'Bob joined']);
  await expect(notices(bob.page)).toHaveText(['Bob joined']);
  await expect(bob.page.locator('[data-testid=user].me')).toHaveText('Bob');

  const cid = await openUser({ name: 'Cid' });
  for (const { page } of [ann, bob, cid]) {
    await expect(page.getByTestId('user-count')).toHaveText('3');
    await expect.poll(() => userNames(page)).toEqual(['Ann', 'Bob', 'Cid']);
  }
  await expect(notices(ann.page)).toHaveText(['Ann joined', 'Bob joined', 'Cid joined']);
  await expect(notices(bob.page)).toHaveText(['Bob joined', 'Cid joined']);

  // Closing a context is leaving, once the grace period has passed without a reconnection.
  const closedAt = performance.now();
  await bob.context.close();
  await ann.page.waitForTimeout(SESSION_GRACE_MS / 2);
  for (const { page } of [ann, cid]) {
    await expect(page.getByTestId('user-count')).toHaveText('3');
    await expect(notice(page, 'Bob left')).toHaveCount(0);
  }
  for (const { page } of [ann, cid]) {
    await expect(notice(page, 'Bob left')).toHaveCount(1, { timeout: SESSION_GRACE_MS + 5_000 });
    await expect(page.getByTestId('user-count')).toHaveText('2');
    await expect.poll(() => userNames(page)).toEqual(['Ann', 'Cid']);
  }
  expect(performance.now() - closedAt, 'not before the grace period').toBeGreaterThanOrEqual(SESSION_GRACE_MS);
  await expect(notices(ann.page)).toHaveText(['Ann joined', 'Bob joined', 'Cid joined', 'Bob left']);

  // Closing the last page of a context is the same.
  await cid.page.close();
  await expect(notice(ann.page, 'Cid left')).toHaveCount(1, { timeout: SESSION_GRACE_MS + 5_000 });
  await expect(ann.page.getByTestId('user-count')).toHaveText('1');
  await expect.poll(() => userNames(ann.page)).toEqual(['Ann']);
  await expect(notices(ann.page)).toHaveText(['Ann joined', 'Bob joined', 'Cid joined', 'Bob left', 'Cid left']);
});

test('a closed session holds its name for the grace period, then anyone may take it', async ({ openUser }) => {
  const ann = await openUser({ name: 'Ann' });
  const bob = await openUser({ name: 'Bob' });
  const other = await openUser();

  await ann.context.close();
  // Within the grace period the name is still Ann's.
  await other.page.getByTestId('name-input').fill('ann');
  await other.page.getByTestId('login-button').click();
  await expect(other.page.getByTestId('login-error')).toHaveText('Name already taken');
  expect(await userNames(bob.page)).toEqual(['Ann', 'Bob']);

  // Then Ann leaves and the name is free.
  await expect(notice(bob.page, 'Ann left')).toHaveCount(1, { timeout: SESSION_GRACE_MS + 5_000 });
  await login(other.page, 'ann');
  await expect(notices(bob.page)).toHaveText(['Bob joined', 'Ann left', 'ann joined']);
  await expect.poll(() => userNames(bob.page)).toEqual(['Bob', 'ann']);
});

test('someone who logs in later sees everyone already online', async ({ openUser, bot }) => {
  await bot('Ann');
  await bot('Bob');
  const cid = await openUser({ name: 'Cid' });
  await expect(cid.page.getByTestId('user-count')).toHaveText('3');
  await expect.poll(() => userNames(cid.page)).toEqual(['Ann', 'Bob', 'Cid']);
  await expect(cid.page.getByTestId('user')).toHaveText(['Ann', 'Bob', 'Cid']);
  await expect(notices(cid.page)).toHaveText(['Cid joined']);
});

test.describe('with a long grace period', () => {
  // A bot logs in with `login`, not a session: no grace period applies to it.
  test.use({ sessionGraceMs: 60_000 });

  test('a bot leaving is shown at once as a notice and removed from the list', async ({ openUser, bot }) => {
    const ann = await openUser({ name: 'Ann' });
    const dee = await bot('Dee');
    await expect(notice(ann.page, 'Dee joined')).toHaveCount(1);
    await expect(ann.page.getByTestId('user-count')).toHaveText('2');
    dee.close();
    await expect(notice(ann.page, 'Dee left')).toHaveCount(1);
    await expect(ann.page.getByTestId('user-count')).toHaveText('1');
    await expect.poll(() => userNames(ann.page)).toEqual(['Ann']);
    await expect(notices(ann.page)).toHaveText(['Ann joined', 'Dee joined', 'Dee left']);
  });
});
