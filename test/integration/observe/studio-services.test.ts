/**
 * The studio's observe-and-operate services against a real worker: run search and re-runs,
 * an event's deliveries, the live tail with resume, dead-letter replay keeping the event id,
 * and the overview's figures.
 */
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { discard, listDeadLettersForStudio, replay } from '@/server/services/dead-letters';
import { getEvent, tailEvents } from '@/server/services/events';
import { lastHour, workerFigures } from '@/server/services/overview';
import { controlRun, getRun, listRuns, rerunWithEditedEvent, rerunWithSameEvent } from '@/server/services/runs';
import { waitFor } from '@/test/helpers/databases';
import { deploy, pipeline, post, startSink, startWorker, structured, type Sink, type Worker } from '@/test/integration/events/helpers';

function workflow(name: string, type: string, tasks: Record<string, unknown>[]) {
  return { document: { dsl: '1.0.0', namespace: 'test', name, version: '0.1.0' }, schedule: { on: { one: { with: { type } } } }, do: tasks };
}

describe('observe services', () => {
  let pool: pg.Pool;
  let worker: Worker;
  let sink: Sink;
  let failingFlow: string;
  const tag = randomUUID().slice(0, 8);
  const runType = `com.example.observe.run.${tag}`;
  const pipeType = `com.example.observe.pipe.${tag}`;
  const at = (path: string) => sink.received.filter((r) => r.url === path);

  beforeAll(async () => {
    pool = new pg.Pool({ connectionString: inject('databaseUrl') });
    sink = await startSink();
    sink.respond = (r) => (r.url === '/broken' ? 500 : 200);
    failingFlow = (
      await deploy(
        pool,
        workflow('observe-failing', runType, [
          { first: { set: { order: '${ .data.order }' } } },
          { pause: { wait: 'PT0.01S' } },
          { second: { call: 'http', with: { method: 'post', endpoint: `${sink.url}/broken`, body: { order: '${ .order }' } } } },
        ]),
      )
    ).flowId;
    await deploy(pool, pipeline({ name: 'observe-pipe', with: { type: pipeType }, url: `${sink.url}/pipe`, delivery: { retry: 0 } }));
    worker = await startWorker(inject('databaseUrl'), { MESHFLOW_RUN_POLL_MS: '50' });
  });

  afterAll(async () => {
    await worker?.running.stop();
    await sink?.close();
    await pool?.query(`UPDATE deployment SET status = 'stopped' WHERE status <> 'stopped'`);
    await pool?.end();
  });

  it('finds a failed run by its event id or payload text, with the failing task’s error and input', async () => {
    const eventId = `order-${tag}`;
    expect((await post(worker.base, '/events', structured({ id: eventId, source: '/shop', type: runType, data: { order: `needle-${tag}` } }))).status).toBe(202);
    const [found] = await waitFor(async () => {
      const runs = (await listRuns(pool, { search: eventId })).items;
      return runs[0]?.status === 'faulted' ? runs : undefined;
    }, 15_000, 'the faulted run');
    expect(found!.eventId).toBe(eventId);
    expect((await listRuns(pool, { search: `NEEDLE-${tag}` })).items.map((r) => r.id)).toEqual([found!.id]);
    expect((await listRuns(pool, { search: eventId, status: 'completed' })).items).toEqual([]);
    expect((await listRuns(pool, { flowId: failingFlow, version: 1 })).items.map((r) => r.id)).toContain(found!.id);

    const run = await getRun(pool, found!.id);
    expect(run.event?.id).toBe(eventId);
    const second = run.steps.find((s) => s.taskName === 'second');
    expect(second?.status).toBe('faulted');
    expect(JSON.stringify(second?.error)).toContain('500');
    expect(second?.input).toEqual({ order: `needle-${tag}` });
    expect(run.steps.find((s) => s.taskName === 'first')?.status).toBe('completed');

    await expect(controlRun(pool, found!.id, 'suspend')).rejects.toThrow(/is faulted/);
  });

  it('re-runs a run with its own event and with an edited one', async () => {
    const eventId = `rerun-${tag}`;
    await post(worker.base, '/events', structured({ id: eventId, source: '/shop', type: runType, data: { order: 'a' } }));
    const [first] = await waitFor(async () => {
      const runs = (await listRuns(pool, { search: eventId })).items;
      return runs[0]?.status === 'faulted' ? runs : undefined;
    }, 15_000, 'the first run');
    await rerunWithSameEvent(pool, first!.id);
    await waitFor(async () => ((await listRuns(pool, { search: eventId })).items.filter((r) => r.status === 'faulted').length === 2 ? true : undefined), 15_000, 'the re-run');

    const { eventId: editedId } = await rerunWithEditedEvent(pool, first!.id, { source: '/shop', type: runType, data: { order: 'edited' } });
    expect(editedId).not.toBe(eventId);
    await waitFor(async () => ((await listRuns(pool, { search: editedId })).items[0]?.status === 'faulted' ? true : undefined), 15_000, 'the edited re-run');
    await waitFor(async () => (at('/broken').some((r) => r.body.includes('edited')) ? true : undefined), 5_000, 'the edited payload at the target');
    await expect(rerunWithEditedEvent(pool, first!.id, { source: 'not a uri', type: runType })).rejects.toThrow(/source must be a URI-reference/);
  });

  it('shows an event’s matched subscription and its delivery outcome', async () => {
    await post(worker.base, '/events', structured({ id: `pipe-ok-${tag}`, source: '/shop', type: pipeType, data: {} }));
    await waitFor(async () => (at('/pipe').length > 0 ? true : undefined), 10_000, 'the pipeline delivery');
    const { rows } = await pool.query<{ seq: string }>(`SELECT seq::text FROM event WHERE id = $1`, [`pipe-ok-${tag}`]);
    const detail = await waitFor(async () => {
      const d = await getEvent(pool, rows[0]!.seq);
      return d.deliveries.some((x) => x.kind === 'delivered') ? d : undefined;
    }, 5_000, 'the delivered outcome');
    expect(detail.subscriptions.map((s) => s.flowName)).toEqual(['test-' + detail.subscriptions[0]!.flowId!.slice(0, 8)]);
    expect(detail.event.type).toBe(pipeType);
  });

  it('tails new events matching a filter, and resumes after the last one seen', async () => {
    const abort = new AbortController();
    const tail = tailEvents(pool, { type: `com.example.tail.${tag}` }, abort.signal);
    await post(worker.base, '/events', structured({ id: 'tail-1', source: '/tail', type: `com.example.tail.${tag}` }));
    await post(worker.base, '/events', structured({ id: 'other', source: '/tail', type: `com.example.other.${tag}` }));
    await post(worker.base, '/events', structured({ id: 'tail-2', source: '/tail', type: `com.example.tail.${tag}.x` }));
    const first = (await tail.next()).value!;
    const second = (await tail.next()).value!;
    expect([first.id, second.id]).toEqual(['tail-1', 'tail-2']);
    abort.abort();
    await tail.return(undefined);

    await post(worker.base, '/events', structured({ id: 'tail-3', source: '/tail', type: `com.example.tail.${tag}` }));
    const resumed = tailEvents(pool, { type: `com.example.tail.${tag}`, lastEventId: first.seq }, undefined);
    expect((await resumed.next()).value!.id).toBe('tail-2');
    expect((await resumed.next()).value!.id).toBe('tail-3');
    await resumed.return(undefined);
  });

  it('replays dead letters with the original event id once the target is fixed, and discards with a reason', async () => {
    sink.respond = (r) => (r.url === '/pipe' ? 503 : r.url === '/broken' ? 500 : 200);
    await post(worker.base, '/events', structured({ id: `dead-1-${tag}`, source: '/shop', type: pipeType, data: {} }));
    await post(worker.base, '/events', structured({ id: `dead-2-${tag}`, source: '/shop', type: pipeType, data: {} }));
    const letters = await waitFor(async () => {
      const l = (await listDeadLettersForStudio(pool, {})).items.filter((x) => x.eventId.endsWith(tag) && x.eventId.startsWith('dead-'));
      return l.length === 2 ? l : undefined;
    }, 10_000, 'two dead letters');
    expect(letters[0]!.flowName).toMatch(/^test-/);
    expect(letters[0]!.reason).toContain('503');
    sink.respond = () => 200;
    const toReplay = letters.find((l) => l.eventId === `dead-1-${tag}`)!;
    const toDiscard = letters.find((l) => l.eventId === `dead-2-${tag}`)!;
    expect(await replay(pool, { ids: [toReplay.id] })).toMatchObject({ replayed: 1, destinations: [{ flowName: letters[0]!.flowName, version: 1, count: 1 }] });
    await waitFor(async () => (at('/pipe').some((r) => r.headers['ce-id'] === `dead-1-${tag}` && r.status === 200) ? true : undefined), 10_000, 'the replayed event');
    await expect(replay(pool, { ids: [toReplay.id] })).rejects.toThrow(/nothing was replayed: it was replayed already/);
    expect(await discard(pool, { ids: [toDiscard.id], reason: 'test order' })).toEqual({ discarded: 1 });
    const left = (await listDeadLettersForStudio(pool, { all: true })).items.find((l) => l.id === toDiscard.id);
    expect(left?.replayedAt).toBeNull();
    expect((await listDeadLettersForStudio(pool, {})).items.some((l) => l.id === toDiscard.id)).toBe(false);
  });

  it('reports the last hour and the worker’s figures', async () => {
    const hour = await lastHour(pool);
    expect(hour.points).toHaveLength(60);
    expect(hour.points.reduce((n, p) => n + p.eventsIn, 0)).toBeGreaterThan(5);
    expect(hour.points.reduce((n, p) => n + p.delivered, 0)).toBeGreaterThan(0);
    expect(hour.points.reduce((n, p) => n + p.failures, 0)).toBeGreaterThan(0);
    const figures = await workerFigures(worker.base);
    expect(figures.up).toBe(true);
    expect(figures.figures?.eventsIn).toBeGreaterThan(5);
    expect(figures.figures?.deadLettered).toBeGreaterThanOrEqual(2);
  });
});
