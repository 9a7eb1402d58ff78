/**
 * Observe and operate, in a real Chromium against `npm start`: a failing run found by its
 * event id, the live tail, and a dead letter replayed once its target is fixed. Flows are
 * deployed through the studio's own tRPC API from the signed-in page; events are posted to
 * the worker's port as any producer would.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { expect, test, type Page } from '@playwright/test';
import { signInAsOwner } from '@/test/e2e/helpers';

test.describe.configure({ mode: 'serial' });

const worker = `http://127.0.0.1:${process.env.MESHFLOW_E2E_WORKER_PORT ?? 8310}`;
const tag = randomUUID().slice(0, 8);

interface Hit {
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

let sink: { server: Server; url: string; hits: Hit[] };
/** The status the sink answers a path with; tests break and fix targets by changing it. */
let respond = (_url: string) => 200;

test.beforeAll(async () => {
  const hits: Hit[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      const status = respond(req.url ?? '');
      if (status < 300) hits.push({ url: req.url ?? '', headers: req.headers, body });
      res.writeHead(status);
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  sink = {
    server,
    url: `http://127.0.0.1:${(server.address() as { port: number }).port}`,
    hits,
  };
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

/** Saves a line of nodes (a CloudEvents endpoint for `type` first) as a flow and deploys it. */
async function deployLine(page: Page, name: string, type: string, nodes: { id: string; kind: string; config: Record<string, unknown> }[]): Promise<string> {
  const all = [{ id: 'source', kind: 'cloudevents-endpoint', config: { eventType: type } }, ...nodes];
  const graph = {
    document: { namespace: 'e2e', name, version: '0.1.0' },
    nodes: all.map((n, i) => ({ ...n, position: { x: i * 250, y: 0 } })),
    edges: all.slice(1).map((n, i) => ({ id: `e${i}`, source: all[i]!.id, target: n.id })),
  };
  const saved = await mutate<{ ok: boolean; flowId: string; diagnostics: unknown }>(page, 'flows.create', { name, graph });
  if (!saved.ok) throw new Error(`${name} was not saved: ${JSON.stringify(saved.diagnostics)}`);
  await mutate(page, 'flows.deploy', { flowId: saved.flowId });
  return saved.flowId;
}

async function postEvent(event: Record<string, unknown>): Promise<void> {
  // The worker picks a deployment up within a second of its NOTIFY; until then the event is not routed.
  const res = await fetch(`${worker}/events`, {
    method: 'POST',
    headers: { 'content-type': 'application/cloudevents+json' },
    body: JSON.stringify({ specversion: '1.0', source: '/e2e/observe', ...event }),
  });
  expect(res.status).toBe(202);
}

test('a failing run is found by its event id and shows its failing task’s error and input', async ({ page }) => {
  await signInAsOwner(page);
  const type = `com.example.observe.fail.${tag}`;
  // The wait makes it a workflow (a run with steps) rather than a pipeline.
  await deployLine(page, `observe-failing-${tag}`, type, [
    { id: 'pause', kind: 'wait', config: { duration: 'PT0.01S' } },
    // No retries: unset, a target is retried for over a day before its run faults.
    { id: 'notify', kind: 'http-request', config: { method: 'post', url: `${sink.url}/broken`, body: '.', retry: { attempts: 0, delay: 'PT1S', backoff: 'constant' } } },
  ]);
  respond = (url) => (url === '/broken' ? 500 : 200);
  await page.waitForTimeout(1500);
  const eventId = `fail-${tag}`;
  await postEvent({ id: eventId, type, data: { order: `o-${tag}` } });

  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Runs' }).click();
  await page.getByLabel('Search runs').fill(eventId);
  const row = page.getByRole('row').filter({ hasText: eventId });
  await expect(row).toHaveCount(1, { timeout: 15_000 });
  await expect(row.getByText('faulted')).toBeVisible({ timeout: 15_000 });
  await row.getByRole('link', { name: `observe-failing-${tag}` }).click();

  await expect(page.getByTestId('run-status')).toHaveText('faulted');
  const step = page.getByTestId('step-notify');
  await expect(step.getByText('faulted')).toBeVisible();
  await expect(step.getByLabel('notify error')).toContainText('500');
  await expect(step.getByLabel('notify input')).toContainText(`o-${tag}`);
  await expect(page.getByRole('link', { name: new RegExp(eventId) })).toBeVisible();
});

test('a posted event appears in the live tail within a second', async ({ page }) => {
  await signInAsOwner(page);
  await page.goto('/events');
  await expect(page.getByTestId('tail-status')).toHaveText('Live', { timeout: 10_000 });
  const type = `com.example.observe.tail.${tag}`;
  await page.getByLabel('Filter by type').fill(type);
  await page.getByRole('button', { name: 'Apply' }).click();
  await expect(page.getByTestId('tail-status')).toHaveText('Live', { timeout: 10_000 });
  const eventId = `tail-${tag}`;
  await postEvent({ id: eventId, type });
  await expect(page.getByRole('cell', { name: eventId })).toBeVisible({ timeout: 1_000 });
});

test('a dead-lettered event is replayed after its target is fixed, and arrives with its id', async ({ page }) => {
  await signInAsOwner(page);
  const type = `com.example.observe.dead.${tag}`;
  await deployLine(page, `observe-dead-${tag}`, type, [
    { id: 'deliver', kind: 'http-request', config: { method: 'post', url: `${sink.url}/orders`, body: '.', retry: { attempts: 1, delay: 'PT0.1S', backoff: 'constant' } } },
  ]);
  respond = (url) => (url === '/orders' ? 503 : 200);
  await page.waitForTimeout(1500);
  const eventId = `dead-${tag}`;
  await postEvent({ id: eventId, type, data: { n: 1 } });

  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Dead letters' }).click();
  const row = page.getByRole('row').filter({ hasText: eventId });
  await expect(row).toBeVisible({ timeout: 15_000 });
  await expect(row).toContainText('503');
  expect(sink.hits.filter((h) => h.url === '/orders')).toHaveLength(0);

  respond = () => 200;
  await row.getByRole('button', { name: `Replay ${eventId}` }).click();
  await expect(page.getByRole('status').filter({ hasText: 'Replayed 1 to v1.' })).toBeVisible();
  await expect.poll(() => sink.hits.filter((h) => h.url === '/orders').map((h) => h.headers['ce-id']), { timeout: 10_000 }).toEqual([eventId]);
  await expect(page.getByRole('row').filter({ hasText: eventId })).toHaveCount(0);
});

test('the overview shows the worker up with its counters and the last hour’s charts', async ({ page }) => {
  await signInAsOwner(page);
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Overview' }).click();
  await expect(page.getByTestId('overview-worker')).toHaveText('up');
  // Every earlier test posted events and delivered at least one, so the counters are not zero.
  await expect(page.getByTestId('figure-accepted')).not.toHaveText('0');
  await expect(page.getByTestId('figure-delivered')).not.toHaveText('0');
  await expect(page.getByRole('region', { name: 'Events in and out' }).locator('.recharts-line')).toHaveCount(5);
});
