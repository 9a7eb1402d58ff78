/**
 * Threat: a target outage destroys events. A target whose author set no retry policy is
 * written with the default one (the studio states it in the task; the helper's pipeline does
 * the same) and retried (exponential backoff with jitter, over more than a day:
 * test/unit/events/delivery.test.ts holds the schedule) instead of being dead-lettered within
 * seconds, and the studio shows the waiting delivery as retrying, not failed. A target's own
 * policy takes over where it has one.
 */
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { listDeadLetters } from '@/runtime/events/dead-letters';
import { getEvent } from '@/server/services/events';
import { listRuns } from '@/server/services/runs';
import { waitFor } from '@/test/helpers/databases';
import { deploy, pipeline, post, startSink, startWorker, structured, undeployAll, type Sink, type Worker } from '@/test/integration/events/helpers';

describe('delivery through a target outage', () => {
  let pool: pg.Pool;
  let worker: Worker;
  let sink: Sink;
  let flowDefault: string;
  /** Each path fails its first `failures[path]` requests (per event), then recovers. */
  const failures: Record<string, number> = { '/default': 4, '/short': 8 };
  const attemptsOf = (path: string, id: string) => sink.received.filter((r) => r.url === path && r.headers['ce-id'] === id);

  beforeAll(async () => {
    pool = new pg.Pool({ connectionString: inject('databaseUrl') });
    sink = await startSink();
    sink.respond = (r) => (attemptsOf(r.url, String(r.headers['ce-id'])).length < (failures[r.url] ?? 0) ? 503 : 200);
    ({ flowId: flowDefault } = await deploy(pool, pipeline({ name: 'outage-default', url: `${sink.url}/default` })));
    await deploy(
      pool,
      pipeline({ name: 'outage-short', url: `${sink.url}/short`, delivery: { retry: 20, backoffPolicy: 'exponential', backoffDelay: 'PT0.05S', maxBackoff: 'PT0.2S' } }),
    );
    worker = await startWorker(inject('databaseUrl'));
  });

  afterAll(async () => {
    await worker?.running.stop();
    await sink?.close();
    await undeployAll(pool);
    await pool?.end();
  });

  it('retries a target that is down past the old three retries under the default policy, shown as retrying, then delivers', async () => {
    const id = randomUUID();
    expect((await post(worker.base, '/events', structured({ id, source: '/outage', type: 'com.example.outage-default' }))).status).toBe(202);
    // While the target is down (about 15 s of backoff) the studio says retrying, on the event and in the runs list.
    const { rows } = await pool.query<{ seq: string }>('SELECT seq::text FROM event WHERE id = $1', [id]);
    const retrying = await waitFor(async () => {
      const d = (await getEvent(pool, rows[0]!.seq)).deliveries.find((x) => x.kind === 'retrying');
      return d;
    }, 20_000, 'the delivery shown as retrying');
    expect(retrying.detail).toContain('HTTP 503');
    expect(attemptsOf('/default', id).some((r) => r.status === 200)).toBe(false);
    const runs = (await listRuns(pool, { flowId: flowDefault })).items;
    expect(runs.map((r) => r.status)).toEqual(['retrying']);
    expect((await listRuns(pool, { flowId: flowDefault, status: 'faulted' })).items).toEqual([]);

    await waitFor(async () => (attemptsOf('/default', id).some((r) => r.status === 200) ? true : undefined), 45_000, 'the delivery after the outage');
    expect(attemptsOf('/default', id).map((r) => r.status)).toEqual([503, 503, 503, 503, 200]);
    expect((await listDeadLetters(pool, {})).filter((l) => l.eventId === id)).toEqual([]);
    await waitFor(async () => ((await listRuns(pool, { flowId: flowDefault })).items[0]?.status === 'completed' ? true : undefined), 10_000, 'the run listed as completed');
  }, 90_000);

  it('follows a target’s own short-backoff policy through a longer run of failures', async () => {
    const id = randomUUID();
    expect((await post(worker.base, '/events', structured({ id, source: '/outage', type: 'com.example.outage-short' }))).status).toBe(202);
    await waitFor(async () => (attemptsOf('/short', id).some((r) => r.status === 200) ? true : undefined), 30_000, 'the delivery after the outage');
    expect(attemptsOf('/short', id)).toHaveLength(9);
    expect((await listDeadLetters(pool, {})).filter((l) => l.eventId === id)).toEqual([]);
  });
});
