/**
 * The Secrets page: an editor adds a secret; afterwards the studio shows its name and
 * description, never its value — not in the table, not in the page, not after a reload.
 */
import { expect, test } from '@playwright/test';
import { signInAsOwner } from '@/test/e2e/helpers';

test('a secret added on the Secrets page shows by name only', async ({ page }, testInfo) => {
  const value = `sk-live-${Date.now().toString(36)}-do-not-show`;
  await signInAsOwner(page);
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Secrets' }).click();
  await expect(page.getByRole('heading', { name: 'Secrets', exact: true })).toBeVisible();

  const form = page.getByRole('form', { name: 'New secret' });
  await form.getByLabel('Name').fill('shop_api_token');
  await form.getByLabel(/^Value/).fill(value);
  await form.getByLabel('Description').fill('Token for the shop API');
  await form.getByRole('button', { name: 'Add secret' }).click();

  const row = page.getByTestId('secret-shop_api_token');
  await expect(row).toBeVisible();
  await expect(row).toContainText('Token for the shop API');
  await expect(row.getByLabel('value hidden')).toBeVisible();
  await expect(form.getByLabel(/^Value/)).toHaveValue('');
  expect(await page.content()).not.toContain(value);
  await page.screenshot({ path: testInfo.outputPath('secrets.png'), fullPage: true });

  await page.reload();
  await expect(page.getByTestId('secret-shop_api_token')).toBeVisible();
  expect(await page.content()).not.toContain(value);

  // A name a flow could not use is refused next to the field, with the rule.
  await form.getByLabel('Name').fill('not a name');
  await form.getByLabel(/^Value/).fill('x');
  await form.getByRole('button', { name: 'Add secret' }).click();
  await expect(form.getByText(/must be a letter, then up to 99 letters/)).toBeVisible();
});
