/**
 * Runs the clock starts and runs started by other runs: a deployment with `schedule.every`
 * served by two workers starts one run per due time, on time, and stops when undeployed; a
 * `run: workflow` task finds its subflow by namespace, name and version — a deployed version
 * before a newer saved one, a saved one when none is deployed.
 */
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { dueTime } from '@/runtime/worker/workflows/scheduler';
import { waitFor } from '@/test/helpers/databases';
import { deploy, post, startSink, startWorker, structured, type Sink, type Worker } from '@/test/integration/events/helpers';

const header = (name: string) => ({ dsl: '1.0.0', namespace: 'test', name, version: '0.1.0' });

interface ScheduledRun {
  id: string;
  status: string;
  due: number;
  started: number;
}

describe('scheduled runs and subflows', () => {
  let pool: pg.Pool;
  let sink: Sink;
  const workers: Worker[] = [];
  const tag = randomUUID().slice(0, 8);

  const scheduledRuns = async (deploymentId: string) =>
    (
      await pool.query<ScheduledRun>(
        `SELECT id, status, (extract(epoch FROM "scheduledFor") * 1000)::float8 AS due, (extract(epoch FROM "startedAt") * 1000)::float8 AS started
           FROM run WHERE "deploymentId" = $1 ORDER BY "scheduledFor"`,
        [deploymentId],
      )
    ).rows;

  beforeAll(async () => {
    pool = new pg.Pool({ connectionString: inject('databaseUrl') });
    sink = await startSink();
    const env = { MESHFLOW_RUN_POLL_MS: '50' };
    workers.push(await startWorker(inject('databaseUrl'), env), await startWorker(inject('databaseUrl'), env));
  });

  /** The worker has loaded every active deployment (and so routes their events). */
  const allDeploymentsLoaded = async (worker: Worker) => {
    const { rows } = await pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM deployment WHERE status = 'active'`);
    const active = rows[0]!.n;
    await waitFor(
      async () => (((await (await fetch(`${worker.base}/health`)).json()) as { deployments: number }).deployments === active ? true : undefined),
      10_000,
      'the worker to load the deployments',
    );
  };

  afterAll(async () => {
    await Promise.all(workers.map((w) => w.running.stop()));
    await sink?.close();
    await pool.end();
  });

  it('two workers start exactly one run per due time of `every: PT1S`, on time, until it is undeployed', async () => {
    const path = `/tick-${tag}`;
    const { deploymentId } = await deploy(pool, {
      document: header(`ticker-${tag}`),
      schedule: { every: 'PT1S' },
      do: [{ tick: { call: 'http', with: { method: 'post', endpoint: `${sink.url}${path}`, body: { tick: true } } } }],
    });
    const runs = await waitFor(async () => {
      const all = await scheduledRuns(deploymentId);
      return all.filter((r) => r.status === 'completed').length >= 4 ? all : undefined;
    }, 20_000, `four scheduled runs completed: ${workers.map((w) => w.running.output()).join('\n')}`);

    // One run per due time, the due times one second apart, each run started soon after its due time.
    const dues = runs.map((r) => r.due);
    expect(new Set(dues).size).toBe(dues.length);
    for (let i = 1; i < dues.length; i++) expect(dues[i]! - dues[i - 1]!).toBe(1000);
    for (const run of runs) expect(run.started - run.due).toBeLessThan(1000);
    const completed = runs.filter((r) => r.status === 'completed').length;
    expect(sink.received.filter((r) => r.url === path).length).toBeGreaterThanOrEqual(completed);

    await pool.query(`UPDATE deployment SET status = 'stopped' WHERE id = $1`, [deploymentId]);
    // Give both workers time to hear of it, then no new run may start.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const atStop = (await scheduledRuns(deploymentId)).length;
    await new Promise((resolve) => setTimeout(resolve, 2500));
    expect((await scheduledRuns(deploymentId)).length).toBe(atStop);
  });

  it('`run: workflow` runs the deployed version of the subflow in preference to a newer saved one, and a saved one when none is deployed', async () => {
    const child = (name: string, says: string) => ({ document: header(name), do: [{ answer: { set: { says, doubled: '${ .n * 2 }' } } }] });
    // The deployed child, then a newer flow that only saves a definition of the same name and version.
    await deploy(pool, child(`child-${tag}`, 'deployed'));
    const savedFlow = randomUUID();
    await pool.query(`INSERT INTO flow (id, name, "updatedAt") VALUES ($1, $2, now())`, [savedFlow, `saved-${tag}`]);
    await pool.query(`INSERT INTO flow_version (id, "flowId", version, graph, "dslYaml") VALUES ($1, $2, 1, '{}', $3)`, [randomUUID(), savedFlow, stringify(child(`child-${tag}`, 'saved'))]);
    await pool.query(`INSERT INTO flow_version (id, "flowId", version, graph, "dslYaml") VALUES ($1, $2, 2, '{}', $3)`, [randomUUID(), savedFlow, stringify(child(`only-saved-${tag}`, 'saved'))]);

    const type = `com.example.parent.${tag}`;
    const worker = workers[0]!;
    await deploy(pool, {
      document: header(`parent-${tag}`),
      schedule: { on: { one: { with: { type } } } },
      do: [
        { first: { run: { workflow: { namespace: 'test', name: `child-${tag}`, version: '0.1.0', input: { n: '${ .data.n }' } } }, export: { as: '${ { first: . } }' } } },
        { second: { run: { workflow: { namespace: 'test', name: `only-saved-${tag}`, version: '0.1.0', input: { n: '${ .doubled }' } } } } },
        { report: { call: 'http', with: { method: 'post', endpoint: `${sink.url}/subflows-${tag}`, body: '${ { first: $context.first, second: . } }' } } },
      ],
    });
    // The event is routed by the worker that accepts it, once it has loaded the deployment.
    await allDeploymentsLoaded(worker);
    expect((await post(worker.base, '/events', structured({ id: randomUUID(), source: '/runs', type, data: { n: 21 } }))).status).toBe(202);
    const report = await waitFor(async () => sink.received.find((r) => r.url === `/subflows-${tag}`), 15_000, `the parent's report: ${worker.running.output()}`);
    expect(JSON.parse(report.body)).toEqual({ first: { says: 'deployed', doubled: 42 }, second: { says: 'saved', doubled: 84 } });
  });

  it('`run: workflow` with `await: false` starts the subflow as a run of its own, once, and goes on without it', async () => {
    const savedFlow = randomUUID();
    await pool.query(`INSERT INTO flow (id, name, "updatedAt") VALUES ($1, $2, now())`, [savedFlow, `detached-${tag}`]);
    await pool.query(`INSERT INTO flow_version (id, "flowId", version, graph, "dslYaml") VALUES ($1, $2, 1, '{}', $3)`, [
      randomUUID(),
      savedFlow,
      stringify({
        document: header(`notify-${tag}`),
        do: [
          { slow: { wait: 'PT0.5S' } },
          { notify: { call: 'http', with: { method: 'post', endpoint: `${sink.url}/detached-${tag}`, body: '${ . }' } } },
        ],
      }),
    ]);
    const type = `com.example.fire.${tag}`;
    const worker = workers[1]!;
    await deploy(pool, {
      document: header(`firer-${tag}`),
      schedule: { on: { one: { with: { type } } } },
      do: [
        { fire: { run: { workflow: { namespace: 'test', name: `notify-${tag}`, version: '0.1.0', input: { order: '${ .data.order }' } }, await: false } } },
        { after: { call: 'http', with: { method: 'post', endpoint: `${sink.url}/parent-${tag}`, body: { done: true } } } },
      ],
    });
    // The event is routed by the worker that accepts it, once it has loaded the deployment.
    await allDeploymentsLoaded(worker);
    expect((await post(worker.base, '/events', structured({ id: randomUUID(), source: '/runs', type, data: { order: 'o-9' } }))).status).toBe(202);
    const parentDone = await waitFor(async () => sink.received.find((r) => r.url === `/parent-${tag}`), 15_000, 'the parent going on').catch(async (error: Error) => {
      const rows = await pool.query('SELECT status, error FROM run ORDER BY "startedAt" DESC LIMIT 3');
      throw new Error(`${error.message}: ${JSON.stringify(rows.rows)}`);
    });
    const child = await waitFor(async () => sink.received.find((r) => r.url === `/detached-${tag}`), 15_000, 'the detached subflow');
    // The parent did not wait for the child's half-second pause.
    expect(parentDone.at).toBeLessThan(child.at);
    expect(JSON.parse(child.body)).toEqual({ order: 'o-9' });
    const childRuns = async () => (await pool.query<{ status: string; deploymentId: string | null }>(`SELECT status, "deploymentId" FROM run WHERE "flowId" = $1`, [savedFlow])).rows;
    // Its last call reaches the sink just before the run is recorded as completed.
    await waitFor(async () => ((await childRuns())[0]?.status === 'completed' ? true : undefined), 10_000, 'the child run to complete');
    expect(await childRuns()).toEqual([{ status: 'completed', deploymentId: null }]);
    expect(sink.received.filter((r) => r.url === `/detached-${tag}`)).toHaveLength(1);
  });
});

describe('when a schedule is due', () => {
  const at = (iso: string) => Date.parse(iso);

  it('cron: the latest missed minute starts once, then the next matching minute', () => {
    const history = { createdAt: at('2026-01-01T10:00:30Z'), last: { scheduledFor: at('2026-01-01T10:05:00Z'), endedAt: at('2026-01-01T10:05:01Z') } };
    expect(dueTime({ cron: '*/5 * * * *' }, history, at('2026-01-01T10:22:00Z'))).toEqual({ due: at('2026-01-01T10:20:00Z') });
    expect(dueTime({ cron: '*/5 * * * *' }, { ...history, last: { scheduledFor: at('2026-01-01T10:20:00Z'), endedAt: undefined } }, at('2026-01-01T10:22:00Z'))).toEqual({
      wakeAt: at('2026-01-01T10:25:00Z'),
    });
  });

  it('after: the first run at deploy, the next one the delay after the previous run ended, none while it runs', () => {
    const createdAt = at('2026-01-01T10:00:00Z');
    expect(dueTime({ after: 'PT1M' }, { createdAt }, createdAt + 10)).toEqual({ due: createdAt });
    expect(dueTime({ after: 'PT1M' }, { createdAt, last: { scheduledFor: createdAt, endedAt: undefined } }, createdAt + 120_000)).toEqual({});
    const ended = createdAt + 5_000;
    expect(dueTime({ after: 'PT1M' }, { createdAt, last: { scheduledFor: createdAt, endedAt: ended } }, ended + 1_000)).toEqual({ wakeAt: ended + 60_000 });
    expect(dueTime({ after: 'PT1M' }, { createdAt, last: { scheduledFor: createdAt, endedAt: ended } }, ended + 61_000)).toEqual({ due: ended + 60_000 });
  });
});
