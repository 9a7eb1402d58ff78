/**
 * Denial of service through expressions (SECURITY.md, "Scripts and expressions"): a viewer
 * or editor submits an expression that runs for ever or takes all memory — jq
 * (`[range(1e9)] | length`, `def f: f; f`), a CESQL LIKE pattern that makes a backtracking
 * matcher explode — or a JSONPath that would run code. Each ends at its budget with a clear
 * error, and the studio keeps answering other requests meanwhile.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { PrismaClient } from '@/prisma/generated/client';
import { decompile } from '@/runtime/compiler/decompile';
import { loadJqRuntime, withTotalBudget } from '@/runtime/expressions/jq';
import { JqLimitError, JqPool } from '@/runtime/expressions/jq-thread';
import { compileTransform } from '@/runtime/expressions/transforms';
import { runWorkflow } from '@/runtime/engine/runner';
import type { WorkflowDocument } from '@/runtime/engine/types';
import { createDb } from '@/server/db';
import { exportAsyncApi, registerEventType } from '@/server/services/catalog';
import { createCaller } from '@/server/routers/root';
import { waitFor } from '@/test/helpers/databases';
import { deploy, pipeline, post, startSink, startWorker, structured, undeployAll, waitForHook, type Sink, type Worker } from '@/test/integration/events/helpers';

/** The time budget, or for an expression that allocates as it runs, the memory budget if it comes first. */
const BUDGET = /^jq expression exceeded its (1000 ms|256 MB memory) budget$/;

const event = {
  specversion: '1.0',
  id: 'o-1',
  source: '/shop/orders',
  type: 'com.example.order.created',
  datacontenttype: 'application/json',
  data: { total: 150 },
};

/**
 * Runs `slow` and then `cheap` (`cheapAfterMs` later, so that the slow one is under way);
 * resolves with the order in which they were answered.
 */
async function race<S, C>(slow: () => Promise<S>, cheap: () => Promise<C>, cheapAfterMs = 0): Promise<{ order: string[]; slow: S; cheap: C }> {
  const order: string[] = [];
  const slowDone = slow().then((value) => {
    order.push('slow');
    return value;
  });
  if (cheapAfterMs > 0) await new Promise((resolve) => setTimeout(resolve, cheapAfterMs));
  const cheapDone = cheap().then((value) => {
    order.push('cheap');
    return value;
  });
  const [s, c] = await Promise.all([slowDone, cheapDone]);
  return { order, slow: s, cheap: c };
}

describe('expressions are bounded', () => {
  let db: PrismaClient;
  let viewer: ReturnType<typeof createCaller>;
  let editor: ReturnType<typeof createCaller>;
  const testFilter = (filter: unknown, e: unknown = event) => viewer.events.testFilter({ filter: JSON.stringify(filter), event: JSON.stringify(e) });

  beforeAll(async () => {
    db = createDb(inject('databaseUrl'));
    const context = { db, workerUrl: 'http://127.0.0.1:1', secretKey: randomBytes(32) };
    viewer = createCaller({ ...context, user: { id: 'v', name: 'v', email: 'v@example.com', role: 'viewer' } });
    editor = createCaller({ ...context, user: { id: 'e', name: 'e', email: 'e@example.com', role: 'editor' } });
    // A running studio has its jq threads started by earlier requests: two at once start both.
    await Promise.all([testFilter({ jq: '.data' }), testFilter({ jq: '.id' })]);
  });
  afterAll(() => db.$disconnect());

  describe("the filter tester (a viewer's request)", () => {
    it('ends a jq filter that builds a huge array at its budget, and answers another viewer meanwhile', async () => {
      const result = await race(
        () => testFilter({ all: [{ exact: { type: 'com.example.order.created' } }, { jq: '[range(1e9)] | length > 0' }] }),
        () => testFilter({ jq: '.data.total > 100' }),
      );
      expect(result.order).toEqual(['cheap', 'slow']);
      expect(result.cheap).toEqual({ ok: true, matches: true });
      expect(result.slow).toMatchObject({ ok: false, problems: [{ where: 'filter', path: '/all/1/jq', message: expect.stringMatching(BUDGET) }] });
    });

    it('ends endless jq recursion at its budget, and answers a request without jq meanwhile', async () => {
      const result = await race(
        () => testFilter({ jq: 'def f: f; f' }),
        () => testFilter({ exact: { source: '/shop/orders' } }),
      );
      expect(result.order).toEqual(['cheap', 'slow']);
      expect(result.cheap).toEqual({ ok: true, matches: true });
      expect(result.slow).toMatchObject({ ok: false, problems: [{ where: 'filter', path: '/jq', message: expect.stringMatching(BUDGET) }] });
      // The thread that ran it was replaced: jq still answers.
      expect(await testFilter({ jq: '.data.total + 1 == 151' })).toEqual({ ok: true, matches: true });
    });

    it('matches a CESQL LIKE pattern that would make a backtracking matcher run for ever', async () => {
      const pattern = `${'%a'.repeat(20)}%b`;
      const result = await testFilter({ sql: `long LIKE '${pattern}'` }, { ...event, long: 'a'.repeat(50_000) });
      expect(result).toEqual({ ok: true, matches: false });
      expect(await testFilter({ sql: `long LIKE '${pattern}'` }, { ...event, long: `${'a'.repeat(50_000)}b` })).toEqual({ ok: true, matches: true });
    });
  });

  describe('patterns that would make a backtracking matcher run for ever', () => {
    const long = 'a'.repeat(50_000);

    it('matches a data-pattern wildcard in the filter tester', async () => {
      const wildcard = `${'*a'.repeat(20)}*b`;
      expect(await testFilter({ pattern: { data: { s: [{ wildcard }] } } }, { ...event, data: { s: long } })).toEqual({ ok: true, matches: false });
      expect(await testFilter({ pattern: { data: { s: [{ wildcard }] } } }, { ...event, data: { s: `${long}b` } })).toEqual({ ok: true, matches: true });
    });

    it("matches a listen's regular expression against events from outside in linear time", async () => {
      const result = await runWorkflow(
        {
          document: { dsl: '1.0.0', namespace: 'security', name: 'redos', version: '0.1.0' },
          do: [
            {
              both: {
                fork: {
                  branches: [
                    { hear: { listen: { to: { one: { with: { type: '(a+)+' } } }, read: 'envelope' } } },
                    {
                      say: {
                        do: [
                          { pause: { wait: 'PT1S' } },
                          { evil: { emit: { event: { with: { source: '/outside', type: `${'a'.repeat(40)}!` } } } } },
                          { good: { emit: { event: { with: { source: '/outside', type: 'aaaa' } } } } },
                        ],
                      },
                    },
                  ],
                },
              },
            },
          ],
        } as unknown as WorkflowDocument,
        {},
        { timeoutMs: 50_000 },
      );
      expect(result.status).toBe('completed');
      const [heard] = (result as unknown as { output: [{ type: string }[]] }).output;
      expect(heard.map((e) => e.type)).toEqual(['aaaa']);
    });

    it('exports the catalog for a type pattern with many wildcards', async () => {
      const type = `${'a'.repeat(60)}.${randomBytes(3).toString('hex')}`;
      await registerEventType(db, { type, source: '/security', schema: { type: 'object' } });
      try {
        expect((await exportAsyncApi(db, { type: `${'a*'.repeat(100)}b` })).count).toBe(0);
        expect((await exportAsyncApi(db, { type: `${'a*'.repeat(30)}.*` })).count).toBeGreaterThanOrEqual(1);
      } finally {
        await db.eventType.deleteMany({ where: { type } });
      }
    });
  });

  describe("the inspector's preview (an editor's request)", () => {
    it('ends a slow expression at its budget, and answers another preview meanwhile', async () => {
      const result = await race(
        () => editor.designer.evaluate({ expression: '[range(1e9)] | length', input: {} }),
        () => editor.designer.evaluate({ expression: '.a + 1', input: { a: 41 } }),
      );
      expect(result.order).toEqual(['cheap', 'slow']);
      expect(result.cheap).toEqual({ ok: true, outputs: [42] });
      expect(result.slow).toMatchObject({ ok: false, error: expect.stringMatching(BUDGET) });
    });
  });

  describe('a test run', () => {
    it('faults at the budget of a slow expression in a task, naming the task and the limit', async () => {
      const { graph } = decompile({
        document: { dsl: '1.0.0', namespace: 'security', name: 'slow-jq', version: '0.1.0' },
        do: [{ count: { set: { n: '${ [range(1e9)] | length }' } } }],
      });
      const result = await editor.designer.testRun({ graph, event });
      expect(result).toMatchObject({ ok: true, status: 'faulted' });
      if (!result.ok) return;
      const detail = (result.error as { detail?: string }).detail ?? '';
      expect(detail).toContain('task "count"');
      expect(detail).toMatch(/jq expression exceeded its (1000 ms|256 MB memory) budget$/);
      // The next run evaluates normally.
      const next = decompile({ document: { dsl: '1.0.0', namespace: 'security', name: 'ok-jq', version: '0.1.0' }, do: [{ count: { set: { n: '${ [range(10)] | length }' } } }] });
      expect(await editor.designer.testRun({ graph: next.graph, event })).toMatchObject({ ok: true, status: 'completed', output: { n: 10 } });
    });
  });

  describe('a test run stuck in jq', () => {
    it('ends endless recursion in a transform at its budget, and answers a request sent at the same moment first', async () => {
      const { graph } = decompile({
        document: { dsl: '1.0.0', namespace: 'security', name: 'endless-jq', version: '0.1.0' },
        do: [{ shape: { set: { n: '${ def f: f; f }' } } }],
      });
      // A studio that has run a test before (its engine and validators loaded).
      const warm = decompile({ document: { dsl: '1.0.0', namespace: 'security', name: 'warm-up', version: '0.1.0' }, do: [{ shape: { set: { n: '${ [range(3)] | add }' } } }] });
      expect(await editor.designer.testRun({ graph: warm.graph, event })).toMatchObject({ ok: true, status: 'completed', output: { n: 3 } });
      const result = await race(
        () => editor.designer.testRun({ graph, event }),
        // A viewer's request whose jq runs on the pool too: answered only if the event loop is free.
        () => testFilter({ jq: '.data.total > 100' }),
        // Sent while the run is in its (1 s) evaluation.
        300,
      );
      expect(result.order).toEqual(['cheap', 'slow']);
      expect(result.cheap).toEqual({ ok: true, matches: true });
      expect(result.slow).toMatchObject({ ok: true, status: 'faulted' });
      if (!result.slow.ok) return;
      const detail = (result.slow.error as { detail?: string }).detail ?? '';
      expect(detail).toContain('task "shape"');
      expect(detail).toMatch(/jq expression exceeded its 1000 ms budget$/);
    });

    it('answers an inspector preview (jq too) while a test run evaluates a slow expression', async () => {
      const { graph } = decompile({
        document: { dsl: '1.0.0', namespace: 'security', name: 'slow-switch', version: '0.1.0' },
        do: [{ check: { switch: [{ never: { when: '${ def f: f; f }', then: 'end' } }] } }],
      });
      const result = await race(
        () => editor.designer.testRun({ graph, event }),
        () => editor.designer.evaluate({ expression: '.a * 2', input: { a: 21 } }),
        300,
      );
      expect(result.order).toEqual(['cheap', 'slow']);
      expect(result.cheap).toEqual({ ok: true, outputs: [42] });
      expect(result.slow).toMatchObject({ ok: true, status: 'faulted' });
    });
  });

  it('bounds the jq time of a whole run through the asynchronous calls the engine makes', async () => {
    const jq = withTotalBudget(await loadJqRuntime(), 2_000, 'this test run');
    const failures: string[] = [];
    for (let i = 0; i < 4; i++) {
      try {
        await jq.runAsync('def f: f; f', null, () => undefined);
      } catch (error) {
        failures.push((error as Error).message);
      }
    }
    expect(failures.slice(0, 2)).toEqual(['jq expression exceeded its 1000 ms budget', 'jq expression exceeded its 1000 ms budget']);
    expect(failures.slice(2)).toEqual(['jq expressions of this test run exceeded their total budget of 2000 ms', 'jq expressions of this test run exceeded their total budget of 2000 ms']);
    // Within budget, the same runtime answers.
    expect(await withTotalBudget(await loadJqRuntime(), 2_000).runAsync('.a + $b', { a: 1 }, (name) => (name === 'b' ? 2 : undefined))).toEqual([3]);
  });

  it('bounds the jq time of a whole test run: past its total, further calls fail at once', async () => {
    const jq = withTotalBudget(await loadJqRuntime(), 2_000, 'this test run');
    const failures: string[] = [];
    for (let i = 0; i < 4; i++) {
      try {
        jq.run('def f: f; f', null, () => undefined);
      } catch (error) {
        failures.push((error as Error).message);
      }
    }
    expect(failures.slice(0, 2)).toEqual(['jq expression exceeded its 1000 ms budget', 'jq expression exceeded its 1000 ms budget']);
    expect(failures.slice(2)).toEqual(['jq expressions of this test run exceeded their total budget of 2000 ms', 'jq expressions of this test run exceeded their total budget of 2000 ms']);
  });

  it("stops a jq evaluation at its memory budget (jq's WebAssembly heap is capped)", async () => {
    const pool = new JqPool({ timeoutMs: 120_000, memoryMb: 16 }, 1);
    const failure = await pool.call({ input: null, program: '[range(1e8)] | length', flags: ['-c'] }).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(JqLimitError);
    expect((failure as Error).message).toBe('jq expression exceeded its 16 MB memory budget');
    // A fresh thread takes over.
    const after = await pool.call({ input: { a: 1 }, program: '.a', flags: ['-c'] });
    expect({ exitCode: after.exitCode, stdout: after.stdout.trim() }).toEqual({ exitCode: 0, stdout: '1' });
  });

  it('refuses JSONPath script and filter expressions in template transforms (they would run code)', async () => {
    const attempt = compileTransform({ kind: 'template', values: { x: '$..[?(@.constructor.constructor("return process")())]' }, template: '{x}' });
    await expect(attempt).rejects.toThrow(/not supported/);
    const plain = await compileTransform({ kind: 'template', values: { x: '$.data.total' }, template: 'total=${x}' });
    expect(plain(event)).toBe('total=150');
  });
});

/**
 * The worker runs every tenant's flows in one process: an editor's slow jq must not hold the
 * others. The budget is raised here so that the slow evaluation clearly spans the other
 * flow's whole round trip (ingress, event log, delivery).
 */
describe('a slow jq expression in a deployed flow', () => {
  let pool: pg.Pool;
  let sink: Sink;
  let worker: Worker;
  const tag = randomUUID().slice(0, 8);

  beforeAll(async () => {
    pool = new pg.Pool({ connectionString: inject('databaseUrl') });
    sink = await startSink();
    await deploy(pool, {
      document: { dsl: '1.0.0', namespace: 'security', name: `slow-${tag}`, version: '0.1.0' },
      schedule: { on: { one: { with: { type: `com.example.slow.${tag}` } } } },
      do: [
        { started: { call: 'http', with: { method: 'post', endpoint: `${sink.url}/started`, body: '${ .data }' } } },
        // The flow's filter: a case whose condition never ends.
        { check: { switch: [{ never: { when: '${ def f: f; f }', then: 'end' } }] } },
        { after: { call: 'http', with: { method: 'post', endpoint: `${sink.url}/after`, body: '${ . }' } } },
      ],
    });
    await deploy(
      pool,
      pipeline({
        name: `quick-${tag}`,
        with: { type: `com.example.quick.${tag}` },
        url: `${sink.url}/quick`,
        sources: [{ id: `src-quick-${tag}`, kind: 'http-webhook', connection: { path: `quick-${tag}`, mode: 'cloudevents' } }],
      }),
    );
    // A pipeline (the worker's fast path): a transform, then a filter whose jq never ends.
    await deploy(
      pool,
      pipeline({
        name: `gate-${tag}`,
        with: { type: `com.example.gate.${tag}` },
        url: `${sink.url}/gate`,
        tasks: [
          { shape: { set: { n: '${ .data.n }' } } },
          { gate: { switch: [{ match: { when: '${ def f: f; f }', then: 'continue' } }, { otherwise: { then: 'end' } }] } },
        ],
      }),
    );
    worker = await startWorker(inject('databaseUrl'), { MESHFLOW_EXPRESSION_TIMEOUT_MS: '10000', MESHFLOW_RUN_POLL_MS: '50' });
    await waitForHook(worker.base, `quick-${tag}`);
  });

  afterAll(async () => {
    await worker?.running.stop();
    await sink?.close();
    await undeployAll(pool);
    await pool.end();
  });

  it("holds no other flow: while it evaluates, another flow's webhook gets its 202, /health answers and the event is delivered; then it ends at its budget", async () => {
    const slowId = randomUUID();
    expect((await post(worker.base, '/events', structured({ id: slowId, source: '/security', type: `com.example.slow.${tag}`, data: { n: 1 } }))).status).toBe(202);
    await waitFor(async () => sink.received.find((r) => r.url === '/started'), 30_000, `the slow flow's first call: ${worker.running.output()}`);
    const runOf = async () =>
      (await pool.query<{ status: string; error: { detail?: string } | null }>(`SELECT r.status, r.error FROM run r JOIN event e ON e.seq = r."eventSeq" WHERE e.id = $1`, [slowId])).rows[0];

    // Each answer notes the slow run's status at that moment: it must still be evaluating.
    const statusNow = async () => (await runOf())?.status;
    const hook = post(worker.base, `/hooks/quick-${tag}`, structured({ id: randomUUID(), source: '/security', type: `com.example.quick.${tag}`, data: { quick: true } })).then(async (r) => ({ status: r.status, slow: await statusNow() }));
    const health = fetch(`${worker.base}/health`).then(async (r) => ({ status: r.status, slow: await statusNow() }));
    const delivered = waitFor(async () => sink.received.find((r) => r.url === '/quick'), 30_000, 'the quick delivery').then(async (r) => ({ body: r.body, slow: await statusNow() }));
    expect(await hook).toEqual({ status: 202, slow: 'running' });
    expect(await health).toEqual({ status: 200, slow: 'running' });
    const quick = await delivered;
    expect(JSON.parse(quick.body)).toEqual({ quick: true });
    expect(quick.slow).toBe('running');

    const ended = await waitFor(async () => {
      const run = await runOf();
      return run?.status === 'faulted' ? run : undefined;
    }, 60_000, `the slow run's fault: ${worker.running.output()}`);
    expect(ended.error?.detail ?? '').toMatch(/task "check".*jq expression exceeded its 10000 ms budget$/);
    expect(sink.received.some((r) => r.url === '/after')).toBe(false);
  }, 120_000);

  it("holds no other flow from a pipeline's filter step either: the delivery loop goes on while that batch is in jq", async () => {
    const gateId = randomUUID();
    expect((await post(worker.base, '/events', structured({ id: gateId, source: '/security', type: `com.example.gate.${tag}`, data: { n: 1 } }))).status).toBe(202);
    // Held by the worker: a claimed delivery row, or handed over by its ingress (delivery_handoff).
    const pending = async () =>
      (
        await pool.query<{ leaseOwner: string | null }>(
          `SELECT d."leaseOwner" FROM delivery d JOIN event e ON e.seq = d."eventSeq" WHERE e.id = $1
           UNION ALL
           SELECT h."leaseOwner" FROM delivery_handoff h CROSS JOIN LATERAL jsonb_array_elements(h.items) AS it JOIN event e ON e.seq = (it->>0)::bigint
            WHERE e.id = $1`,
          [gateId],
        )
      ).rows[0];
    // Claimed by the delivery loop: its filter step is evaluating.
    await waitFor(async () => ((await pending())?.leaseOwner ? true : undefined), 30_000, `the gate delivery claimed: ${worker.running.output()}`);

    const before = sink.received.filter((r) => r.url === '/quick').length;
    const hook = await post(worker.base, `/hooks/quick-${tag}`, structured({ id: randomUUID(), source: '/security', type: `com.example.quick.${tag}`, data: { second: true } }));
    expect(hook.status).toBe(202);
    await waitFor(async () => (sink.received.filter((r) => r.url === '/quick').length > before ? true : undefined), 30_000, 'the quick delivery');
    // The gated event is still in its filter step at this moment.
    expect(await pending()).toBeDefined();

    // Then the filter ends at its budget: the event is dropped, with the reason, never delivered.
    const outcome = await waitFor(
      async () =>
        (await pool.query<{ outcome: string; task: string; reason: string }>(`SELECT o.outcome, o.task, o.reason FROM delivery_outcome o JOIN event e ON e.seq = o."eventSeq" WHERE e.id = $1 AND o.task = 'gate'`, [gateId])).rows[0],
      60_000,
      `the gate delivery's outcome: ${worker.running.output()}`,
    );
    expect(outcome).toEqual({ outcome: 'filtered', task: 'gate', reason: 'jq gate: jq expression exceeded its 10000 ms budget (one evaluation over a batch of 1 events)' });
    expect(sink.received.some((r) => r.url === '/gate')).toBe(false);
  }, 120_000);
});
