/**
 * Denial of service through expressions (SECURITY.md, "Scripts and expressions"): a viewer
 * or editor submits an expression that runs for ever or takes all memory — jq
 * (`[range(1e9)] | length`, `def f: f; f`), a CESQL LIKE pattern that makes a backtracking
 * matcher explode — or a JSONPath that would run code. Each ends at its budget with a clear
 * error, and the studio keeps answering other requests meanwhile.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { PrismaClient } from '../../prisma/generated/client';
import { decompile } from '../../runtime/compiler/decompile';
import { loadJqRuntime, withTotalBudget } from '../../runtime/expressions/jq';
import { JqLimitError, JqPool } from '../../runtime/expressions/jq-thread';
import { compileTransform } from '../../runtime/expressions/transforms';
import { runWorkflow } from '../../runtime/engine/runner';
import type { WorkflowDocument } from '../../runtime/engine/types';
import { createDb } from '../../server/db';
import { exportAsyncApi, registerEventType } from '../../server/services/catalog';
import { createCaller } from '../../server/routers/root';

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

/** Runs `slow` and then `cheap`; resolves with the order in which they were answered. */
async function race<S, C>(slow: () => Promise<S>, cheap: () => Promise<C>): Promise<{ order: string[]; slow: S; cheap: C }> {
  const order: string[] = [];
  const slowDone = slow().then((value) => {
    order.push('slow');
    return value;
  });
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
