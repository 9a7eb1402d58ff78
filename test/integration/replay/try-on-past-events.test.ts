/**
 * Trying a change on real traffic, against a real worker and a loopback sink: a flow passes
 * orders over 100; orders around the threshold go through it; a dry-run replay of a candidate
 * that passes orders over 50 lists exactly the orders between 50 and 100 as added deliveries
 * and sends nothing (through the API and through `meshflow replay`); a backfill of those
 * events to the new version delivers each once, and a second backfill delivers nothing again.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { PrismaClient } from '@/prisma/generated/client';
import { main } from '@/runtime/cli/main';
import type { FlowGraph } from '@/runtime/nodes/types';
import { createDb } from '@/server/db';
import { createCaller } from '@/server/routers/root';
import { createAccount } from '@/server/services/accounts';
import { createToken } from '@/server/services/api-tokens';
import type { Context } from '@/server/trpc';
import { waitFor } from '@/test/helpers/databases';
import { serveApi, type StudioApi } from '@/test/helpers/studio-api';
import { post, startSink, startWorker, structured, type Sink, type Worker } from '@/test/integration/events/helpers';

const tag = randomUUID().slice(0, 8);
const type = `com.example.order.${tag}`;
const amounts = { a30: 30, a60: 60, a80: 80, a100: 100, a101: 101, a150: 150 } as const;
const idOf = (name: keyof typeof amounts) => `${name}-${tag}`;

let db: PrismaClient;
let pool: pg.Pool;
let sink: Sink;
let worker: Worker;
let studio: StudioApi;
let token: string;
let dir: string;
let api: ReturnType<typeof createCaller>;
let flowId: string;

function orders(threshold: number, path: string): FlowGraph {
  return {
    document: { namespace: 'test', name: `orders-${tag}`, version: '0.1.0' },
    nodes: [
      { id: 'source', kind: 'cloudevents-endpoint', position: { x: 0, y: 0 }, config: { eventType: type } },
      { id: 'big', kind: 'data-pattern', label: 'big orders', position: { x: 200, y: 0 }, config: { pattern: { data: { amount: [{ numeric: ['>', threshold] }] } } } },
      { id: 'deliver', kind: 'http-request', position: { x: 400, y: 0 }, config: { method: 'post', url: `${sink.url}${path}`, body: '.' } },
    ],
    edges: [
      { id: 'a', source: 'source', target: 'big' },
      { id: 'b', source: 'big', target: 'deliver' },
    ],
  };
}

const at = (path: string, name: keyof typeof amounts) => sink.received.filter((r) => r.url === path && JSON.parse(r.body).amount === amounts[name]);

async function cli(...argv: string[]) {
  let stdout = '';
  let stderr = '';
  const code = await main(argv, { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t) });
  return { code, stdout, stderr };
}

beforeAll(async () => {
  process.env.DATABASE_URL = inject('databaseUrl');
  process.env.MESHFLOW_AUTH_SECRET ??= randomBytes(32).toString('hex');
  process.env.MESHFLOW_SECRET_KEY ??= randomBytes(32).toString('base64');
  db = createDb(inject('databaseUrl'));
  pool = new pg.Pool({ connectionString: inject('databaseUrl') });
  const ctx: Context = { db, user: { id: 'editor-1', name: 'Ed', email: 'ed@example.com', role: 'editor' }, workerUrl: 'http://127.0.0.1:1', secretKey: randomBytes(32) };
  api = createCaller(ctx);
  sink = await startSink();
  const created = await api.flows.create({ name: `Orders ${tag}`, graph: orders(100, '/v1') });
  if (!created.ok) throw new Error(JSON.stringify(created.diagnostics));
  flowId = created.flowId;
  await api.flows.deploy({ flowId });
  worker = await startWorker(inject('databaseUrl'));
  const editor = await createAccount(db, { name: 'CLI editor', email: `replay-${tag}@example.com`, password: 'editor-password-1' }, 'editor');
  token = (await createToken(db, editor.id, { name: 'replay' })).token;
  studio = await serveApi();
  dir = await mkdtemp(join(tmpdir(), 'meshflow-replay-'));

  for (const name of Object.keys(amounts) as (keyof typeof amounts)[]) {
    expect((await post(worker.base, '/events', structured({ id: idOf(name), source: '/shop', type, data: { amount: amounts[name] } }))).status).toBe(202);
  }
  // The live version delivers the two orders over 100, and records the others as filtered.
  await waitFor(async () => (at('/v1', 'a101').length === 1 && at('/v1', 'a150').length === 1 ? true : undefined), 20_000, 'the big orders at v1');
  await waitFor(
    async () => ((await pool.query(`SELECT 1 FROM delivery d JOIN event e ON e.seq = d."eventSeq" WHERE e.type = $1`, [type])).rowCount === 0 ? true : undefined),
    20_000,
    'every delivery of the orders worked',
  );
});

afterAll(async () => {
  await worker?.running.stop();
  await sink?.close();
  await studio?.close();
  await pool?.query(`UPDATE deployment SET status = 'stopped' WHERE "flowId" = $1`, [flowId]);
  await pool?.end();
  await db?.$disconnect();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('try a change on past events', () => {
  it('a dry run of the draft lists exactly the orders between 50 and 100 as added deliveries, and sends nothing', async () => {
    const before = sink.received.length;
    const { events, summary } = await api.replay.dryRun({ flowId, candidate: { graph: orders(50, '/v2') } });
    expect(sink.received.length).toBe(before);
    const byId = new Map(events.map((e) => [e.eventId, e]));
    expect([...byId.keys()].sort()).toEqual((Object.keys(amounts) as (keyof typeof amounts)[]).map(idOf).sort());
    for (const name of ['a60', 'a80', 'a100'] as const) {
      const event = byId.get(idOf(name))!;
      expect(event.live).toEqual({ outcome: 'nothing sent', reason: 'the run ended at big without sending anything', requests: [] });
      expect(event.candidate.outcome).toBe('delivered');
      expect(event.changes).toEqual([
        { change: 'outcome', live: 'nothing sent', candidate: 'delivered', reason: 'the run ended at big without sending anything' },
        { change: 'added', node: 'deliver', request: expect.objectContaining({ method: 'POST', url: `${sink.url}/v2`, body: expect.objectContaining({ id: idOf(name), data: { amount: amounts[name] } }) }) },
      ]);
    }
    // Over 100 both deliver: the only difference is the target's path, field by field.
    expect(byId.get(idOf('a150'))!.changes).toEqual([{ change: 'changed', node: 'deliver', fields: [{ path: 'url', live: `${sink.url}/v1`, candidate: `${sink.url}/v2` }] }]);
    expect(byId.get(idOf('a30'))!.changes).toEqual([]);
    expect(summary).toMatchObject({ events: 6, added: 3, removed: 0, changedDeliveries: 2, truncated: false, live: { version: 1 }, candidate: { label: 'draft' } });
    expect(summary.retentionHours).toBe(168);
  });

  it('compares with a named version, and says what to do when nothing is live', async () => {
    const same = await api.replay.dryRun({ flowId, candidate: { version: 1 }, against: 1 });
    expect(same.summary).toMatchObject({ events: 6, changed: 0, live: { label: 'v1' }, candidate: { label: 'v1' } });
    const other = await api.flows.create({ name: `Idle ${tag}`, graph: orders(100, '/idle') });
    if (!other.ok) throw new Error(JSON.stringify(other.diagnostics));
    await expect(api.replay.dryRun({ flowId: other.flowId, candidate: { version: 1 } })).rejects.toThrow(/is not deployed, so there is no live version to compare with/);
    await expect(api.replay.dryRun({ flowId, candidate: { version: 7 } })).rejects.toThrow(/has no version 7/);
  });

  it('`meshflow replay` prints a line per event and a summary, with nothing sent', async () => {
    const file = join(dir, 'candidate.flow.json');
    await writeFile(file, JSON.stringify(orders(50, '/v1')));
    const before = sink.received.length;
    const out = await cli('replay', '--flow', flowId, '--candidate', file, '--server', studio.url, '--token', token);
    expect(out.stderr).toBe('');
    expect(out.code).toBe(0);
    expect(sink.received.length).toBe(before);
    const lines = out.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    const summary = lines.pop()!;
    expect(summary).toMatchObject({ summary: true, events: 6, added: 3, removed: 0, changedDeliveries: 0 });
    const added = lines.filter((l) => (l.changes as { change: string }[]).some((c) => c.change === 'added')).map((l) => l.eventId);
    expect(added.sort()).toEqual([idOf('a100'), idOf('a60'), idOf('a80')].sort());
    const unchanged = lines.find((l) => l.eventId === idOf('a150'))!;
    expect(unchanged.changes).toEqual([]);
    expect(unchanged.live).toMatchObject({ outcome: 'delivered', requests: [expect.objectContaining({ node: 'deliver', url: `${sink.url}/v1`, body: expect.objectContaining({ data: { amount: 150 } }) })] });

    const limited = await cli('replay', '--flow', flowId, '--candidate', file, '--limit', '2', '--server', studio.url, '--token', token);
    expect(limited.stdout.trim().split('\n')).toHaveLength(3);
    expect(JSON.parse(limited.stdout.trim().split('\n').at(-1)!)).toMatchObject({ events: 2, more: true });

    const oneProducer = await cli('replay', '--flow', flowId, '--candidate', file, '--source', '/elsewhere', '--server', studio.url, '--token', token);
    expect(JSON.parse(oneProducer.stdout.trim())).toMatchObject({ summary: true, events: 0 });

    const wrong = await cli('replay', '--flow', flowId, '--candidate', join(dir, 'missing.json'), '--server', studio.url, '--token', token);
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toContain('cannot read');
  });

  it('a backfill to the new version delivers each order over 50 once; backfilling again delivers nothing again', async () => {
    const saved = await api.flows.saveVersion({ flowId, graph: orders(50, '/v2') });
    if (!saved.ok) throw new Error(JSON.stringify(saved.diagnostics));
    await api.flows.deploy({ flowId });
    const eventIds = (Object.keys(amounts) as (keyof typeof amounts)[]).map(idOf);

    const work = async (force = false) => {
      let job = await api.replay.startBackfill({ flowId, eventIds, ratePerSecond: 100, force });
      expect(job).toMatchObject({ version: 2, total: 6 });
      while (job.status === 'running') {
        const step = await api.replay.stepBackfill({ id: job.id });
        job = step;
        if (step.waitMs > 0) await new Promise((resolve) => setTimeout(resolve, step.waitMs));
      }
      return job;
    };
    const first = await work();
    // The order of 30 does not pass the new version's filter, as it would not have at ingress.
    expect(first).toMatchObject({ status: 'done', worked: 6, queued: 5, skipped: 0, filtered: 1, percent: 100 });
    const over50 = ['a60', 'a80', 'a100', 'a101', 'a150'] as const;
    await waitFor(async () => (over50.every((n) => at('/v2', n).length === 1) ? true : undefined), 30_000, 'the backfilled orders at v2');
    await waitFor(
      async () => ((await pool.query(`SELECT 1 FROM delivery d JOIN event e ON e.seq = d."eventSeq" WHERE e.type = $1`, [type])).rowCount === 0 ? true : undefined),
      20_000,
      'every backfilled delivery worked',
    );
    expect(at('/v2', 'a30')).toEqual([]);

    // The same selection to the same version again: every event was replayed there already.
    const second = await work();
    expect(second).toMatchObject({ status: 'done', worked: 6, queued: 0, skipped: 5, filtered: 1 });
    expect((await pool.query(`SELECT 1 FROM delivery d JOIN event e ON e.seq = d."eventSeq" WHERE e.type = $1`, [type])).rowCount).toBe(0);
    expect(over50.map((n) => at('/v2', n).length)).toEqual([1, 1, 1, 1, 1]);
    // Original CloudEvent ids go with them, so a target can tell.
    expect(at('/v2', 'a60')[0]!.headers['ce-id']).toBe(idOf('a60'));
  });

  it('does not backfill to a version what it delivered when the events arrived, unless forced', async () => {
    const eventIds = (Object.keys(amounts) as (keyof typeof amounts)[]).map(idOf);
    let job = await api.replay.startBackfill({ flowId, version: 1, eventIds, ratePerSecond: 100 });
    while (job.status === 'running') {
      const step = await api.replay.stepBackfill({ id: job.id });
      job = step;
      if (step.waitMs > 0) await new Promise((resolve) => setTimeout(resolve, step.waitMs));
    }
    expect(job).toMatchObject({ version: 1, status: 'done', queued: 0, skipped: 2, filtered: 4 });
    expect((await pool.query(`SELECT 1 FROM delivery d JOIN event e ON e.seq = d."eventSeq" WHERE e.type = $1`, [type])).rowCount).toBe(0);
    await expect(api.replay.startBackfill({ flowId, version: 9, eventIds })).rejects.toThrow(/flow .* has no version 9|v9 of flow .* was never deployed/);
  });

  it('pauses, resumes and cancels a backfill, and refuses what its state does not allow', async () => {
    const job = await api.replay.startBackfill({ flowId, eventIds: [idOf('a30')], force: true });
    const paused = await api.replay.controlBackfill({ id: job.id, action: 'pause' });
    expect(paused.status).toBe('paused');
    // A paused job does no work.
    expect((await api.replay.stepBackfill({ id: job.id })).worked).toBe(0);
    await expect(api.replay.controlBackfill({ id: job.id, action: 'pause' })).rejects.toThrow(/cannot pause a backfill that is paused/);
    expect((await api.replay.controlBackfill({ id: job.id, action: 'resume' })).status).toBe('running');
    expect((await api.replay.controlBackfill({ id: job.id, action: 'cancel' })).status).toBe('cancelled');
    expect((await api.replay.backfills({ flowId }))[0]).toMatchObject({ id: job.id, status: 'cancelled', worked: 0 });
  });
});
