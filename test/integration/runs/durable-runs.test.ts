/**
 * Durable workflow runs: a worker killed with SIGKILL in the middle of a workflow — during a
 * `wait`, a retry backoff, a `listen` and a long HTTP call — leaves a run that the restarted
 * worker completes from its checkpoint, with every task that had completed run exactly once
 * (counted at a local HTTP server). A call in flight at the kill had not completed: it is
 * issued again, so calls are at-least-once and targets should drop repeats.
 */
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { waitFor } from '@/test/helpers/databases';
import { deploy, post, startSink, startWorker, structured, undeployAll, type Sink, type Worker } from '@/test/integration/events/helpers';

const LEASE_MS = 1500;

interface RunRow {
  id: string;
  status: string;
  leaseOwner: string | null;
  output: unknown;
  state: { frames?: Record<string, unknown> } | null;
}

function callTask(url: string) {
  return { call: 'http', with: { method: 'post', endpoint: url, body: { id: '${ $workflow.input.id }' } } };
}

function workflow(name: string, type: string, tasks: Record<string, unknown>[]) {
  return { document: { dsl: '1.0.0', namespace: 'test', name, version: '0.1.0' }, schedule: { on: { one: { with: { type } } } }, do: tasks };
}

describe('durable workflow runs', () => {
  let pool: pg.Pool;
  let sink: Sink;
  let worker: Worker | undefined;
  const env = (parkAfterMs: number) => ({ MESHFLOW_RUN_LEASE_MS: String(LEASE_MS), MESHFLOW_RUN_POLL_MS: '50', MESHFLOW_RUN_PARK_AFTER_MS: String(parkAfterMs) });

  const calls = (path: string, id: string) => sink.received.filter((r) => r.url === path && JSON.parse(r.body).id === id);
  const runOf = async (eventId: string): Promise<RunRow | undefined> =>
    (
      await pool.query<RunRow>(
        `SELECT r.id, r.status, r."leaseOwner", r.output, r.state FROM run r JOIN event e ON e.seq = r."eventSeq" WHERE e.id = $1`,
        [eventId],
      )
    ).rows[0];
  const completed = (eventId: string) =>
    waitFor(async () => {
      const run = await runOf(eventId);
      return run?.status === 'completed' ? run : undefined;
    }, 30_000, `run of event ${eventId} completed: ${worker?.running.output()}`);

  beforeAll(async () => {
    pool = new pg.Pool({ connectionString: inject('databaseUrl') });
    sink = await startSink();
    // The flaky endpoint fails each event's first call with 503.
    sink.respond = (request) => (request.url === '/flaky' && calls('/flaky', JSON.parse(request.body).id).length === 0 ? 503 : 200);
  });

  afterAll(async () => {
    await worker?.running.stop();
    await sink?.close();
    await undeployAll(pool);
    await pool.end();
  });

  async function killAndRestart(parkAfterMs: number): Promise<void> {
    const killed = worker!;
    killed.running.child.kill('SIGKILL');
    await killed.running.exited;
    worker = await startWorker(inject('databaseUrl'), env(parkAfterMs), killed.port);
  }

  it('a worker killed during a wait: the restarted worker finishes the wait at its original due time and runs each task once', async () => {
    const type = `com.example.runs.wait.${randomUUID().slice(0, 8)}`;
    await deploy(pool, workflow('wait', type, [{ before: callTask(`${sink.url}/before`) }, { pause: { wait: 'PT8S' } }, { after: callTask(`${sink.url}/after`) }]));
    worker = await startWorker(inject('databaseUrl'), env(60_000));
    const id = randomUUID();
    await waitFor(async () => ((await post(worker!.base, '/events', structured({ id, source: '/runs', type, data: { n: 1 } }))).status === 202 ? true : undefined), 10_000, 'the event accepted');
    await waitFor(async () => (calls('/before', id).length === 1 ? true : undefined), 10_000, 'the first task');
    // The wait is under way in the worker's memory, and checkpointed with its due time.
    const waiting = await waitFor(async () => {
      const run = await runOf(id);
      return run?.status === 'waiting' ? run : undefined;
    }, 7_000, 'the run waiting'); // within the wait's 8 s, even on a busy machine
    expect(waiting.leaseOwner).not.toBeNull();
    const before = calls('/before', id)[0]!.at;

    await killAndRestart(60_000);
    const run = await completed(id);

    expect(calls('/before', id)).toHaveLength(1);
    expect(calls('/after', id)).toHaveLength(1);
    expect(calls('/after', id)[0]!.at - before).toBeGreaterThanOrEqual(8000);
    const steps = await pool.query<{ taskName: string; status: string }>(`SELECT "taskName", status FROM run_step WHERE "runId" = $1 ORDER BY "startedAt", attempt`, [run.id]);
    expect(steps.rows.map((s) => `${s.taskName}:${s.status}`)).toEqual(['before:completed', 'pause:completed', 'after:completed']);
  });

  it('a worker killed during a retry backoff (parked in the database): the retry happens once after restart', async () => {
    await worker?.running.stop();
    const type = `com.example.runs.retry.${randomUUID().slice(0, 8)}`;
    await deploy(
      pool,
      workflow('retry', type, [
        { first: callTask(`${sink.url}/first`) },
        {
          flaky: {
            try: [{ callFlaky: callTask(`${sink.url}/flaky`) }],
            catch: { errors: { with: { status: 503 } }, retry: { delay: 'PT3S', backoff: { constant: {} }, limit: { attempt: { count: 3 } } } },
          },
        },
        { last: callTask(`${sink.url}/last`) },
      ]),
    );
    worker = await startWorker(inject('databaseUrl'), env(1000));
    const id = randomUUID();
    expect((await post(worker.base, '/events', structured({ id, source: '/runs', type, data: {} }))).status).toBe(202);
    await waitFor(async () => (calls('/flaky', id).length === 1 ? true : undefined), 10_000, 'the failing call');
    // A backoff longer than the park threshold leaves the run in the database, held by nobody.
    const parked = await waitFor(async () => {
      const run = await runOf(id);
      return run?.status === 'waiting' && run.leaseOwner === null ? run : undefined;
    }, 5_000, 'the run parked');
    expect(JSON.stringify(parked.state?.frames)).toContain('retryAt');

    await killAndRestart(1000);
    await completed(id);

    expect(calls('/first', id)).toHaveLength(1);
    expect(calls('/flaky', id).map((r) => r.status)).toEqual([503, 200]);
    expect(calls('/last', id)).toHaveLength(1);
    expect(calls('/flaky', id)[1]!.at - calls('/flaky', id)[0]!.at).toBeGreaterThanOrEqual(3000);
  });

  it('a worker killed during a listen: the restarted worker hears the event and goes on, without re-running the task before it', async () => {
    await worker?.running.stop();
    const type = `com.example.runs.listen.${randomUUID().slice(0, 8)}`;
    await deploy(
      pool,
      workflow('listen', type, [
        { before: callTask(`${sink.url}/asked`) },
        { hear: { listen: { to: { one: { with: { type: `${type}.answer` } } } } } },
        { after: { call: 'http', with: { method: 'post', endpoint: `${sink.url}/heard`, body: { id: '${ $workflow.input.id }', answer: '${ .[0].answer }' } } } },
      ]),
    );
    worker = await startWorker(inject('databaseUrl'), env(60_000));
    const id = randomUUID();
    expect((await post(worker.base, '/events', structured({ id, source: '/runs', type, data: {} }))).status).toBe(202);
    await waitFor(async () => (calls('/asked', id).length === 1 ? true : undefined), 10_000, 'the task before the listen');
    await waitFor(async () => ((await runOf(id))?.status === 'waiting' ? true : undefined), 5_000, 'the run listening');

    await killAndRestart(60_000);
    expect((await post(worker!.base, '/events', structured({ id: randomUUID(), source: '/runs', type: `${type}.answer`, data: { answer: 42 } }))).status).toBe(202);
    await completed(id);

    expect(calls('/asked', id)).toHaveLength(1);
    expect(calls('/heard', id).map((r) => JSON.parse(r.body).answer)).toEqual([42]);
  });

  it('a worker killed during a long HTTP call: the call in flight is issued again (at-least-once), the tasks around it run once', async () => {
    await worker?.running.stop();
    const type = `com.example.runs.slow.${randomUUID().slice(0, 8)}`;
    sink.delayFor = (request) => (request.url === '/slow' ? 4000 : 0);
    await deploy(pool, workflow('slow', type, [{ before: callTask(`${sink.url}/before-slow`) }, { slow: callTask(`${sink.url}/slow`) }, { after: callTask(`${sink.url}/after-slow`) }]));
    worker = await startWorker(inject('databaseUrl'), env(60_000));
    const id = randomUUID();
    expect((await post(worker.base, '/events', structured({ id, source: '/runs', type, data: {} }))).status).toBe(202);
    // The slow call has reached the target, which has not answered yet.
    await waitFor(async () => (calls('/slow', id).length === 1 ? true : undefined), 10_000, 'the slow call in flight');

    await killAndRestart(60_000);
    await completed(id);

    expect(calls('/before-slow', id)).toHaveLength(1);
    expect(calls('/slow', id)).toHaveLength(2);
    expect(calls('/after-slow', id)).toHaveLength(1);
  });
});
