/**
 * "Try on past events" in a real Chromium against `npm start`: a deployed flow passes orders
 * over 100; a saved draft passes orders over 50; the designer's Past events tab lists the
 * orders between 50 and 100 as added deliveries and sends nothing; an event is pinned as a test
 * case; a backfill to the live version shows its progress, sends an event again only when forced;
 * and Settings says how long events stay replayable.
 */
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { expect, test, type Page } from '@playwright/test';
import { parse as parseYaml } from 'yaml';
import { signInAsOwner } from '@/test/e2e/helpers';

test.describe.configure({ mode: 'serial' });
test.use({ viewport: { width: 1600, height: 1000 } });

const worker = `http://127.0.0.1:${process.env.MESHFLOW_E2E_WORKER_PORT ?? 8310}`;
const tag = randomUUID().slice(0, 8);
const hookPath = `replay-${tag}`;
const ORDER = 'com.example.order.created';

let sink: { server: Server; url: string; hits: { path: string; id: string }[] };

test.beforeAll(async () => {
  const hits: { path: string; id: string }[] = [];
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      hits.push({ path: req.url ?? '', id: String(req.headers['ce-id'] ?? '') });
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

async function trpc<T>(page: Page, path: string, input: unknown): Promise<T> {
  const res = await page.request.post(`/api/trpc/${path}`, { data: { json: input } });
  const body = (await res.json()) as { result?: { data: { json: T } }; error?: unknown };
  if (!body.result) throw new Error(`${path} failed: ${JSON.stringify(body.error)}`);
  return body.result.data.json;
}

const graph = (threshold: number) => ({
  document: { namespace: 'e2e', name: `replay-orders-${tag}`, version: '0.1.0' },
  nodes: [
    { id: 'hook', kind: 'http-webhook', label: 'Orders webhook', position: { x: 0, y: 0 }, config: { path: hookPath, mode: 'cloudevents', eventType: ORDER } },
    { id: 'big', kind: 'data-pattern', label: 'big orders', position: { x: 250, y: 0 }, config: { pattern: { data: { amount: [{ numeric: ['>', threshold] }] } } } },
    { id: 'notify', kind: 'http-request', label: 'Order sink', position: { x: 500, y: 0 }, config: { method: 'post', url: `${sink.url}/orders`, body: '.' } },
  ],
  edges: [
    { id: 'a', source: 'hook', target: 'big' },
    { id: 'b', source: 'big', target: 'notify' },
  ],
});

async function postOrder(id: string, amount: number): Promise<number> {
  const res = await fetch(`${worker}/hooks/${hookPath}`, {
    method: 'POST',
    headers: { 'content-type': 'application/cloudevents+json' },
    body: JSON.stringify({ specversion: '1.0', id, source: '/shop', type: ORDER, data: { amount } }),
  });
  await res.arrayBuffer();
  return res.status;
}

test('the Past events tab shows what a draft would change, pins an event as a test, and backfills once', async ({ page }) => {
  test.setTimeout(120_000);
  await signInAsOwner(page);
  const created = await trpc<{ ok: boolean; flowId: string; diagnostics: unknown }>(page, 'flows.create', { name: `Replay orders ${tag}`, graph: graph(100) });
  expect(created.ok, JSON.stringify(created.diagnostics)).toBe(true);
  const flowId = created.flowId;
  await trpc(page, 'flows.deploy', { flowId });
  await expect.poll(() => postOrder(`o150-${tag}`, 150), { timeout: 15_000 }).toBe(202);
  for (const [id, amount] of [[`o30-${tag}`, 30], [`o60-${tag}`, 60], [`o80-${tag}`, 80]] as const) expect(await postOrder(id, amount)).toBe(202);
  await expect.poll(() => sink.hits.length, { timeout: 15_000 }).toBe(1);
  // The draft the designer opens: orders over 50, saved but not deployed.
  const saved = await trpc<{ ok: boolean }>(page, 'flows.saveVersion', { flowId, graph: graph(50) });
  expect(saved.ok).toBe(true);

  await page.goto(`/flows/${flowId}`);
  await page.getByRole('tab', { name: 'Past events' }).click();
  await expect(page.getByTestId('replay-retention')).toContainText('Events stay replayable for 7 days (MESHFLOW_EVENT_RETENTION_HOURS)');
  await page.getByRole('button', { name: 'Try on past events' }).click();
  await expect(page.getByTestId('replay-summary')).toContainText('4 events replayed against live v1: 2 would change — 2 deliveries added, 0 removed, 0 changed');
  const events = page.getByRole('list', { name: 'Replayed events' });
  await expect(events.getByRole('listitem', { name: `Event o60-${tag}` })).toContainText(`+ notify would send POST ${sink.url}/orders`);
  await expect(events.getByRole('listitem', { name: `Event o80-${tag}` })).toContainText('outcome nothing sent → delivered');
  await expect(events.getByRole('listitem', { name: `Event o30-${tag}` })).toHaveCount(0);
  await page.getByLabel('Show events that would not change').check();
  await expect(events.getByRole('listitem', { name: `Event o30-${tag}` })).toContainText('No change (nothing sent)');
  // Nothing reached the target.
  expect(sink.hits).toHaveLength(1);

  const downloading = page.waitForEvent('download');
  await page.getByRole('button', { name: `Pin o60-${tag} as a test case` }).click();
  const file = await downloading;
  expect(file.suggestedFilename()).toMatch(/\.test\.yaml$/);
  const pinned = parseYaml(await readFile((await file.path())!, 'utf8')) as { flow: string; cases: { event: { id: string }; expect: { outcome: string; deliveries: { node: string; url: string }[] } }[] };
  expect(pinned.flow).toMatch(/\.flow\.json$/);
  expect(pinned.cases[0]).toMatchObject({ event: { id: `o60-${tag}` }, expect: { outcome: 'delivered', deliveries: [{ node: 'notify', url: `${sink.url}/orders` }] } });

  // Backfill the listed events to the live version, v1: the order of 150 was delivered there when it arrived, the others do not pass.
  await page.getByRole('button', { name: 'Backfill 4 events' }).click();
  const progress = page.getByTestId('backfill-progress');
  await expect(progress).toContainText('v1: done — 4 of 4 worked, 0 sent, 1 already sent, 3 not taken by the flow', { timeout: 30_000 });
  await expect(progress.getByRole('progressbar', { name: 'Backfill progress' })).toHaveAttribute('value', '100');
  expect(sink.hits).toHaveLength(1);

  // Forced, it goes again, once; unforced again, it does not.
  await page.getByLabel('Send again if already sent').check();
  await page.getByRole('button', { name: 'Backfill 4 events' }).click();
  await expect(progress).toContainText('v1: done — 4 of 4 worked, 1 sent, 0 already sent', { timeout: 30_000 });
  await expect.poll(() => sink.hits.filter((h) => h.id === `o150-${tag}`).length, { timeout: 15_000 }).toBe(2);
  await page.getByLabel('Send again if already sent').uncheck();
  await page.getByRole('button', { name: 'Backfill 4 events' }).click();
  await expect(progress).toContainText('v1: done — 4 of 4 worked, 0 sent, 1 already sent', { timeout: 30_000 });
  expect(sink.hits.filter((h) => h.id === `o150-${tag}`)).toHaveLength(2);

  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Settings' }).click();
  await expect(page.getByTestId('settings-retention')).toContainText('Accepted events are kept for 168 hours (7 days)');
});
