/**
 * Expression fields in the designer's inspector, in a real Chromium against `npm start`: the
 * field paths of the source's catalog schema are offered while typing, and the expression's
 * result on the test panel's sample event shows underneath as you type.
 */
import AxeBuilder from '@axe-core/playwright';
import { expect, test } from '@playwright/test';
import { dragFromPalette, signInAsOwner } from '@/test/e2e/helpers';

test.use({ viewport: { width: 1600, height: 1000 } });

test('a jq expression completes the fields of the source event type and shows its result on the sample event', async ({ page }) => {
  test.setTimeout(180_000);
  await signInAsOwner(page);
  await page.getByRole('link', { name: 'New flow' }).click();
  await expect(page).toHaveURL(/\/flows\/new$/);

  await dragFromPalette(page, 'HTTP webhook', 140, 100);
  await dragFromPalette(page, 'jq transform', 420, 100);
  await page.getByTestId('node-http-webhook-1').click();
  await page.getByLabel('Event type', { exact: true }).fill('com.example.order.created');
  await page.getByLabel('Connect Out to').selectOption('jq-transform-1');
  await page.getByRole('button', { name: 'Connect', exact: true }).click();
  await expect(page.locator('.react-flow__edge')).toHaveCount(1);

  // The seeded catalog example of com.example.order.created becomes the sample event.
  await page.getByRole('tab', { name: 'Test run' }).click();
  await page.getByLabel('Sample from the catalog').selectOption({ label: 'com.example.order.created (catalog example)' });
  await expect(page.getByLabel('Sample event (CloudEvent JSON)')).toHaveValue(/o-1001/);
  await page.getByRole('tab', { name: 'Inspector' }).click();

  await page.getByTestId('node-jq-transform-1').click();
  const editor = page.getByRole('textbox', { name: 'Expression', exact: true });
  await editor.click();
  await page.keyboard.press('ControlOrMeta+A');
  await page.keyboard.press('Delete');
  await editor.pressSequentially('.data.');
  const offered = page.getByRole('listbox').getByRole('option');
  await expect(offered.filter({ hasText: 'orderId' })).toBeVisible();
  await expect(offered.filter({ hasText: 'customer' })).toBeVisible();
  await offered.filter({ hasText: 'orderId' }).click();
  await expect(editor).toHaveText('.data.orderId');

  const result = page.getByTestId('expression-result');
  await expect(result).toContainText('Result on the sample event');
  await expect(result).toContainText('"o-1001"');
  // The canvas took the picked path: the flow's YAML carries it.
  await expect(page.getByTestId('yaml-editor')).toContainText('.data.orderId');

  // Deeper paths complete too, and the result follows the typing.
  await editor.press('End');
  await editor.pressSequentially(' + "/" + .data.customer.t');
  await offered.filter({ hasText: 'tier' }).click();
  await expect(editor).toHaveText('.data.orderId + "/" + .data.customer.tier');
  await expect(result).toContainText('"o-1001/gold"');

  // A broken expression shows jq's own error in place.
  await editor.pressSequentially(' |');
  await expect(result).toContainText('jq error');

  await editor.press('Backspace');
  await editor.press('Backspace');
  await expect(result).toContainText('"o-1001/gold"');
  for (const scheme of ['light', 'dark'] as const) {
    await page.emulateMedia({ colorScheme: scheme });
    const axe = await new AxeBuilder({ page }).analyze();
    const serious = axe.violations
      .filter((v) => v.impact === 'serious' || v.impact === 'critical')
      .map((v) => `${scheme}: ${v.id} (${v.impact}): ${v.help} — ${v.nodes.map((n) => n.target.join(' ')).slice(0, 3).join(', ')}`);
    expect(serious, serious.join('\n')).toEqual([]);
  }
});
