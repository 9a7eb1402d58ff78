/**
 * The flow designer in a real Chromium against `npm start`: build a flow from an empty canvas
 * by dragging and wiring, test-run it, deploy it and send it a real event; import a DSL file;
 * edit the YAML and watch the canvas follow; and an axe-core check of every studio page.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import AxeBuilder from '@axe-core/playwright';
import { expect, test, type Locator, type Page } from '@playwright/test';
import { dragFromPalette, screenshotPath, signInAsOwner } from '@/test/e2e/helpers';

test.use({ viewport: { width: 1600, height: 1000 } });

async function dragWire(page: Page, from: Locator, to: Locator) {
  const a = (await from.boundingBox())!;
  const b = (await to.boundingBox())!;
  await page.mouse.move(a.x + a.width / 2, a.y + a.height / 2);
  await page.mouse.down();
  for (let i = 1; i <= 8; i++) await page.mouse.move(a.x + ((b.x - a.x) * i) / 8, a.y + ((b.y - a.y) * i) / 8);
  await page.mouse.move(b.x + b.width / 2, b.y + b.height / 2);
  await page.mouse.up();
}

async function connectWithKeyboard(page: Page, from: string, port: string, to: string) {
  await page.getByTestId(`node-${from}`).click();
  await page.getByLabel(`Connect ${port} to`).selectOption(to);
  await page.getByRole('button', { name: 'Connect', exact: true }).click();
  await expect(page.getByRole('button', { name: `Remove wire ${port} to ${to}` })).toBeVisible();
}

interface SinkRequest {
  path: string;
  body: unknown;
}

async function startSink(): Promise<{ server: Server; url: string; received: SinkRequest[] }> {
  const received: SinkRequest[] = [];
  const server = createServer((req: IncomingMessage, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      let body: unknown = text;
      try {
        body = JSON.parse(text);
      } catch {
        // a non-JSON body is kept as text
      }
      received.push({ path: req.url ?? '/', body });
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { server, url: `http://127.0.0.1:${port}/sink`, received };
}

test('a flow built on an empty canvas is test-run, deployed and receives a real event', async ({ page }) => {
  test.setTimeout(240_000);
  const sink = await startSink();
  try {
    await signInAsOwner(page);
    await page.getByRole('link', { name: 'New flow' }).click();
    await expect(page).toHaveURL(/\/flows\/new$/);
    await expect(page.locator('.react-flow__node')).toHaveCount(0);

    await dragFromPalette(page, 'HTTP webhook', 140, 100);
    await dragFromPalette(page, 'Data pattern', 420, 100);
    await dragFromPalette(page, 'jq transform', 140, 320);
    await dragFromPalette(page, 'HTTP request', 420, 320);
    await expect(page.locator('.react-flow__node')).toHaveCount(4);

    // One wire by dragging between handles, the rest from the inspector with the keyboard.
    await dragWire(page, page.locator('[data-id="http-webhook-1"] .react-flow__handle.source'), page.locator('[data-id="data-pattern-1"] .react-flow__handle.target'));
    await expect(page.locator('.react-flow__edge')).toHaveCount(1);
    await connectWithKeyboard(page, 'data-pattern-1', 'Match', 'jq-transform-1');
    await connectWithKeyboard(page, 'jq-transform-1', 'Out', 'http-request-1');
    await expect(page.locator('.react-flow__edge')).toHaveCount(3);

    // A target cannot feed a source: the source is not offered.
    await page.getByTestId('node-http-request-1').click();
    await expect(page.getByLabel('Connect Out to').locator('option', { hasText: 'http-webhook-1' })).toHaveCount(0);

    const hookPath = `designer-${Date.now()}`;
    await page.getByTestId('node-http-webhook-1').click();
    await page.getByLabel('Path', { exact: true }).fill(hookPath);
    await page.getByLabel('Event type', { exact: true }).fill('com.example.order.created');
    await page.getByTestId('node-data-pattern-1').click();
    await page.getByLabel('Pattern (JSON)').fill('{"data": {"amount": [{"numeric": [">", 100]}]}}');
    await page.getByTestId('node-jq-transform-1').click();
    await page.getByLabel('Expression', { exact: true }).fill('{orderId: .data.id, amount: .data.amount}');
    await page.getByTestId('node-http-request-1').click();
    await page.getByLabel('Url', { exact: true }).fill('not a url');
    await expect(page.getByTestId('inspector').getByText('an absolute URL or a ${ } expression').first()).toBeVisible();
    await expect(page.getByTestId('node-http-request-1').getByTestId('node-errors')).toBeVisible();
    await page.getByLabel('Url', { exact: true }).fill(sink.url);
    await expect(page.getByTestId('node-http-request-1').getByTestId('node-errors')).toHaveCount(0);
    await page.getByLabel('Stub external calls in test runs').check();

    const yaml = page.getByTestId('yaml-editor');
    await expect(yaml).toContainText('call: http');
    await expect(yaml).toContainText(sink.url);
    await expect(yaml).toContainText('{orderId: .data.id, amount: .data.amount}');

    await page.getByRole('tab', { name: 'Test run' }).click();
    await page.getByLabel('Sample event (CloudEvent JSON)').fill(
      JSON.stringify({ specversion: '1.0', id: 'test-1', source: '/shop', type: 'com.example.order.created', datacontenttype: 'application/json', data: { id: 'o-test', amount: 250 } }),
    );
    await page.getByRole('button', { name: 'Run test' }).click();
    await expect(page.getByTestId('test-run-status')).toHaveText('Run completed');
    await expect(page.getByTestId('run-jq-transform-1')).toContainText('"orderId":"o-test"');
    await expect(page.getByTestId('run-http-request-1')).toContainText('stubbed');
    expect(sink.received).toHaveLength(0);
    await page.getByRole('button', { name: 'Auto-layout' }).click();
    await page.screenshot({ path: screenshotPath('designer.png') });

    await page.getByLabel('Flow name').fill(`Designer orders ${hookPath}`);
    await page.getByRole('button', { name: 'Save flow' }).click();
    await expect(page).toHaveURL(/\/flows\/[0-9a-f-]{36}$/);
    await expect(page.locator('.react-flow__node')).toHaveCount(4);
    await expect(page.locator('.react-flow__edge')).toHaveCount(3);
    await page.getByRole('button', { name: 'Deploy' }).click();
    await expect(page.getByTestId('deploy-status')).toHaveText('Live · v1');
    const webhookUrl = await page.getByLabel('Webhook URL').inputValue();
    expect(webhookUrl).toMatch(new RegExp(`/hooks/${hookPath}$`));

    const event = { specversion: '1.0', id: `live-${hookPath}`, source: '/shop', type: 'com.example.order.created', datacontenttype: 'application/json', data: { id: 'o-live', amount: 500 } };
    // The worker loads the deployment within a second of the notify; until then the hook answers 404.
    await expect(async () => {
      const res = await fetch(webhookUrl, { method: 'POST', headers: { 'content-type': 'application/cloudevents+json' }, body: JSON.stringify(event) });
      expect(res.status).toBeLessThan(300);
    }).toPass({ timeout: 15_000 });
    await expect.poll(() => sink.received.map((r) => JSON.stringify(r.body)).join('\n'), { timeout: 15_000 }).toContain('"orderId":"o-live"');
    await expect(page.getByTestId('live-counts')).toContainText('1 events in', { timeout: 10_000 });

    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Events' }).click();
    await expect(page.getByText(`live-${hookPath}`).first()).toBeVisible();

    // The delivered event is this flow's run on the Runs page, found by its event id.
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Runs' }).click();
    const runRow = page.getByRole('row').filter({ hasText: `live-${hookPath}` });
    await expect(runRow).toContainText(`Designer orders ${hookPath}`, { timeout: 15_000 });
    await expect(runRow).toContainText('completed');
  } finally {
    sink.server.close();
  }
});

const handWritten = `document:
  dsl: '1.0.0'
  namespace: examples
  name: greet-and-notify
  version: '1.0.0'
do:
  - greet:
      set:
        message: \${ "hello " + .data.name }
  - notify:
      call: http
      with:
        method: post
        endpoint: https://example.com/notify
        body: \${ . }
`;

test('a DSL file written elsewhere opens on the canvas', async ({ page }) => {
  await signInAsOwner(page);
  await page.goto('/flows/new');
  await page.getByLabel('Import DSL or flow file').setInputFiles({ name: 'greet.sw.yaml', mimeType: 'application/yaml', buffer: Buffer.from(handWritten) });
  await expect(page.getByTestId('node-greet')).toBeVisible();
  await expect(page.getByTestId('node-notify')).toBeVisible();
  await expect(page.locator('.react-flow__edge')).toHaveCount(1);
  await expect(page.getByTestId('yaml-editor')).toContainText('greet-and-notify');
});

test('the canvas follows the YAML, and is driven from the keyboard', async ({ page }) => {
  await signInAsOwner(page);
  await page.goto('/flows/new');
  // Add from the keyboard: focus a palette button and press Enter.
  await page.getByRole('button', { name: 'jq transform', exact: true }).focus();
  await page.keyboard.press('Enter');
  await expect(page.getByTestId('node-jq-transform-1')).toBeVisible();
  await page.getByRole('button', { name: 'Log', exact: true }).press('Enter');
  await expect(page.getByTestId('node-log-1')).toBeVisible();
  await connectWithKeyboard(page, 'jq-transform-1', 'Out', 'log-1');

  // Select with the keyboard and delete; undo brings it back.
  await page.locator('[data-id="log-1"]').focus();
  await page.keyboard.press('Enter');
  await page.keyboard.press('Delete');
  await expect(page.getByTestId('node-log-1')).toHaveCount(0);
  await page.keyboard.press('Control+z');
  await expect(page.getByTestId('node-log-1')).toBeVisible();

  const editor = page.getByRole('textbox', { name: 'Flow YAML (Serverless Workflow DSL 1.0)' });
  await editor.click();
  await page.keyboard.press('Control+a');
  await page.keyboard.insertText('document: [unclosed');
  await expect(page.getByRole('alert').filter({ hasText: /Line 1:/ })).toBeVisible();
  await page.keyboard.press('Control+a');
  await page.keyboard.insertText(handWritten.replace('- greet:', '- welcome:'));
  await expect(page.getByTestId('node-welcome')).toBeVisible();
  await expect(page.getByTestId('node-notify')).toBeVisible();
  await expect(page.getByTestId('node-jq-transform-1')).toHaveCount(0);
});

test('no studio page has a serious or critical accessibility violation', async ({ page }) => {
  test.setTimeout(300_000); // every page, light and dark: minutes when the machine is busy
  await signInAsOwner(page);
  const flowHref = await page.locator('main a[href^="/flows/"]:not([href="/flows/new"])').first().getAttribute('href');
  const pages = ['/flows', '/flows/new', ...(flowHref ? [flowHref] : []), '/catalog', '/connectors', '/runs', '/events', '/settings'];
  for (const scheme of ['light', 'dark'] as const) {
    await page.emulateMedia({ colorScheme: scheme });
    for (const path of pages) {
      await page.goto(path);
      // Not 'networkidle': live pages poll (worker health, deploy status) and never go quiet.
      await expect(page.getByRole('main')).toBeVisible();
      await expect(page.getByTestId('loading')).toHaveCount(0);
      const results = await new AxeBuilder({ page }).analyze();
      const serious = results.violations
        .filter((v) => v.impact === 'serious' || v.impact === 'critical')
        .map((v) => `${scheme} ${path}: ${v.id} (${v.impact}): ${v.help} — ${v.nodes.map((n) => n.target.join(' ')).slice(0, 3).join(', ')}`);
      expect(serious, serious.join('\n')).toEqual([]);
    }
  }
});
