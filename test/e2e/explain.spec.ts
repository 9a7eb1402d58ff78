/**
 * What the studio shows is true, in a real Chromium against `npm start`: the overview counts
 * filtered events by flow and node and adds up, an event's page says which node dropped it and
 * why (a data pattern, a webhook's event type), a pipeline event has a per-node run timeline,
 * and a designer test run stubs its HTTP target until "call real targets" is ticked.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { expect, test, type Page } from '@playwright/test';
import { signInAsOwner } from '@/test/e2e/helpers';

test.describe.configure({ mode: 'serial' });

const worker = `http://127.0.0.1:${process.env.MESHFLOW_E2E_WORKER_PORT ?? 8310}`;
const tag = randomUUID().slice(0, 8);
const hookPath = `explain-${tag}`;
const flowName = `Big orders ${tag}`;
const ORDER = 'com.example.order.created';
const shots = process.env.MESHFLOW_E2E_SCREENSHOTS;

let sink: { server: Server; url: string; hits: string[] };
let flowId: string;

test.beforeAll(async () => {
  const hits: string[] = [];
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      hits.push(req.url ?? '');
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  sink = { server, url: `http://127.0.0.1:${(server.address() as { port: number }).port}`, hits };
});

test.afterAll(async () => {
  sink.server.closeAllConnections();
  await new Promise((resolve) => sink.server.close(resolve));
});

async function trpc<T>(page: Page, path: string, input: unknown, kind: 'query' | 'mutation'): Promise<T> {
  const res =
    kind === 'mutation'
      ? await page.request.post(`/api/trpc/${path}`, { data: { json: input } })
      : await page.request.get(`/api/trpc/${path}?input=${encodeURIComponent(JSON.stringify({ json: input }))}`);
  const body = (await res.json()) as { result?: { data: { json: T } }; error?: unknown };
  if (!body.result) throw new Error(`${path} failed: ${JSON.stringify(body.error)}`);
  return body.result.data.json;
}

const graph = () => ({
  document: { namespace: 'e2e', name: `big-orders-${tag}`, version: '0.1.0' },
  nodes: [
    { id: 'hook', kind: 'http-webhook', label: 'Orders webhook', position: { x: 0, y: 0 }, config: { path: hookPath, mode: 'cloudevents', eventType: ORDER } },
    { id: 'big', kind: 'data-pattern', label: 'big orders', position: { x: 250, y: 0 }, config: { pattern: { data: { amount: [{ numeric: ['>', 100] }] } } } },
    { id: 'stamp', kind: 'jq-transform', position: { x: 500, y: 0 }, config: { expression: '{ orderId: .data.orderId, amount: .data.amount }' } },
    { id: 'notify', kind: 'http-request', label: 'Order sink', position: { x: 750, y: 0 }, config: { method: 'post', url: `${sink.url}/orders`, body: '.' } },
  ],
  edges: [
    { id: 'a', source: 'hook', target: 'big' },
    { id: 'b', source: 'big', target: 'stamp' },
    { id: 'c', source: 'stamp', target: 'notify' },
  ],
});

async function postOrder(id: string, amount: number, type = ORDER): Promise<number> {
  const res = await fetch(`${worker}/hooks/${hookPath}`, {
    method: 'POST',
    headers: { 'content-type': 'application/cloudevents+json' },
    body: JSON.stringify({ specversion: '1.0', id, source: '/shop', type, data: { orderId: id, amount } }),
  });
  await res.arrayBuffer();
  return res.status;
}

async function seqOf(page: Page, id: string): Promise<string> {
  return (await trpc<{ event: { seq: string } }>(page, 'events.explain', { ref: id }, 'query')).event.seq;
}

test('filtered events are counted by flow and node, and each event says why it did or did not run', async ({ page }) => {
  await signInAsOwner(page);
  const saved = await trpc<{ ok: boolean; flowId: string; diagnostics: unknown }>(page, 'flows.create', { name: flowName, graph: graph() }, 'mutation');
  expect(saved.ok, JSON.stringify(saved.diagnostics)).toBe(true);
  flowId = saved.flowId;
  await trpc(page, 'flows.deploy', { flowId }, 'mutation');
  // The first order is posted until the worker serves the new webhook (404 until it loads the deployment).
  await expect.poll(() => postOrder(`big-${tag}`, 500), { timeout: 15_000 }).toBe(202);
  expect(await postOrder(`small-1-${tag}`, 50)).toBe(202);
  expect(await postOrder(`small-2-${tag}`, 80)).toBe(202);
  expect(await postOrder(`refund-${tag}`, 500, 'com.example.refund')).toBe(202);
  await expect.poll(() => sink.hits.filter((h) => h === '/orders').length, { timeout: 15_000 }).toBe(1);

  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Overview' }).click();
  const row = page.getByRole('table', { name: 'Per flow' }).getByRole('row').filter({ hasText: flowName });
  await expect(row).toContainText('2 at big orders (Data pattern)', { timeout: 15_000 });
  await expect(row).toContainText('1 at Orders webhook (HTTP webhook)');
  // Accepted 4 = filtered 3 + delivered 1 + dead-lettered 0 + pending 0.
  const cells = row.getByRole('cell');
  await expect(cells.nth(1)).toHaveText('4');
  await expect(cells.nth(2)).toHaveText('3');
  await expect(cells.nth(4)).toHaveText('1');
  await expect(cells.nth(5)).toHaveText('0');
  await expect(cells.nth(6)).toHaveText('0');
  await expect(page.getByTestId('hour-balance')).not.toContainText('unaccounted');
  await expect(page.getByTestId('worker-balance')).not.toContainText('unaccounted');
  await expect(page.getByTestId('worker-filtered-by')).toContainText(`2 at big orders in ${flowName}`);
  await expect(page.getByTestId('figure-filtered')).not.toHaveText('0');
  if (shots) await page.screenshot({ path: `${shots}/overview.png`, fullPage: true });

  await page.goto(`/events/${await seqOf(page, `small-1-${tag}`)}`);
  await expect(page.getByRole('list', { name: 'Flows that considered this event' })).toContainText(`filtered by ${flowName} at big orders: \`data.amount\` 50 is not > 100`);
  if (shots) await page.screenshot({ path: `${shots}/event-filtered.png`, fullPage: true });

  await page.goto(`/events/${await seqOf(page, `refund-${tag}`)}`);
  await expect(page.getByRole('list', { name: 'Flows that considered this event' })).toContainText(
    `filtered by ${flowName} at Orders webhook: webhook accepts type "${ORDER}", this event is "com.example.refund"`,
  );
});

test('a pipeline event opens as a run with each node’s input, output, duration and attempts', async ({ page }) => {
  await signInAsOwner(page);
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Runs' }).click();
  await page.getByLabel('Search runs').fill(`big-${tag}`);
  const row = page.getByRole('row').filter({ hasText: `big-${tag}` });
  await expect(row).toHaveCount(1, { timeout: 15_000 });
  await row.getByRole('link', { name: flowName }).click();
  await expect(page).toHaveURL(/\/runs\/pipeline-\d+-[0-9a-f-]{36}$/);

  await expect(page.getByTestId('run-status')).toHaveText('completed');
  const timeline = page.getByRole('list', { name: 'Node timeline' });
  await expect(timeline.getByRole('listitem')).toHaveCount(4);
  await expect(page.getByTestId('node-hook')).toContainText('passed');
  await expect(page.getByTestId('node-big')).toContainText('passed');
  await expect(page.getByTestId('node-stamp')).toContainText('completed');
  const target = page.getByTestId('node-notify');
  await expect(target).toContainText('delivered');
  await expect(target.getByRole('table', { name: 'Order sink attempts' }).getByRole('row')).toHaveCount(2);
  await page.getByTestId('node-stamp').getByText('Input and output').click();
  await expect(page.getByLabel('jq transform output')).toContainText(`"orderId": "big-${tag}"`);
  await expect(page.getByLabel('jq transform input')).toContainText('"amount": 500');
  if (shots) await page.screenshot({ path: `${shots}/pipeline-run.png`, fullPage: true });

  // The filtered order's run stops at the filter, with the reason.
  await page.goto(`/events/${await seqOf(page, `small-1-${tag}`)}`);
  await page.getByRole('link', { name: 'run timeline' }).click();
  await expect(page.getByTestId('run-status')).toHaveText('filtered');
  await expect(page.getByTestId('node-big')).toContainText('`data.amount` 50 is not > 100');
  await expect(page.getByTestId('node-notify')).toContainText('skipped');
});

test('a designer test run stubs the HTTP target and shows the request, until real targets are called', async ({ page }) => {
  await signInAsOwner(page);
  await page.goto(`/flows/${flowId}`);
  await page.getByRole('tab', { name: 'Test run' }).click();
  await page
    .getByLabel('Sample event (CloudEvent JSON)')
    .fill(JSON.stringify({ specversion: '1.0', id: 'test-1', source: '/shop', type: ORDER, datacontenttype: 'application/json', data: { orderId: 'o-test', amount: 250 } }));
  const before = sink.hits.length;
  await expect(page.getByLabel('Call real targets')).not.toBeChecked();
  await page.getByRole('button', { name: 'Run test' }).click();
  await expect(page.getByTestId('test-run-status')).toHaveText('Run completed');
  const wouldBe = page.getByLabel('Request notify would send');
  await expect(wouldBe).toContainText(`Not sent: POST ${sink.url}/orders`);
  await expect(wouldBe).toContainText('"orderId": "o-test"');
  if (shots) {
    await wouldBe.scrollIntoViewIfNeeded();
    await page.screenshot({ path: `${shots}/test-run-stub.png` });
  }
  expect(sink.hits.length).toBe(before);

  await page.getByLabel('Call real targets').check();
  await page.getByRole('button', { name: 'Run test' }).click();
  await expect.poll(() => sink.hits.length, { timeout: 10_000 }).toBe(before + 1);
  await expect(page.getByLabel('Request notify would send')).toHaveCount(0);

  // Another type than the webhook accepts stops at the source, as in the worker.
  await page
    .getByLabel('Sample event (CloudEvent JSON)')
    .fill(JSON.stringify({ specversion: '1.0', id: 'test-2', source: '/shop', type: 'com.example.refund', data: { orderId: 'o-test', amount: 250 } }));
  await page.getByRole('button', { name: 'Run test' }).click();
  await expect(page.getByTestId('test-run-filtered')).toContainText(`accepts type "${ORDER}", this event is "com.example.refund"`);
  expect(sink.hits.length).toBe(before + 1);
});
