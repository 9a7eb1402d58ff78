/**
 * The designer never loses or misstates the user's work: undo across YAML edits, a node
 * edited in the YAML says what it became, unsaved work is guarded, nodes never hide each
 * other, loops are reported, and every node and handle is named and wired from the keyboard.
 */
import { readFileSync } from 'node:fs';
import AxeBuilder from '@axe-core/playwright';
import { expect, test, type Locator, type Page } from '@playwright/test';
import { dragFromPalette, signInAsOwner } from '@/test/e2e/helpers';

test.use({ viewport: { width: 1440, height: 900 } });

const palette = (page: Page) => page.getByRole('navigation', { name: 'Node palette' });

async function addFromKeyboard(page: Page, title: string) {
  await palette(page).getByRole('button', { name: title, exact: true }).press('Enter');
}

/** Wires from the keyboard through the handles themselves: Enter on an output, then on an input. */
async function wireFromKeyboard(page: Page, from: string, port: string, to: string) {
  await page.getByRole('button', { name: `${from}, output ${port}` }).focus();
  await page.keyboard.press('Enter');
  await page.getByRole('button', { name: `${to}, input` }).focus();
  await page.keyboard.press('Enter');
}

/** webhook → data pattern → jq transform → HTTP request, built from the keyboard. */
async function buildPipeline(page: Page) {
  await page.goto('/flows/new');
  for (const title of ['HTTP webhook', 'Data pattern', 'jq transform', 'HTTP request']) await addFromKeyboard(page, title);
  await expect(page.locator('.react-flow__node')).toHaveCount(4);
  await wireFromKeyboard(page, 'HTTP webhook: http-webhook-1', 'Out', 'Data pattern: data-pattern-1');
  await wireFromKeyboard(page, 'Data pattern: data-pattern-1', 'Match', 'jq transform: jq-transform-1');
  await wireFromKeyboard(page, 'jq transform: jq-transform-1', 'Out', 'HTTP request: http-request-1');
  await expect(page.locator('.react-flow__edge')).toHaveCount(3);
}

async function currentYaml(page: Page): Promise<string> {
  const download = page.waitForEvent('download');
  await page.getByRole('button', { name: 'Export DSL' }).click();
  return readFileSync((await (await download).path())!, 'utf8');
}

async function replaceYaml(page: Page, text: string) {
  await page.getByRole('textbox', { name: 'Flow YAML (Serverless Workflow DSL 1.0)' }).click();
  await page.keyboard.press('Control+a');
  await page.keyboard.insertText(text);
}

type Box = { x: number; y: number; width: number; height: number };
const overlap = (a: Box, b: Box) => a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;
const boxOf = async (locator: Locator) => (await locator.boundingBox())!;

test.beforeEach(async ({ page }) => {
  await signInAsOwner(page);
});

test('undo after YAML edits gives back exactly the graph before them, wires included', async ({ page }) => {
  await buildPipeline(page);
  const before = await currentYaml(page);
  await replaceYaml(page, before.replace('https://example.com/hooks/orders', 'https://example.com/hooks/changed'));
  // Keystrokes after it belong to the same run of YAML edits.
  await page.keyboard.press('Control+End');
  await page.keyboard.type('\n# checked by hand');
  await expect(page.getByTestId('yaml-editor')).toContainText('hooks/changed');
  await page.getByRole('button', { name: 'Undo' }).click();
  await expect(page.locator('.react-flow__edge')).toHaveCount(3);
  await expect(page.getByTestId('yaml-editor')).toContainText('https://example.com/hooks/orders');
  expect(await currentYaml(page)).toBe(before);
  await page.getByRole('button', { name: 'Redo' }).click();
  await expect(page.locator('.react-flow__edge')).toHaveCount(3);
  await expect(page.getByTestId('yaml-editor')).toContainText('hooks/changed');
});

test("a filter whose `when:` is edited in the YAML shows what runs now, and says it changed kind", async ({ page }) => {
  await buildPipeline(page);
  const yaml = await currentYaml(page);
  const edited = yaml.replace(/when: .*\n/, 'when: ${ .data.total > 50 }\n');
  expect(edited).not.toBe(yaml);
  await replaceYaml(page, edited);
  const node = page.getByRole('group', { name: 'jq predicate: data-pattern-1' });
  await expect(node).toBeVisible();
  await expect(node.getByTestId('node-warnings')).toHaveText('1 warning');
  await page.getByRole('tab', { name: /Problems/ }).click();
  await expect(page.getByRole('list', { name: 'Problems' })).toContainText('was a Data pattern');
  await node.click();
  await page.getByRole('tab', { name: 'Inspector' }).click();
  await expect(page.getByTestId('inspector').getByRole('textbox', { name: /^Expression/ })).toContainText('.data.total > 50');
  // What runs is what the canvas shows: the compiled YAML carries the edited condition.
  expect(await currentYaml(page)).toContain('.data.total > 50');
  await expect(page.locator('.react-flow__edge')).toHaveCount(3);
});

test('leaving with unsaved changes asks first, in the studio and when the tab closes', async ({ page }) => {
  await page.goto('/flows/new');
  await addFromKeyboard(page, 'Log');
  await expect(page.getByText('Unsaved changes')).toBeVisible();
  const runs = page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Runs' });

  page.once('dialog', (dialog) => void dialog.dismiss());
  await runs.click();
  await expect(page).toHaveURL(/\/flows\/new$/);
  await expect(page.getByTestId('node-log-1')).toBeVisible();

  const asked = new Promise<string>((resolve) => page.once('dialog', (dialog) => (resolve(dialog.message()), void dialog.accept())));
  await runs.click();
  expect(await asked).toContain('unsaved changes');
  await expect(page).toHaveURL(/\/runs$/);

  await page.goto('/flows/new');
  await addFromKeyboard(page, 'Log');
  const unload = new Promise<string>((resolve) => page.once('dialog', (dialog) => (resolve(dialog.type()), void dialog.accept())));
  await page.close({ runBeforeUnload: true });
  expect(await unload).toBe('beforeunload');
});

test('dropped nodes never overlap, auto-layout runs left to right, and nothing covers a node or its title', async ({ page }) => {
  await page.goto('/flows/new');
  for (const title of ['HTTP webhook', 'Data pattern', 'jq transform', 'HTTP request']) await dragFromPalette(page, title, 200, 150);
  const nodes = page.locator('.react-flow__node');
  await expect(nodes).toHaveCount(4);
  const dropped = await Promise.all([0, 1, 2, 3].map((i) => boxOf(nodes.nth(i))));
  for (const [i, a] of dropped.entries()) for (const b of dropped.slice(i + 1)) expect(overlap(a, b)).toBe(false);

  await wireFromKeyboard(page, 'HTTP webhook: http-webhook-1', 'Out', 'Data pattern: data-pattern-1');
  await wireFromKeyboard(page, 'Data pattern: data-pattern-1', 'Match', 'jq transform: jq-transform-1');
  await wireFromKeyboard(page, 'jq transform: jq-transform-1', 'Out', 'HTTP request: http-request-1');
  await page.getByRole('button', { name: 'Auto-layout' }).click();
  const order = ['http-webhook-1', 'data-pattern-1', 'jq-transform-1', 'http-request-1'];
  await expect
    .poll(async () => {
      const xs = await Promise.all(order.map(async (id) => (await boxOf(page.getByTestId(`node-${id}`))).x));
      return xs.every((x, i) => i === 0 || x > xs[i - 1]!);
    })
    .toBe(true);
  // Each wire leaves its node on the right and enters the next on the left: no loop back across nodes.
  const minimap = await boxOf(page.locator('.react-flow__minimap'));
  const controls = await boxOf(page.locator('.react-flow__controls'));
  for (const id of order) {
    const node = page.getByTestId(`node-${id}`);
    const box = await boxOf(node);
    expect(overlap(box, minimap), `${id} is under the minimap`).toBe(false);
    expect(overlap(box, controls), `${id} is under the zoom controls`).toBe(false);
    const title = node.locator('span.truncate').first();
    expect(await title.evaluate((el) => el.scrollWidth <= el.clientWidth), `${id}'s title is cut`).toBe(true);
    const badge = node.getByTestId(/node-(warnings|errors)/);
    if ((await badge.count()) > 0) expect(overlap(await boxOf(badge), await boxOf(title)), `${id}'s badge covers its title`).toBe(false);
  }

  await page.setViewportSize({ width: 1280, height: 800 });
  await page.screenshot({ path: test.info().outputPath('designer-1280.png') });
  const toolbar = page.getByRole('toolbar', { name: 'Canvas tools' });
  expect(await toolbar.evaluate((el) => el.scrollWidth <= el.clientWidth)).toBe(true);
  const tops = await Promise.all(['Undo', 'Redo', 'Auto-layout', 'Fit view', 'Export DSL', 'Export flow file'].map(async (name) => (await boxOf(toolbar.getByRole('button', { name }))).y));
  expect(new Set(tops).size).toBe(1);
  const tabs = page.getByRole('tablist', { name: 'Designer panels' });
  expect(await tabs.evaluate((el) => el.scrollWidth <= el.clientWidth), 'the panel tabs fit').toBe(true);
  const header = await boxOf(page.locator('header').filter({ has: page.getByRole('button', { name: 'Save flow' }) }));
  expect(header.height).toBeLessThan(60);
  await page.screenshot({ path: test.info().outputPath('designer-1280.png') });
});

test('a target wired back to its filter is listed as a loop', async ({ page }) => {
  await buildPipeline(page);
  await wireFromKeyboard(page, 'HTTP request: http-request-1', 'Out', 'Data pattern: data-pattern-1');
  await expect(page.locator('.react-flow__edge')).toHaveCount(4);
  await page.getByRole('tab', { name: /Problems/ }).click();
  await expect(page.getByRole('list', { name: 'Problems' })).toContainText('data-pattern-1 → jq-transform-1 → http-request-1 → data-pattern-1 loops');
});

test('every node and handle is named, and axe finds no violation on the designer', async ({ page }) => {
  await buildPipeline(page);
  for (const name of ['HTTP webhook: http-webhook-1', 'Data pattern: data-pattern-1', 'jq transform: jq-transform-1', 'HTTP request: http-request-1']) {
    await expect(page.getByRole('group', { name })).toBeVisible();
  }
  await expect(page.getByRole('button', { name: 'HTTP webhook: http-webhook-1, input' })).toHaveCount(0);
  await expect(page.getByRole('button', { name: 'HTTP request: http-request-1, input' })).toBeVisible();
  const results = await new AxeBuilder({ page }).include('main').analyze();
  const violations = results.violations.map((v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.map((n) => n.target.join(' ')).slice(0, 3).join(', ')}`);
  expect(violations, violations.join('\n')).toEqual([]);
});

test('a connector card names its button by what it does', async ({ page }) => {
  await page.goto('/connectors');
  const gallery = page.getByRole('list', { name: 'Connector gallery' });
  const buttons = gallery.getByRole('button');
  await expect(buttons.first()).toBeVisible();
  for (const button of await buttons.all()) {
    const text = (await button.innerText()).trim();
    expect(await button.getAttribute('aria-label')).toMatch(new RegExp(`^${text} `));
  }
});

test("a node's preview evaluates on what the nodes before it produce from the sample", async ({ page }) => {
  await page.goto('/flows/new');
  for (const title of ['HTTP webhook', 'jq transform', 'HTTP request']) await addFromKeyboard(page, title);
  await wireFromKeyboard(page, 'HTTP webhook: http-webhook-1', 'Out', 'jq transform: jq-transform-1');
  await wireFromKeyboard(page, 'jq transform: jq-transform-1', 'Out', 'HTTP request: http-request-1');
  // Until the webhook takes the sample's type, the preview says the sample never reaches the target.
  await page.getByTestId('node-http-request-1').click();
  await expect(page.getByTestId('inspector')).toContainText('the sample event does not reach this node (the source: accepts type');
  await page.getByTestId('node-http-webhook-1').click();
  await page.getByLabel('Event type', { exact: true }).fill('com.example.order.created');
  await page.getByTestId('node-jq-transform-1').click();
  const expression = page.getByTestId('inspector').getByRole('textbox', { name: /^Expression/ });
  await expression.click();
  await page.keyboard.press('ControlOrMeta+A');
  await page.keyboard.insertText('{total: .data.amount, order: .data.id}');
  // The HTTP request's body (jq `.`) previews on the transform's output, not on the raw event.
  await page.getByTestId('node-http-request-1').click();
  const result = page.getByTestId('expression-result').first();
  await expect(result).toContainText('as it reaches this node');
  await expect(result).toContainText('"total": 250');
  await expect(result).not.toContainText('specversion');
});

test('a filter dropped after a typed source starts without warnings about fields its catalog type lacks', async ({ page }) => {
  await page.goto('/flows/new');
  await addFromKeyboard(page, 'HTTP webhook');
  await page.getByTestId('node-http-webhook-1').click();
  // The seeded catalog type names its amount `total`.
  await page.getByLabel('Event type', { exact: true }).fill('com.example.order.created');
  for (const title of ['Data pattern', 'Switch']) await addFromKeyboard(page, title);
  await wireFromKeyboard(page, 'HTTP webhook: http-webhook-1', 'Out', 'Data pattern: data-pattern-1');
  await wireFromKeyboard(page, 'Data pattern: data-pattern-1', 'Match', 'Switch: switch-1');
  await expect(page.locator('.react-flow__edge')).toHaveCount(2);
  await expect(page.getByTestId('node-data-pattern-1').getByTestId('node-warnings')).toHaveCount(0);
  await expect(page.getByTestId('node-switch-1').getByTestId('node-warnings')).toHaveCount(0);
  await page.getByRole('tab', { name: /Problems/ }).click();
  await expect(page.getByRole('tabpanel')).not.toContainText('not in the schema');
});
