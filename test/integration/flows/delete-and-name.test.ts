/**
 * Deleting a flow against a real worker: the confirmation's facts (live version, webhook URL,
 * sources, history), then undeploy-and-delete — the webhook stops answering, versions and
 * runs go, waiting dead letters are discarded on record, events stay in the log. And the
 * compiled document is named after the flow's title, including flows saved before that was so.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { PrismaClient } from '@/prisma/generated/client';
import type { FlowGraph } from '@/runtime/nodes/types';
import { createDb } from '@/server/db';
import { createCaller } from '@/server/routers/root';
import { getEvent } from '@/server/services/events';
import type { Context } from '@/server/trpc';
import { waitFor } from '@/test/helpers/databases';
import { post, startSink, startWorker, structured, waitForHook, type Sink, type Worker } from '@/test/integration/events/helpers';

const tag = randomUUID().slice(0, 8);
let db: PrismaClient;
let pool: pg.Pool;
let sink: Sink;
let worker: Worker;
let api: ReturnType<typeof createCaller>;

function hooked(path: string, url: string): FlowGraph {
  return {
    document: { namespace: 'test', name: 'flow', version: '0.1.0' },
    nodes: [
      { id: 'hook', kind: 'http-webhook', label: 'Shop orders', position: { x: 0, y: 0 }, config: { path, mode: 'cloudevents', eventType: `com.example.del.${tag}` } },
      { id: 'deliver', kind: 'http-request', position: { x: 250, y: 0 }, config: { method: 'post', url, body: '.' } },
    ],
    edges: [{ id: 'e', source: 'hook', target: 'deliver' }],
  };
}

beforeAll(async () => {
  process.env.DATABASE_URL = inject('databaseUrl');
  process.env.MESHFLOW_AUTH_SECRET ??= randomBytes(32).toString('hex');
  process.env.MESHFLOW_SECRET_KEY ??= randomBytes(32).toString('base64');
  process.env.MESHFLOW_WORKER_PUBLIC_URL = 'https://hooks.example.com/';
  db = createDb(inject('databaseUrl'));
  pool = new pg.Pool({ connectionString: inject('databaseUrl') });
  const ctx: Context = { db, user: { id: 'editor-1', name: 'Ed', email: 'ed@example.com', role: 'editor' }, workerUrl: 'http://127.0.0.1:1', secretKey: randomBytes(32) };
  api = createCaller(ctx);
  sink = await startSink();
  worker = await startWorker(inject('databaseUrl'));
});

afterAll(async () => {
  await worker?.running.stop();
  await sink?.close();
  await pool?.end();
  await db?.$disconnect();
});

describe('deleting a flow', () => {
  it('names what stops, then undeploys and deletes: the webhook goes, history goes, events stay', async () => {
    const path = `del-${tag}`;
    const created = await api.flows.create({ name: `Shop orders ${tag}`, graph: hooked(path, `${sink.url}/orders`) });
    if (!created.ok) throw new Error(JSON.stringify(created.diagnostics));
    const flowId = created.flowId;
    await api.flows.deploy({ flowId });
    await waitForHook(worker.base, path);
    const eventId = `order-${tag}`;
    await post(worker.base, `/hooks/${path}`, structured({ id: eventId, source: '/shop', type: `com.example.del.${tag}`, data: { n: 1 } }));
    await waitFor(async () => (sink.received.some((r) => r.headers['ce-id'] === eventId) ? true : undefined), 15_000, 'the delivered event');
    const { rows } = await pool.query<{ seq: string; versionId: string; deploymentId: string }>(
      `SELECT e.seq::text AS seq, v.id AS "versionId", d.id AS "deploymentId"
         FROM event e, flow_version v JOIN deployment d ON d."flowVersionId" = v.id WHERE e.id = $1 AND v."flowId" = $2`,
      [eventId, flowId],
    );
    const { seq, versionId, deploymentId } = rows[0]!;
    // A run of this flow and a dead letter waiting for a decision.
    await pool.query(`INSERT INTO run (id, "flowId", "flowVersionId", "deploymentId", "eventSeq", status) VALUES ($1, $2, $3, $4, $5, 'completed')`, [randomUUID(), flowId, versionId, deploymentId, seq]);
    const letterId = randomUUID();
    await pool.query(`INSERT INTO dead_letter (id, "eventSeq", "flowId", "deploymentId", target, reason, attempts) VALUES ($1, $2, $3, $4, 'x', 'HTTP 503', 3)`, [letterId, seq, flowId, deploymentId]);

    expect(await api.flows.deletion({ flowId })).toEqual({
      name: `Shop orders ${tag}`,
      deployedVersion: 1,
      webhooks: [`https://hooks.example.com/hooks/${path}`],
      sources: [{ kind: 'http-webhook', title: expect.any(String), label: 'Shop orders' }],
      versions: 1,
      runs: 1,
      pendingDeadLetters: 1,
    });

    expect(await api.flows.delete({ flowId })).toEqual({ name: `Shop orders ${tag}`, stoppedDeployment: true });
    await waitFor(async () => {
      const res = await fetch(`${worker.base}/hooks/${path}`, { method: 'POST', headers: { 'content-type': 'application/x-probe' }, body: '' });
      await res.arrayBuffer();
      return res.status === 404 ? true : undefined;
    }, 15_000, 'the webhook to stop answering');
    expect((await api.flows.list()).some((f) => f.id === flowId)).toBe(false);
    await expect(api.flows.get({ flowId })).rejects.toThrow(/no flow with id/);
    expect((await pool.query(`SELECT count(*)::int AS n FROM run WHERE "flowId" = $1`, [flowId])).rows[0].n).toBe(0);
    expect((await pool.query(`SELECT count(*)::int AS n FROM deployment WHERE "flowId" = $1`, [flowId])).rows[0].n).toBe(0);
    const letter = (await pool.query(`SELECT "discardedAt", "discardReason" FROM dead_letter WHERE id = $1`, [letterId])).rows[0];
    expect(letter.discardedAt).not.toBeNull();
    expect(letter.discardReason).toBe(`flow “Shop orders ${tag}” was deleted`);
    // The event is still in the log, its delivery outcome kept without a flow to name.
    const event = await getEvent(pool, seq);
    expect(event.event.id).toBe(eventId);
    await expect(api.flows.delete({ flowId })).rejects.toThrow(/no flow with id .*deleted already/);
  });

  it('deletes a flow that was never deployed', async () => {
    const created = await api.flows.create({ name: `Draft ${tag}`, graph: hooked(`draft-${tag}`, `${sink.url}/draft`) });
    if (!created.ok) throw new Error('setup');
    expect(await api.flows.deletion({ flowId: created.flowId })).toMatchObject({ deployedVersion: null, webhooks: [], runs: 0 });
    expect(await api.flows.delete({ flowId: created.flowId })).toEqual({ name: `Draft ${tag}`, stoppedDeployment: false });
  });
});

describe('document names', () => {
  it('names the compiled document after the flow title on save, in the YAML and the stored graph', async () => {
    const created = await api.flows.create({ name: `Orders → Billing ${tag}`, graph: hooked(`name-${tag}`, `${sink.url}/n`) });
    if (!created.ok) throw new Error('setup');
    expect(created.yaml).toContain(`name: orders-billing-${tag}`);
    const v1 = await api.flows.version({ flowId: created.flowId, version: 1 });
    expect(v1.graph.document.name).toBe(`orders-billing-${tag}`);
    const preview = await api.flows.compile({ graph: hooked(`name-${tag}`, `${sink.url}/n`), name: 'Renamed flow' });
    expect(preview.yaml).toContain('name: renamed-flow');
  });

  it('gives a flow saved under the old name `flow` its own name when it is next deployed', async () => {
    const flowId = randomUUID();
    const graph = hooked(`old-${tag}`, `${sink.url}/old`);
    await pool.query(`INSERT INTO flow (id, name, "updatedAt") VALUES ($1, $2, now())`, [flowId, `Legacy ${tag}`]);
    await pool.query(`INSERT INTO flow_version (id, "flowId", version, graph, "dslYaml") VALUES ($1, $2, 1, $3, 'document:\n  name: flow\n')`, [randomUUID(), flowId, JSON.stringify(graph)]);
    const deployed = await api.flows.deploy({ flowId });
    expect(deployed.version).toBe(2);
    const v2 = await api.flows.version({ flowId, version: 2 });
    expect(v2.yaml).toContain(`name: legacy-${tag}`);
    expect(v2.note).toBe(`named after the flow: legacy-${tag}`);
    // Deployed again, it is named already: no further version.
    expect((await api.flows.deploy({ flowId })).version).toBe(2);
    await api.flows.delete({ flowId });
  });
});
