/**
 * `meshflow deploy` against a real `npm start` (studio + worker on a scratch database): the
 * CLI deploys a flow file, events posted to its webhook reach a local HTTP sink, and a new
 * version deployed while events keep arriving loses none and delivers none twice.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { stringify } from 'yaml';
import type { PrismaClient } from '@/prisma/generated/client';
import { main } from '@/runtime/cli/main';
import type { FlowGraph } from '@/runtime/nodes/types';
import { createDb } from '@/server/db';
import { createAccount } from '@/server/services/accounts';
import { createToken } from '@/server/services/api-tokens';
import { createScratchDatabase, freePort, waitFor } from '@/test/helpers/databases';
import { startNode, type Running } from '@/test/helpers/processes';

const owner = { email: 'deployer@example.com', password: 'deployer-password-1' };
const dir = mkdtempSync(join(tmpdir(), 'meshflow-deploy-'));

interface Delivery {
  id: string;
  body: { orderId?: string; v?: number };
}

/** A target that records every CloudEvent it receives (binary mode: the id is a header). */
function startSink(): Promise<{ server: Server; url: string; received: Delivery[] }> {
  const received: Delivery[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => (body += chunk));
    req.on('end', () => {
      received.push({ id: String(req.headers['ce-id']), body: JSON.parse(body || '{}') });
      res.writeHead(200).end();
    });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ server, url: `http://127.0.0.1:${(server.address() as { port: number }).port}/orders`, received })));
}

/** webhook → jq transform (stamps the version) → HTTP request to the sink. */
function flowFile(name: string, hookPath: string, sinkUrl: string, version: number): string {
  const graph: FlowGraph = {
    document: { namespace: 'default', name, version: `0.${version}.0` },
    nodes: [
      { id: 'hook', kind: 'http-webhook', config: { path: hookPath, mode: 'cloudevents', eventType: 'com.example.order.created' } },
      { id: 'stamp', kind: 'jq-transform', config: { expression: `{ orderId: .data.orderId, v: ${version} }` } },
      { id: 'sink', kind: 'http-request', config: { method: 'post', url: sinkUrl, body: '.' } },
    ],
    edges: [
      { id: 'hook-stamp', source: 'hook', target: 'stamp' },
      { id: 'stamp-sink', source: 'stamp', target: 'sink' },
    ],
  };
  const file = join(dir, `${name}-v${version}.json`);
  writeFileSync(file, JSON.stringify(graph, null, 2));
  return file;
}

async function cli(env: Record<string, string>, ...argv: string[]) {
  let stdout = '';
  let stderr = '';
  const saved = { server: process.env.MESHFLOW_SERVER, token: process.env.MESHFLOW_TOKEN };
  Object.assign(process.env, env);
  try {
    const code = await main(argv, { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t) });
    return { code, stdout, stderr };
  } finally {
    for (const [key, value] of [['MESHFLOW_SERVER', saved.server], ['MESHFLOW_TOKEN', saved.token]] as const) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
  }
}

async function post(url: string, id: string, orderId: string): Promise<number> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/cloudevents+json' },
    body: JSON.stringify({ specversion: '1.0', id, source: 'https://shop.example.com', type: 'com.example.order.created', data: { orderId } }),
  });
  await res.arrayBuffer();
  return res.status;
}

describe('meshflow deploy against a running studio and worker', () => {
  let running: Running;
  let db: PrismaClient;
  let studio: string;
  let worker: string;
  let token: string;
  let viewerToken: string;
  let sink: Awaited<ReturnType<typeof startSink>>;
  const cleanups: Array<() => Promise<unknown> | unknown> = [];

  beforeAll(async () => {
    const scratch = await createScratchDatabase(inject('adminUrl'));
    cleanups.push(scratch.drop);
    const [port, workerPort] = [await freePort(), await freePort()];
    studio = `http://127.0.0.1:${port}`;
    worker = `http://127.0.0.1:${workerPort}`;
    running = startNode(['scripts/start.ts'], {
      PORT: String(port),
      WORKER_PORT: String(workerPort),
      DATABASE_URL: scratch.url,
      MESHFLOW_OWNER_EMAIL: owner.email,
      MESHFLOW_OWNER_PASSWORD: owner.password,
      MESHFLOW_WORKER_PUBLIC_URL: worker,
    });
    cleanups.push(() => running.stop('SIGINT'));
    await waitFor(
      async () => {
        if (running.child.exitCode !== null) throw new Error(`npm start exited:\n${running.output()}`);
        return running.output().includes('│ ready:') ? true : undefined;
      },
      400_000,
      'npm start to report ready',
    );
    db = createDb(scratch.url);
    cleanups.push(() => db.$disconnect());
    const user = await db.user.findUniqueOrThrow({ where: { email: owner.email } });
    token = (await createToken(db, user.id, { name: 'ci' })).token;
    const viewer = await createAccount(db, { name: 'Viewer', email: 'viewer@example.com', password: 'viewer-password-1' }, 'viewer');
    viewerToken = (await createToken(db, viewer.id, { name: 'viewer ci' })).token;
    sink = await startSink();
    cleanups.push(() => new Promise((resolve) => sink.server.close(resolve)));
  }, 420_000);

  afterAll(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  it('deploys a flow file, delivers its events, and switches versions under load with none lost or doubled', async () => {
    const env = { MESHFLOW_SERVER: studio, MESHFLOW_TOKEN: token };
    const deployed = await cli(env, 'deploy', flowFile('orders-to-sink', 'orders', sink.url, 1));
    expect(deployed.stderr).toBe('');
    expect(deployed.code).toBe(0);
    expect(deployed.stdout.trim().split('\n')).toHaveLength(1);
    const first = JSON.parse(deployed.stdout) as { flowId: string; version: number; deployment: { id: string; status: string }; webhooks: string[] };
    expect(first).toMatchObject({ version: 1, deployment: { status: 'active' }, webhooks: [`${worker}/hooks/orders`] });
    const hook = first.webhooks[0]!;

    // Served within 2 s of the deploy.
    const deployedAt = Date.now();
    await waitFor(async () => ((await post(hook, `warmup-${randomUUID()}`, 'warmup')) === 202 ? true : undefined), 2_000, 'the webhook to be served');
    console.info(`v1 served ${Date.now() - deployedAt} ms after the deploy returned`);

    // Load: 8 producers post until told to stop; v2 is deployed in the middle.
    const accepted = new Map<string, number>();
    const refused: number[] = [];
    let stop = false;
    const producers = Array.from({ length: 8 }, async (_, p) => {
      for (let i = 0; !stop; i++) {
        const id = `load-${p}-${i}-${randomBytes(3).toString('hex')}`;
        const sentAt = Date.now();
        const status = await post(hook, id, id);
        if (status >= 200 && status < 300) accepted.set(id, sentAt);
        else refused.push(status);
      }
    });
    await new Promise((r) => setTimeout(r, 1_500));
    const redeployStarted = Date.now();
    const redeploy = await cli(env, 'deploy', flowFile('orders-to-sink', 'orders', sink.url, 2));
    const redeployed = Date.now();
    expect(redeploy.code).toBe(0);
    const second = JSON.parse(redeploy.stdout) as typeof first;
    expect(second).toMatchObject({ flowId: first.flowId, version: 2, webhooks: [hook] });
    await new Promise((r) => setTimeout(r, 2_500));
    stop = true;
    await Promise.all(producers);

    await waitFor(async () => {
      const delivered = new Set(sink.received.map((d) => d.id));
      return [...accepted.keys()].every((id) => delivered.has(id)) ? true : undefined;
    }, 60_000, 'every accepted event to reach the sink');
    const load = sink.received.filter((d) => d.id.startsWith('load-'));
    const distinct = new Set(load.map((d) => d.id));
    const byVersion = { v1: load.filter((d) => d.body.v === 1).length, v2: load.filter((d) => d.body.v === 2).length };
    console.info(`under redeploy: ${accepted.size} accepted, ${refused.length} refused (${[...new Set(refused)].join(', ') || 'none'}), ${load.length} deliveries, ${distinct.size} distinct ids, by version ${JSON.stringify(byVersion)}`);
    expect(refused).toEqual([]);
    expect(distinct.size).toBe(accepted.size);
    expect(load.length).toBe(distinct.size);
    // Every delivery carries its own event's data: the id and the payload travel together.
    expect(load.every((d) => d.body.orderId === d.id)).toBe(true);
    // Events taken before the deploy go through v1 (the draining version still delivers them);
    // events sent 2 s after it returned go through v2.
    const versionOf = new Map(load.map((d) => [d.id, d.body.v]));
    const before = [...accepted].filter(([, at]) => at < redeployStarted).map(([id]) => versionOf.get(id));
    const after = [...accepted].filter(([, at]) => at > redeployed + 2_000).map(([id]) => versionOf.get(id));
    expect(before.length).toBeGreaterThan(0);
    expect(after.length).toBeGreaterThan(0);
    expect(new Set(before)).toEqual(new Set([1]));
    expect(new Set(after)).toEqual(new Set([2]));

    const listed = await cli(env, 'flows', '--json');
    expect(listed.code).toBe(0);
    const flows = JSON.parse(listed.stdout) as { id: string; deployments: { version: number; status: string }[] }[];
    expect(flows.find((f) => f.id === first.flowId)?.deployments[0]).toMatchObject({ version: 2, status: 'active' });

    const undeployed = await cli(env, 'undeploy', first.flowId);
    expect(undeployed).toMatchObject({ code: 0 });
    await waitFor(async () => ((await post(hook, `after-${randomUUID()}`, 'late')) === 404 ? true : undefined), 5_000, 'the webhook to stop taking events');
  }, 180_000);

  it('deploys a plain DSL 1.0 document too', async () => {
    const file = join(dir, 'listen.yaml');
    writeFileSync(
      file,
      stringify({
        document: { dsl: '1.0.0', namespace: 'default', name: 'plain-dsl', version: '1.0.0' },
        schedule: { on: { one: { with: { type: 'com.example.order.created' } } } },
        do: [{ forward: { call: 'http', with: { method: 'post', endpoint: sink.url, body: '${ . }' } } }],
      }),
    );
    const result = await cli({ MESHFLOW_SERVER: studio, MESHFLOW_TOKEN: token }, 'deploy', file);
    expect(result.stderr).toBe('');
    expect(JSON.parse(result.stdout)).toMatchObject({ version: 1, deployment: { status: 'active' }, webhooks: [] });
  });

  it('says clearly what is wrong: bad token, viewer token, unreachable studio, invalid file', async () => {
    const file = flowFile('errors', 'errors', sink.url, 1);
    const badToken = await cli({ MESHFLOW_SERVER: studio, MESHFLOW_TOKEN: 'mf_not-a-token' }, 'deploy', file);
    expect(badToken.code).toBe(1);
    expect(badToken.stderr).toContain(`the studio at ${studio} refused the API token (401)`);

    const asViewer = await cli({ MESHFLOW_SERVER: studio, MESHFLOW_TOKEN: viewerToken }, 'deploy', file);
    expect(asViewer.code).toBe(1);
    expect(asViewer.stderr).toContain('refused (403): this needs the editor role; you are viewer');

    const nowhere = `http://127.0.0.1:${await freePort()}`;
    const unreachable = await cli({ MESHFLOW_SERVER: nowhere, MESHFLOW_TOKEN: token }, 'flows');
    expect(unreachable.code).toBe(1);
    expect(unreachable.stderr).toContain(`cannot reach the studio at ${nowhere} (ECONNREFUSED)`);

    const broken = join(dir, 'broken.json');
    writeFileSync(broken, JSON.stringify({ document: { name: 'broken' }, nodes: [{ id: 'x', kind: 'http-request', config: { method: 'fetch' } }], edges: [] }));
    const invalid = await cli({ MESHFLOW_SERVER: studio, MESHFLOW_TOKEN: token }, 'deploy', broken);
    expect(invalid.code).toBe(2);
    expect(invalid.stdout).toBe('');
    expect(invalid.stderr).toContain('invalid-config (node x config.method)');
  });
});
