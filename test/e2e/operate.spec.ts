/**
 * Operating a flow, in a real Chromium against `npm start`: the event list pages back through
 * more than a page in sequence order; a dead letter replayed after its target was fixed and
 * redeployed goes to the new version, and the page says so; and a flow is deleted after a
 * confirmation that names the webhook that stops.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { expect, test, type Page } from '@playwright/test';
import { signInAsOwner } from '@/test/e2e/helpers';

test.describe.configure({ mode: 'serial' });

const worker = `http://127.0.0.1:${process.env.MESHFLOW_E2E_WORKER_PORT ?? 8310}`;
const tag = randomUUID().slice(0, 8);

let sink: { server: Server; url: string; hits: { url: string; headers: IncomingHttpHeaders }[] };
/** A loopback port nothing listens on: a target that is down. */
let deadUrl: string;

test.beforeAll(async () => {
  const hits: { url: string; headers: IncomingHttpHeaders }[] = [];
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      hits.push({ url: req.url ?? '', headers: req.headers });
      res.writeHead(200);
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  sink = { server, url: `http://127.0.0.1:${(server.address() as { port: number }).port}`, hits };
  const closed = createServer();
  await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
  deadUrl = `http://127.0.0.1:${(closed.address() as { port: number }).port}/down`;
  await new Promise((resolve) => closed.close(resolve));
});

test.afterAll(async () => {
  sink.server.closeAllConnections();
  await new Promise((resolve) => sink.server.close(resolve));
});

/** Calls a tRPC mutation as the signed-in user (superjson wire format). */
async function mutate<T>(page: Page, path: string, input: unknown): Promise<T> {
  const res = await page.request.post(`/api/trpc/${path}`, { data: { json: input } });
  const body = (await res.json()) as { result?: { data: { json: T } }; error?: unknown };
  if (!body.result) throw new Error(`${path} failed: ${JSON.stringify(body.error)}`);
  return body.result.data.json;
}

function line(source: { id: string; kind: string; config: Record<string, unknown> }, url: string) {
  const nodes = [source, { id: 'deliver', kind: 'http-request', config: { method: 'post', url, body: '.', retry: { attempts: 1, delay: 'PT0.1S', backoff: 'constant' } } }];
  return {
    document: { namespace: 'e2e', name: 'flow', version: '0.1.0' },
    nodes: nodes.map((n, i) => ({ ...n, position: { x: i * 250, y: 0 } })),
    edges: [{ id: 'e0', source: source.id, target: 'deliver' }],
  };
}

async function postEvents(events: Record<string, unknown>[]): Promise<void> {
  const res = await fetch(`${worker}/events`, {
    method: 'POST',
    headers: { 'content-type': 'application/cloudevents-batch+json' },
    body: JSON.stringify(events.map((e) => ({ specversion: '1.0', source: '/e2e/operate', ...e }))),
  });
  expect(res.status).toBe(202);
}

test('the event list pages back through every event, newest first by sequence number', async ({ page }, info) => {
  await signInAsOwner(page);
  const type = `com.example.operate.paged.${tag}`;
  const total = 250;
  await postEvents(Array.from({ length: total }, (_, i) => ({ id: `p-${i + 1}`, type })));
  await page.goto('/events');
  await page.getByLabel('Filter by type').fill(type);
  await page.getByRole('button', { name: 'Apply' }).click();
  const table = page.getByRole('table', { name: 'Events' });
  await expect(table.getByRole('row').nth(1)).toContainText(`p-${total}`);
  const older = page.getByRole('button', { name: 'Load older events' });
  while (await older.isVisible()) {
    await older.click();
    await expect(page.getByRole('button', { name: 'Loading…' })).toHaveCount(0);
  }
  await expect(page.getByText('That is the oldest event in the log matching the filter.')).toBeVisible();
  const ids = await table.getByRole('row').locator('td:nth-child(3)').allTextContents();
  expect(ids).toEqual(Array.from({ length: total }, (_, i) => `p-${total - i}`));
  const seqs = (await table.getByRole('row').locator('td:first-child a').evaluateAll((links) => links.map((a) => a.getAttribute('href')))).map((href) => Number(href!.split('/').pop()));
  expect(seqs).toEqual([...seqs].sort((a, b) => b - a));
  await page.screenshot({ path: info.outputPath('events-paged.png'), fullPage: false });
});

test('a dead letter replayed after the fix is deployed goes to the new version, and the page says so', async ({ page }, info) => {
  await signInAsOwner(page);
  const type = `com.example.operate.replay.${tag}`;
  const source = { id: 'source', kind: 'cloudevents-endpoint', config: { eventType: type } };
  const name = `Replay ${tag}`;
  const saved = await mutate<{ ok: boolean; flowId: string }>(page, 'flows.create', { name, graph: line(source, deadUrl) });
  await mutate(page, 'flows.deploy', { flowId: saved.flowId });
  const eventId = `replay-${tag}`;
  // The worker loads a deployment within a second of its NOTIFY; until then events are not routed.
  await page.waitForTimeout(1500);
  await postEvents([{ id: eventId, type, data: { n: 1 } }]);

  await page.goto('/dead-letters');
  const row = page.getByRole('row').filter({ hasText: eventId });
  await expect(row).toBeVisible({ timeout: 20_000 });
  await expect(row).toContainText('v1');

  const fixed = await mutate<{ ok: boolean; version: number }>(page, 'flows.saveVersion', { flowId: saved.flowId, graph: line(source, `${sink.url}/fixed`) });
  expect(fixed.version).toBe(2);
  await mutate(page, 'flows.deploy', { flowId: saved.flowId });
  await row.getByRole('button', { name: `Replay ${eventId}` }).click();
  await expect(page.getByRole('status').filter({ hasText: 'Replayed' })).toHaveText('Replayed 1 to v2.');
  await expect.poll(() => sink.hits.filter((h) => h.url === '/fixed').map((h) => h.headers['ce-id']), { timeout: 15_000 }).toEqual([eventId]);
  await page.screenshot({ path: info.outputPath('dead-letters-replayed.png') });
});

test('replay all goes through every dead letter, past the first 500, and reports where they went', async ({ page }, info) => {
  await signInAsOwner(page);
  const type = `com.example.operate.bulk.${tag}`;
  const source = { id: 'source', kind: 'cloudevents-endpoint', config: { eventType: type } };
  const name = `Bulk ${tag}`;
  const saved = await mutate<{ ok: boolean; flowId: string }>(page, 'flows.create', { name, graph: line(source, deadUrl) });
  await mutate(page, 'flows.deploy', { flowId: saved.flowId });
  await page.waitForTimeout(1500);
  const total = 600;
  await postEvents(Array.from({ length: total }, (_, i) => ({ id: `bulk-${i + 1}-${tag}`, type })));

  await page.goto('/dead-letters');
  // The flow is offered once its first letter is in (the filter refreshes every few seconds).
  await expect(page.getByLabel('Flow', { exact: true }).getByRole('option', { name })).toHaveCount(1, { timeout: 30_000 });
  await page.getByLabel('Flow', { exact: true }).selectOption({ label: name });
  await expect(page.getByRole('button', { name: `Replay all ${total}` })).toBeVisible({ timeout: 30_000 });
  await expect(page.getByText(`Showing 100 of ${total}, newest first.`)).toBeVisible();

  await mutate(page, 'flows.saveVersion', { flowId: saved.flowId, graph: line(source, `${sink.url}/bulk`) });
  await mutate(page, 'flows.deploy', { flowId: saved.flowId });
  await page.getByRole('button', { name: `Replay all ${total}` }).click();
  await expect(page.getByRole('status').filter({ hasText: 'Replayed' })).toHaveText(`Replayed ${total} to v2.`, { timeout: 30_000 });
  await page.screenshot({ path: info.outputPath('dead-letters-bulk.png') });
  await expect
    .poll(() => new Set(sink.hits.filter((h) => h.url === '/bulk').map((h) => h.headers['ce-id'])).size, { timeout: 30_000 })
    .toBe(total);
});

test('a flow is deleted after a confirmation naming the webhook that stops', async ({ page }, info) => {
  await signInAsOwner(page);
  const path = `operate-${tag}`;
  const name = `Doomed ${tag}`;
  const source = { id: 'hook', kind: 'http-webhook', config: { path, mode: 'cloudevents', eventType: `com.example.operate.doomed.${tag}` } };
  const saved = await mutate<{ ok: boolean; flowId: string }>(page, 'flows.create', { name, graph: line(source, `${sink.url}/doomed`) });
  await mutate(page, 'flows.deploy', { flowId: saved.flowId });

  await page.goto('/flows');
  await page.getByRole('button', { name: `Delete ${name}` }).click();
  const dialog = page.getByRole('dialog', { name: `Delete flow “${name}”?` });
  await expect(dialog).toBeVisible();
  await expect(dialog.getByRole('region', { name: 'What stops' })).toContainText(`/hooks/${path}`);
  await expect(dialog.getByRole('region', { name: 'What stops' })).toContainText('live deployment (v1)');
  await expect(dialog).toContainText('Events it received stay in the event log.');
  await page.screenshot({ path: info.outputPath('delete-flow-dialog.png') });

  await dialog.getByRole('button', { name: 'Cancel' }).click();
  await expect(dialog).toHaveCount(0);
  await expect(page.getByRole('link', { name })).toBeVisible();

  await page.getByRole('button', { name: `Delete ${name}` }).click();
  await page.getByRole('dialog').getByRole('button', { name: 'Undeploy and delete' }).click();
  await expect(page.getByRole('status').filter({ hasText: 'Deleted' })).toHaveText(`Deleted flow “${name}”.`);
  await expect(page.getByRole('link', { name })).toHaveCount(0);
  await expect
    .poll(async () => (await fetch(`${worker}/hooks/${path}`, { method: 'POST', headers: { 'content-type': 'application/x-probe' }, body: '' })).status, { timeout: 15_000 })
    .toBe(404);
  await page.screenshot({ path: info.outputPath('flow-deleted.png') });
});
