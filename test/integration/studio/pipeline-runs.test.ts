/**
 * Flows the data plane routes without the engine still show on the Runs page: one entry per
 * event and deployment, completed when delivered and faulted when dead-lettered.
 */
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { listRuns } from '@/server/services/runs';
import { waitFor } from '@/test/helpers/databases';
import { deploy, pipeline, post, startSink, startWorker, structured, undeployAll, type Sink, type Worker } from '@/test/integration/events/helpers';

describe('pipeline executions on the Runs page', () => {
  let pool: pg.Pool;
  let sink: Sink;
  let worker: Worker;
  const tag = randomUUID().slice(0, 8);

  beforeAll(async () => {
    pool = new pg.Pool({ connectionString: inject('databaseUrl') });
    sink = await startSink();
    sink.respond = (request) => (request.url.startsWith('/broken') ? 400 : 200);
    await deploy(pool, pipeline({ name: `ok-${tag}`, url: `${sink.url}/ok` }));
    await deploy(pool, pipeline({ name: `broken-${tag}`, url: `${sink.url}/broken`, delivery: { retry: 0 } }));
    worker = await startWorker(inject('databaseUrl'));
  });
  afterAll(async () => {
    await worker?.running.stop();
    await undeployAll(pool);
    await sink?.close();
    await pool.end();
  });

  it('lists a delivered event as a completed run and a dead-lettered one as faulted, found by event id', async () => {
    const good = randomUUID();
    const bad = randomUUID();
    expect((await post(worker.base, '/events', structured({ id: good, source: '/runs-page', type: `com.example.ok-${tag}` }))).status).toBe(202);
    expect((await post(worker.base, '/events', structured({ id: bad, source: '/runs-page', type: `com.example.broken-${tag}` }))).status).toBe(202);

    const delivered = await waitFor(async () => (await listRuns(pool, { search: good })).items[0], 15_000, 'the delivered event on the Runs page');
    expect(delivered).toMatchObject({ kind: 'pipeline', status: 'completed', eventId: good, flowName: expect.any(String) });
    expect(delivered.eventSeq).toMatch(/^\d+$/);

    const failed = await waitFor(async () => (await listRuns(pool, { search: bad })).items[0], 15_000, 'the dead-lettered event on the Runs page');
    expect(failed).toMatchObject({ kind: 'pipeline', status: 'faulted', eventId: bad });
    expect((await listRuns(pool, { search: bad, status: 'faulted' })).items.map((r) => r.eventId)).toEqual([bad]);
    expect((await listRuns(pool, { search: good, status: 'faulted' })).items).toEqual([]);
  });
});
