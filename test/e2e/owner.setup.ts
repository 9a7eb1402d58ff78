/**
 * Signs in as the owner once and keeps the session for every spec of the `studio` project, so
 * the specs do not hit the sign-in limit (20 a minute per address, as any client would).
 */
import { test as setup } from '@playwright/test';
import { OWNER_STATE, signInAsOwner } from '@/test/e2e/helpers';

setup('sign in as the owner', async ({ page }) => {
  await signInAsOwner(page);
  await page.context().storageState({ path: OWNER_STATE });
});
