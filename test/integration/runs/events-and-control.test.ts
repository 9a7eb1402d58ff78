/**
 * Workflow runs and the event log: `emit` puts an event on the mesh that starts another
 * flow's run (through its leading `listen`), a `listen` mid-workflow hears an event posted
 * later; and the run controls (suspend, resume, cancel) work on a running worker.
 */
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { cancelRun, resumeRun, suspendRun } from '@/runtime/runs/control';
import { waitFor } from '@/test/helpers/databases';
import { deploy, post, startSink, startWorker, structured, undeployAll, type Sink, type Worker } from '@/test/integration/events/helpers';

const header = (name: string) => ({ dsl: '1.0.0', namespace: 'test', name, version: '0.1.0' });

describe('workflow runs with events and controls', () => {
  let pool: pg.Pool;
  let sink: Sink;
  let worker: Worker;
  const tag = randomUUID().slice(0, 8);
  const type = (name: string) => `com.example.${name}.${tag}`;
  const status = async (runId: string) => (await pool.query<{ status: string; leaseOwner: string | null }>(`SELECT status, "leaseOwner" FROM run WHERE id = $1`, [runId])).rows[0];
  const runFor = (eventId: string) =>
    waitFor(async () => (await pool.query<{ id: string }>(`SELECT r.id FROM run r JOIN event e ON e.seq = r."eventSeq" WHERE e.id = $1`, [eventId])).rows[0]?.id, 10_000, `a run of ${eventId}`);
  const until = (runId: string, wanted: string) => waitFor(async () => ((await status(runId))?.status === wanted ? true : undefined), 15_000, `run ${runId} ${wanted}: ${worker.running.output()}`);
  const send = (t: string, data: unknown) => post(worker.base, '/events', structured({ id: randomUUID(), source: '/runs', type: t, data }));

  beforeAll(async () => {
    pool = new pg.Pool({ connectionString: inject('databaseUrl') });
    sink = await startSink();
    await deploy(pool, {
      document: header('emitter'),
      schedule: { on: { one: { with: { type: type('order') } } } },
      do: [{ announce: { emit: { event: { with: { source: '/emitter', type: type('announced'), data: { order: '${ .data.order }' } } } } } }],
    });
    await deploy(pool, {
      document: header('listener'),
      do: [
        { hear: { listen: { to: { one: { with: { type: type('announced') } } } } } },
        // A wait makes this a workflow; without it the data plane would route it as a pipeline.
        { settle: { wait: 'PT0.1S' } },
        { tell: { call: 'http', with: { method: 'post', endpoint: `${sink.url}/announced`, body: '${ .[0] }' } } },
      ],
    });
    await deploy(pool, {
      document: header('conversation'),
      schedule: { on: { one: { with: { type: type('question') } } } },
      do: [
        { ask: { call: 'http', with: { method: 'post', endpoint: `${sink.url}/asked`, body: '${ .data }' } } },
        { hear: { listen: { to: { one: { with: { type: type('answer') } } } } } },
        { reply: { call: 'http', with: { method: 'post', endpoint: `${sink.url}/replied`, body: '${ .[0] }' } } },
      ],
    });
    await deploy(pool, {
      document: header('pausing'),
      schedule: { on: { one: { with: { type: type('pause') } } } },
      do: [{ pause: { wait: 'PT1S' } }, { done: { call: 'http', with: { method: 'post', endpoint: `${sink.url}/paused`, body: '${ .data }' } } }],
    });
    await deploy(pool, {
      document: header('parked'),
      schedule: { on: { one: { with: { type: type('long') } } } },
      do: [{ pause: { wait: 'PT1H' } }, { done: { call: 'http', with: { method: 'post', endpoint: `${sink.url}/long`, body: '${ .data }' } } }],
    });
    worker = await startWorker(inject('databaseUrl'), { MESHFLOW_RUN_POLL_MS: '50', MESHFLOW_RUN_LEASE_MS: '900', MESHFLOW_RUN_PARK_AFTER_MS: '10000' });
  });

  afterAll(async () => {
    await worker?.running.stop();
    await sink?.close();
    await undeployAll(pool);
    await pool.end();
  });

  it('an emitted event starts the flow whose leading listen it matches, which receives it', async () => {
    expect((await send(type('order'), { order: 42 })).status).toBe(202);
    await waitFor(async () => sink.received.find((r) => r.url === '/announced'), 15_000, `the listener's call: ${worker.running.output()}`);
    expect(JSON.parse(sink.received.find((r) => r.url === '/announced')!.body)).toEqual({ order: 42 });
  });

  it('a listen mid-workflow receives an event posted after it began, and the steps record it', async () => {
    const question = randomUUID();
    await post(worker.base, '/events', structured({ id: question, source: '/runs', type: type('question'), data: { q: 'ready?' } }));
    const runId = await runFor(question);
    await until(runId, 'waiting');
    expect(sink.received.filter((r) => r.url === '/replied')).toHaveLength(0);
    await send(type('answer'), { a: 'yes' });
    await until(runId, 'completed');
    expect(JSON.parse(sink.received.find((r) => r.url === '/replied')!.body)).toEqual({ a: 'yes' });
    const steps = await pool.query<{ taskName: string; status: string; output: unknown; input: unknown }>(`SELECT "taskName", status, input, output FROM run_step WHERE "runId" = $1 ORDER BY "startedAt"`, [runId]);
    expect(steps.rows.map((s) => `${s.taskName}:${s.status}`)).toEqual(['ask:completed', 'hear:completed', 'reply:completed']);
    expect(steps.rows[1]!.output).toEqual([{ a: 'yes' }]);
  });

  it('suspends a running run, which does not progress until resumed', async () => {
    const id = randomUUID();
    await post(worker.base, '/events', structured({ id, source: '/runs', type: type('pause'), data: { id } }));
    const runId = await runFor(id);
    await until(runId, 'waiting');
    expect(await suspendRun(pool, runId)).toEqual({ ok: true, status: 'suspended' });
    // The worker lets go of it at its next heartbeat.
    await waitFor(async () => ((await status(runId))?.leaseOwner === null ? true : undefined), 5_000, 'the suspended run released');
    await new Promise((r) => setTimeout(r, 1500));
    expect((await status(runId))?.status).toBe('suspended');
    expect(sink.received.filter((r) => r.url === '/paused')).toHaveLength(0);
    expect(await resumeRun(pool, runId)).toEqual({ ok: true, status: 'running' });
    await until(runId, 'completed');
    expect(sink.received.filter((r) => r.url === '/paused')).toHaveLength(1);
    expect((await resumeRun(pool, runId)).ok).toBe(false);
  });

  it('cancels a parked run; it never runs its next task', async () => {
    const id = randomUUID();
    await post(worker.base, '/events', structured({ id, source: '/runs', type: type('long'), data: { id } }));
    const runId = await runFor(id);
    await waitFor(async () => {
      const s = await status(runId);
      return s?.status === 'waiting' && s.leaseOwner === null ? true : undefined;
    }, 10_000, 'the hour-long wait parked');
    expect(await cancelRun(pool, runId)).toEqual({ ok: true, status: 'cancelled' });
    const row = (await pool.query<{ endedAt: Date | null; state: { status: string } }>(`SELECT "endedAt", state FROM run WHERE id = $1`, [runId])).rows[0]!;
    expect(row.endedAt).not.toBeNull();
    expect(row.state.status).toBe('cancelled');
    expect(await cancelRun(pool, runId)).toMatchObject({ ok: false, status: 'cancelled' });
    expect(sink.received.filter((r) => r.url === '/long')).toHaveLength(0);
  });
});
