/** What the browser specs share: the owner studio.spec creates, and signing in as them. */
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test, type Page } from '@playwright/test';

export const owner = { name: 'Olive Owner', email: 'owner@example.com', password: 'owner-password-1' };

/** The owner's signed-in browser state, written by owner.setup.ts in the run's temporary data dir. */
export const OWNER_STATE = join(process.env.MESHFLOW_E2E_DATA_DIR ?? tmpdir(), 'owner-state.json');

/**
 * Signs in as the owner, creating the account when the studio is fresh (a spec run on its
 * own); after studio.spec, which creates it, this is a plain sign-in.
 */
export async function signInAsOwner(page: Page): Promise<void> {
  await page.goto('/');
  await page.waitForURL(/\/(setup|sign-in|flows)$/);
  if (page.url().endsWith('/setup')) {
    await page.getByLabel('Your name').fill(owner.name);
    await page.getByLabel('Email').fill(owner.email);
    await page.getByLabel('Password').fill(owner.password);
    await page.getByRole('button', { name: 'Create owner account' }).click();
  } else if (page.url().endsWith('/sign-in')) {
    await page.getByLabel('Email').fill(owner.email);
    await page.getByLabel('Password').fill(owner.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
  }
  await expect(page).toHaveURL(/\/flows$/);
}

/**
 * Where a README screenshot goes: docs/ only when asked for (`MESHFLOW_UPDATE_SCREENSHOTS=1
 * npm run test:e2e`), so a test run never rewrites tracked files; otherwise the test's output folder.
 */
export function screenshotPath(name: string): string {
  return process.env.MESHFLOW_UPDATE_SCREENSHOTS === '1' ? `docs/${name}` : test.info().outputPath(name);
}

/** Drags a palette item (named after its node kind's title) onto the canvas at (x, y). */
export async function dragFromPalette(page: Page, title: string, x: number, y: number): Promise<void> {
  await page
    .getByRole('navigation', { name: 'Node palette' })
    .getByRole('button', { name: title, exact: true })
    .dragTo(page.locator('.react-flow__pane'), { targetPosition: { x, y } });
}
