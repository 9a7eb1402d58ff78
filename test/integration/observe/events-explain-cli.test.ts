/**
 * `meshflow events explain <id>` over the studio's HTTP API with an API token: the studio's
 * tRPC handler served on a loopback port (the same handler as app/api/trpc), a real worker,
 * and a flow whose filter drops a small order. The CLI prints the reason the worker recorded.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { PrismaClient } from '@/prisma/generated/client';
import { main } from '@/runtime/cli/main';
import { compile } from '@/runtime/compiler/compile';
import type { FlowGraph } from '@/runtime/nodes/types';
import { createDb } from '@/server/db';
import { createAccount } from '@/server/services/accounts';
import { createToken } from '@/server/services/api-tokens';
import { waitFor } from '@/test/helpers/databases';
import { serveApi, type StudioApi } from '@/test/helpers/studio-api';
import { deploy, post, startSink, startWorker, structured, undeployAll, waitForHook, type Sink, type Worker } from '@/test/integration/events/helpers';

const tag = randomUUID().slice(0, 8);
const hookPath = `cli-orders-${tag}`;

async function cli(...argv: string[]) {
  let stdout = '';
  let stderr = '';
  const code = await main(argv, { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t) });
  return { code, stdout, stderr };
}

describe('meshflow events explain', () => {
  let pool: pg.Pool;
  let db: PrismaClient;
  let sink: Sink;
  let worker: Worker;
  let api: StudioApi;
  let token: string;

  beforeAll(async () => {
    process.env.DATABASE_URL = inject('databaseUrl');
    process.env.MESHFLOW_AUTH_SECRET = randomBytes(32).toString('hex');
    process.env.MESHFLOW_SECRET_KEY = randomBytes(32).toString('base64');
    pool = new pg.Pool({ connectionString: inject('databaseUrl') });
    db = createDb(inject('databaseUrl'));
    const viewer = await createAccount(db, { name: 'CLI viewer', email: `cli-${tag}@example.com`, password: 'viewer-password-1' }, 'viewer');
    token = (await createToken(db, viewer.id, { name: 'cli' })).token;
    sink = await startSink();
    const graph: FlowGraph = {
      document: { namespace: 'default', name: `cli-orders-${tag}`, version: '0.1.0' },
      nodes: [
        { id: 'hook', kind: 'http-webhook', config: { path: hookPath, mode: 'cloudevents', eventType: 'com.example.order.created' } },
        { id: 'big', kind: 'data-pattern', label: 'big orders', config: { pattern: { data: { amount: [{ numeric: ['>', 100] }] } } } },
        { id: 'sink', kind: 'http-request', config: { method: 'post', url: `${sink.url}/orders`, body: '.' } },
      ],
      edges: [
        { id: 'a', source: 'hook', target: 'big' },
        { id: 'b', source: 'big', target: 'sink' },
      ],
    };
    await deploy(pool, compile(graph).document, { name: `CLI orders ${tag}`, graph });
    worker = await startWorker(inject('databaseUrl'));
    await waitForHook(worker.base, hookPath);
    api = await serveApi();
  });

  afterAll(async () => {
    await worker?.running.stop();
    await undeployAll(pool);
    await sink?.close();
    await api?.close();
    await db?.$disconnect();
    await pool?.end();
  });

  it('prints the node and reason that kept an event from running', async () => {
    const id = `small-${tag}`;
    expect((await post(worker.base, `/hooks/${hookPath}`, structured({ id, source: '/shop', type: 'com.example.order.created', data: { amount: 42 } }))).status).toBe(202);
    await waitFor(async () => ((await pool.query(`SELECT 1 FROM event WHERE id = $1`, [id])).rowCount ? true : undefined), 10_000, 'the event in the log');

    const out = await cli('events', 'explain', id, '--server', api.url, '--token', token);
    expect(out.stderr).toBe('');
    expect(out.code).toBe(0);
    expect(out.stdout).toContain(`event ${id} (com.example.order.created from /shop)`);
    expect(out.stdout).toContain(`filtered by CLI orders ${tag} at big orders: \`data.amount\` 42 is not > 100`);

    const json = await cli('events', 'explain', id, '--json', '--server', api.url, '--token', token);
    const parsed = JSON.parse(json.stdout) as { decisions: { outcome: string; node: { id: string }; reason: string }[] };
    expect(parsed.decisions).toEqual([expect.objectContaining({ outcome: 'filtered', node: expect.objectContaining({ id: 'big' }), reason: '`data.amount` 42 is not > 100' })]);
  });

  it('says when no event has that id, and when the token is refused', async () => {
    const missing = await cli('events', 'explain', `nope-${tag}`, '--server', api.url, '--token', token);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain(`no event with id or sequence number "nope-${tag}" is in the log`);
    const refused = await cli('events', 'explain', `nope-${tag}`, '--server', api.url, '--token', 'mf_wrong');
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('refused the API token (401)');
    expect((await cli('events', 'explain')).code).toBe(2);
  });
});
