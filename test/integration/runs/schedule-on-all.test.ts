/**
 * `schedule.on.all`: a run starts once one event of each listed kind has arrived, with those
 * events as its input; events short of a set wait (durably, as queued rows) for the rest.
 * Two workers gather under one lock per deployment, so a set starts exactly one run.
 */
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { waitFor } from '@/test/helpers/databases';
import { deploy, post, startWorker, structured, undeployAll, type Worker } from '@/test/integration/events/helpers';

describe('schedule.on.all', () => {
  let pool: pg.Pool;
  const workers: Worker[] = [];
  let deploymentId: string;
  const tag = randomUUID().slice(0, 8);
  const type = (name: string) => `com.example.${name}.${tag}`;

  const runs = async () =>
    (
      await pool.query<{ status: string; input: Array<{ type: string; id: string }>; output: unknown }>(
        `SELECT status, input, output FROM run WHERE "deploymentId" = $1 ORDER BY "startedAt", id`,
        [deploymentId],
      )
    ).rows;
  const send = (worker: Worker, t: string, id = randomUUID()) =>
    post(worker.base, '/events', structured({ id, source: '/all', type: t, data: { id } })).then((r) => {
      expect(r.status).toBe(202);
      return id;
    });

  beforeAll(async () => {
    pool = new pg.Pool({ connectionString: inject('databaseUrl') });
    ({ deploymentId } = await deploy(pool, {
      document: { dsl: '1.0.0', namespace: 'test', name: `all-${tag}`, version: '0.1.0' },
      schedule: { on: { all: [{ with: { type: type('paid') } }, { with: { type: type('packed') } }] } },
      do: [{ pair: { set: { types: '${ [.[].type] }', ids: '${ [.[].data.id] }' } } }],
    }));
    const env = { MESHFLOW_RUN_POLL_MS: '50' };
    workers.push(await startWorker(inject('databaseUrl'), env), await startWorker(inject('databaseUrl'), env));
  });

  afterAll(async () => {
    await Promise.all(workers.map((w) => w.running.stop()));
    await undeployAll(pool);
    await pool.end();
  });

  it('starts one run per complete set, with the events in the order the filters list them', async () => {
    const [a, b] = workers as [Worker, Worker];
    const packed = await send(a, type('packed'));
    await new Promise((r) => setTimeout(r, 600));
    expect(await runs()).toEqual([]);

    const paid = await send(b, type('paid'));
    const first = await waitFor(async () => ((await runs())[0]?.status === 'completed' ? (await runs())[0] : undefined), 15_000, 'the first run');
    expect(first!.output).toEqual({ types: [type('paid'), type('packed')], ids: [paid, packed] });

    // Two more payments and one packing: one set completes, one payment keeps waiting.
    const paid2 = await send(a, type('paid'));
    await send(b, type('paid'));
    const packed2 = await send(a, type('packed'));
    await waitFor(async () => ((await runs()).filter((r) => r.status === 'completed').length === 2 ? true : undefined), 15_000, 'the second run');
    await new Promise((r) => setTimeout(r, 600));
    const all = await runs();
    expect(all).toHaveLength(2);
    expect(all[1]!.output).toEqual({ types: [type('paid'), type('packed')], ids: [paid2, packed2] });
    const waiting = await pool.query<{ n: number }>('SELECT count(*)::int AS n FROM delivery WHERE "deploymentId" = $1', [deploymentId]);
    expect(waiting.rows[0]!.n).toBe(1);
  });
});
