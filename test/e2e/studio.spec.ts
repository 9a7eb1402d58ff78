/**
 * A new user's first minutes, in a real Chromium against `npm start` on an empty embedded
 * database: owner set-up, the seeded flow, every page, roles, and the README screenshot.
 * The tests share one studio and run in order.
 */
import { expect, test, type Page } from '@playwright/test';
import { owner, screenshotPath } from '@/test/e2e/helpers';

test.describe.configure({ mode: 'serial' });

const viewer = { name: 'Vic Viewer', email: 'viewer@example.com', password: 'viewer-password-1' };

async function signIn(page: Page, who: { email: string; password: string }) {
  await page.goto('/sign-in');
  await page.getByLabel('Email').fill(who.email);
  await page.getByLabel('Password').fill(who.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page).toHaveURL(/\/flows$/);
}

test('a first visit asks for the owner account, then shows the seeded demo flow', async ({ page }) => {
  await page.goto('/');
  await expect(page).toHaveURL(/\/setup$/);
  await expect(page.getByRole('heading', { name: 'Welcome to Meshflow' })).toBeVisible();
  await page.getByLabel('Your name').fill(owner.name);
  await page.getByLabel('Email').fill(owner.email);
  await page.getByLabel('Password').fill(owner.password);
  await page.getByRole('button', { name: 'Create owner account' }).click();
  await expect(page).toHaveURL(/\/flows$/);
  await expect(page.getByTestId('current-role')).toHaveText('admin');
  await expect(page.getByRole('link', { name: 'Demo: big orders to fulfilment' })).toBeVisible();
});

test('the set-up page is gone once the owner exists', async ({ page }) => {
  await page.goto('/setup');
  await expect(page).toHaveURL(/\/sign-in$/);
});

test('a wrong password is refused with a message', async ({ page }) => {
  await page.goto('/sign-in');
  await page.getByLabel('Email').fill(owner.email);
  await page.getByLabel('Password').fill('not-the-password');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByRole('alert').filter({ hasText: /invalid email or password/i })).toBeVisible();
  await expect(page).toHaveURL(/\/sign-in$/);
});

test('every studio page renders its rows or an empty state, and the worker shows as up', async ({ page }) => {
  await signIn(page, owner);
  await expect(page.getByTestId('worker-health')).toHaveAttribute('data-state', 'up', { timeout: 15_000 });
  const nav = page.getByRole('navigation', { name: 'Main' });

  await nav.getByRole('link', { name: 'Catalog' }).click();
  await expect(page.getByRole('heading', { name: 'Catalog' })).toBeVisible();
  await expect(page.getByRole('cell', { name: 'com.example.order.created' })).toBeVisible();
  await page.getByLabel('Search event types').fill('sensor');
  await expect(page.getByRole('cell', { name: 'io.meshflow.sensor.reading' })).toBeVisible();
  await expect(page.getByRole('cell', { name: 'com.example.order.created' })).toHaveCount(0);

  for (const [name, empty] of [
    ['Connectors', 'No connectors deployed'],
    ['Runs', 'No runs yet'],
  ] as const) {
    await nav.getByRole('link', { name }).click();
    await expect(page.getByRole('heading', { name, level: 1 })).toBeVisible();
    await expect(page.getByTestId('empty-state')).toContainText(empty);
  }
  await nav.getByRole('link', { name: 'Events' }).click();
  await expect(page.getByRole('heading', { name: 'Events', level: 1 })).toBeVisible();
  await expect(page.getByText(/Waiting for events/)).toBeVisible();

  await nav.getByRole('link', { name: 'Flows' }).click();
  await page.getByRole('link', { name: 'Demo: big orders to fulfilment' }).click();
  await expect(page.getByText('document:')).toBeVisible();
  await expect(page.getByTestId('deploy-status')).toHaveText('Not deployed');
});

test('the owner deploys the demo flow and the worker picks it up', async ({ page }) => {
  await signIn(page, owner);
  await page.getByRole('link', { name: 'Demo: big orders to fulfilment' }).click();
  await page.getByRole('button', { name: 'Deploy' }).click();
  await expect(page.getByTestId('deploy-status')).toHaveText('Live · v1');
  await expect(page.getByTestId('worker-health')).toHaveAttribute('title', '1 deployment(s) loaded', { timeout: 15_000 });
});

test('an admin adds a viewer, who can read but not deploy', async ({ page }) => {
  await signIn(page, owner);
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Settings' }).click();
  await page.getByLabel('Name', { exact: true }).fill(viewer.name);
  await page.getByLabel('Email', { exact: true }).fill(viewer.email);
  await page.getByLabel('Password', { exact: true }).fill(viewer.password);
  await page.getByLabel('Role', { exact: true }).selectOption('viewer');
  await page.getByRole('button', { name: 'Add person' }).click();
  await expect(page.getByRole('cell', { name: viewer.email, exact: true })).toBeVisible();
  await page.getByRole('button', { name: 'Sign out' }).click();
  await expect(page).toHaveURL(/\/sign-in$/);

  await signIn(page, viewer);
  await expect(page.getByTestId('current-role')).toHaveText('viewer');
  await page.getByRole('link', { name: 'Demo: big orders to fulfilment' }).click();
  await expect(page.getByTestId('deploy-status')).toBeVisible();
  await expect(page.getByRole('button', { name: 'Deploy' })).toHaveCount(0);
  await expect(page.getByRole('button', { name: 'Undeploy' })).toHaveCount(0);
  await expect(page.getByLabel('Flow name')).toHaveCount(0);

  // The server refuses too: the same request the Deploy button would send.
  const flowId = page.url().split('/').at(-1);
  const status = await page.evaluate(async (id) => {
    const res = await fetch('/api/trpc/flows.undeploy?batch=1', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ 0: { json: { flowId: id } } }),
    });
    return res.status;
  }, flowId);
  expect(status).toBe(403);
});

test('a filter is tested against a sample event without deploying', async ({ page }) => {
  await signIn(page, viewer);
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Events' }).click();
  await page.getByRole('button', { name: 'Test filter' }).click();
  await expect(page.getByTestId('filter-result')).toHaveText('Matches: the event would pass');
  await page.getByLabel('Filter (JSON)').fill('{"pattern": {"data": {"total": [{"numeric": [">", 500]}]}}}');
  await page.getByRole('button', { name: 'Test filter' }).click();
  await expect(page.getByTestId('filter-result')).toHaveText('No match: the event would be filtered out');
  await page.getByLabel('Filter (JSON)').fill('{"sql": "type ="}');
  await page.getByRole('button', { name: 'Test filter' }).click();
  await expect(page.getByRole('list', { name: 'Problems' })).toContainText('/sql');
});

test('an admin disables a person: their open session ends and they cannot sign in until re-enabled', async ({ page, browser }) => {
  // The viewer is signed in elsewhere.
  const elsewhere = await browser.newContext();
  const viewerPage = await elsewhere.newPage();
  await signIn(viewerPage, viewer);

  await signIn(page, owner);
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Settings' }).click();
  const row = page.getByTestId(`person-${viewer.email}`);
  await expect(row.getByText('Active', { exact: true })).toBeVisible();
  page.once('dialog', (dialog) => void dialog.accept());
  await row.getByRole('button', { name: `Disable ${viewer.email}` }).click();
  await expect(row.getByText('Disabled', { exact: true })).toBeVisible();
  await expect(page.getByText(/^Disabled: \d+ session\(s\) ended, \d+ API token\(s\) revoked\.$/)).toBeVisible();
  await page.screenshot({ path: 'test-results/people-disabled.png', fullPage: true });

  // Their next request is refused: the studio sends them to sign in, and sign-in says why.
  await viewerPage.reload();
  await expect(viewerPage).toHaveURL(/\/sign-in$/);
  await viewerPage.getByLabel('Email').fill(viewer.email);
  await viewerPage.getByLabel('Password').fill(viewer.password);
  await viewerPage.getByRole('button', { name: 'Sign in' }).click();
  await expect(viewerPage.getByRole('alert').filter({ hasText: /this account is disabled/ })).toBeVisible();

  await row.getByRole('button', { name: `Enable ${viewer.email}` }).click();
  await expect(row.getByText('Active', { exact: true })).toBeVisible();
  await viewerPage.getByRole('button', { name: 'Sign in' }).click();
  await expect(viewerPage).toHaveURL(/\/flows$/);
  await elsewhere.close();
});

test('README screenshot of the studio', async ({ page }) => {
  await page.setViewportSize({ width: 1280, height: 720 });
  await signIn(page, owner);
  await page.getByRole('link', { name: 'Demo: big orders to fulfilment' }).click();
  await expect(page.getByTestId('deploy-status')).toHaveText('Live · v1');
  await expect(page.getByTestId('worker-health')).toHaveAttribute('data-state', 'up');
  // All five panel tabs of a saved flow fit at 1280 px, none cut off.
  const tabs = page.getByRole('tablist', { name: 'Designer panels' });
  await expect(tabs.getByRole('tab')).toHaveCount(5);
  expect(await tabs.evaluate((el) => el.scrollWidth <= el.clientWidth)).toBe(true);
  await page.screenshot({ path: screenshotPath('studio.png') });
});
