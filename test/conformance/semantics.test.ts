/**
 * Semantics the conformance kit does not exercise, each against the text it follows:
 * the Serverless Workflow DSL (serverlessworkflow/specification at d758f0b: dsl.md,
 * dsl-reference.md, schema/workflow.yaml), the CloudEvents SQL and Subscriptions API
 * specifications (cloudevents/spec: cesql/spec.md, subscriptions/spec.md), and the
 * EventBridge wildcard rules the data-pattern dialect adopts.
 */
import { describe, expect, it } from 'vitest';
import { compile } from '@/runtime/compiler/compile';
import { compileCesql } from '@/runtime/expressions/cesql/index';
import { compileFilter, filterWarnings, validateFilter } from '@/runtime/expressions/filters/index';
import { stringify } from 'yaml';
import { at, runScenario } from '@/test/conformance/harness';

const header = (name: string) => `
document:
  dsl: '1.0.3'
  namespace: conformance
  name: ${name}
  version: '1.0.0'
`;

describe('try / catch (dsl-reference.md "Catch", lines 1241-1254)', () => {
  // Line 1251: `when` is "a runtime expression used to determine whether or not to catch the
  // filtered error"; line 1252 the same for `exceptWhen`. The expression is about the error, so
  // (as the Java reference runtime and Synapse do) the caught error is its input: `.status`.
  const guarded = (condition: string) => `${header('catch-when')}
do:
  - guarded:
      try:
        - boom:
            raise:
              error:
                type: https://example.com/errors/teapot
                status: 418
                title: Teapot
                detail: short and stout
      catch:
        ${condition}
        do:
          - handle:
              set:
                handled: \${ $error.title }
`;

  it('evaluates catch.when with the caught error as its input', async () => {
    const caught = await runScenario(guarded('when: .status == 418'), { status: 200 });
    expect(caught.result.status).toBe('completed');
    expect(caught.output).toEqual({ handled: 'Teapot' });
    // The task input says 503, the error 418: the error decides, so nothing is caught.
    const notCaught = await runScenario(guarded('when: .status == 503'), { status: 503 });
    expect(notCaught.result.status).toBe('faulted');
  });

  it('evaluates catch.exceptWhen with the caught error as its input', async () => {
    const excepted = await runScenario(guarded('exceptWhen: .title == "Teapot"'), { title: 'Other' });
    expect(excepted.result).toMatchObject({ status: 'faulted', error: { status: 418, title: 'Teapot' } });
    const caught = await runScenario(guarded('exceptWhen: .title == "Other"'), { title: 'Other' });
    expect(caught.output).toEqual({ handled: 'Teapot' });
  });

  // schema/workflow.yaml line 1418: the error filter's `details` property filters on the
  // error's `detail` (dsl-reference.md "Error", the Problem Details field).
  it('matches catch.errors.with.details against the error detail', async () => {
    const filtered = (details: string) => guarded(`errors:\n          with:\n            status: 418\n            details: ${details}`);
    const caught = await runScenario(filtered('short and stout'));
    expect(caught.output).toEqual({ handled: 'Teapot' });
    const other = await runScenario(filtered('tall and thin'));
    expect(other.result).toMatchObject({ status: 'faulted', error: { detail: 'short and stout' } });
  });

  // dsl.md line 486 ("Retries"): the retry policy is how a transient error is recovered from;
  // dsl-reference.md line 1253: `retry` is the policy used "when catching errors". Once its
  // attempts are spent the error was not recovered from: it propagates and faults the workflow,
  // rather than being swallowed by the catch (as the Java reference runtime does).
  it('lets the error propagate once the retry attempts are exhausted', async () => {
    const { result, lifecycle } = await runScenario(`${header('retry-exhausted')}
do:
  - attempt:
      try:
        - boom:
            raise:
              error:
                type: https://serverlessworkflow.io/spec/1.0.0/errors/communication
                status: 503
      catch:
        errors:
          with:
            status: 503
        retry:
          delay:
            milliseconds: 1
          backoff:
            constant: {}
          limit:
            attempt:
              count: 2
        do:
          - giveUp:
              set:
                gaveUp: true
  - after:
      set:
        reached: true
`);
    expect(result).toMatchObject({ status: 'faulted', error: { status: 503, instance: '/do/0/attempt/try/0/boom' } });
    expect(lifecycle.events.filter((e) => e.type === 'io.serverlessworkflow.task.retried.v1')).toHaveLength(2);
  });

  it('still handles a caught error with catch.do when there is no retry policy', async () => {
    const { output } = await runScenario(guarded('as: error'));
    expect(at(output, 'handled')).toBe('Teapot');
  });
});

// CloudEvents SQL, cesql/spec.md §1.2 "Relation to the Subscriptions API": "If the output value
// is not a Boolean or any errors are returned, the event MUST NOT pass the filter"; the
// Subscriptions API (subscriptions/spec.md §3.2.4.1.2, `sql`) rejects only invalid expressions.
describe('CESQL subscription filters (cesql/spec.md §1.2, subscriptions/spec.md §3.2.4.1.2)', () => {
  const event = { specversion: '1.0', id: 'e-1', source: '/orders', type: 'order.created', subject: 'true', priority: 5 };

  it('accepts a filter whose result is not a Boolean, and lets no event pass it', async () => {
    for (const sql of ['1 + 1', "'true'", 'subject', 'priority']) {
      expect(validateFilter({ sql }), sql).toEqual([]);
      expect((await compileFilter({ sql }))(event), sql).toBe(false);
      expect(compileCesql(sql).matches(event), sql).toBe(false);
    }
    expect((await compileFilter({ sql: 'priority = 5' }))(event)).toBe(true);
  });

  it('warns at design time when the result type is known not to be Boolean', () => {
    expect(filterWarnings({ all: [{ exact: { type: 'order.created' } }, { sql: '1 + 1' }] })).toEqual([
      { path: '/all/1/sql', message: expect.stringContaining('yields Integer, not Boolean, so no event passes it') as string },
    ]);
    expect(filterWarnings({ sql: 'priority > 3' })).toEqual([]);
  });

  it('the canvas filters (CESQL filter, attribute filter) warn and compile to a condition nothing passes', async () => {
    const graph = (kind: string, config: Record<string, unknown>) => ({
      document: { namespace: 'conformance', name: 'cesql-node', version: '1.0.0' },
      nodes: [
        { id: 'keep', kind, config },
        { id: 'mark', kind: 'jq-transform', config: { expression: '{ passed: true }' } },
      ],
      edges: [{ id: 'e1', source: 'keep', target: 'mark' }],
    });
    for (const [kind, config, path] of [
      ['cesql-filter', { expression: 'priority + 1' }, ['config', 'expression']],
      ['attribute-filter', { filters: [{ all: [{ exact: { type: 'order.created' } }, { sql: "'yes'" }] }] }, ['config', 'filters', 0, 'all', 1, 'sql']],
    ] as const) {
      const compiled = compile(graph(kind, config));
      expect(compiled.diagnostics.filter((d) => d.severity === 'error'), kind).toEqual([]);
      expect(compiled.diagnostics.find((d) => d.severity === 'warning' && d.nodeId === 'keep'), kind).toMatchObject({ path, message: expect.stringContaining('not Boolean') as string });
      const { result, output } = await runScenario(stringify(compiled.document), event);
      expect(result.status, kind).toBe('completed');
      expect(output, kind).toEqual(event);
    }
    // A Boolean expression passes as before.
    const { output } = await runScenario(stringify(compile(graph('cesql-filter', { expression: 'priority = 5' })).document), event);
    expect(output).toEqual({ passed: true });
  });

  // §3.4.3: in a LIKE pattern only `%` and `_` are special; every other character is literal.
  it('matches LIKE patterns holding characters a regular expression would escape', async () => {
    const filter = await compileFilter({ sql: "source LIKE '/ord-rs.%' OR type LIKE 'order-%'" });
    expect(filter({ ...event, source: '/ord-rs.eu', type: 'x' })).toBe(true);
    expect(filter({ ...event, source: '/ordXrs.eu', type: 'order-created' })).toBe(true);
    expect(filter({ ...event, source: '/ordXrs.eu', type: 'orderXcreated' })).toBe(false);
  });
});

// Data patterns follow EventBridge "wildcard" matching: `*` matches any run of characters and
// every other character stands for itself (the only escapes are `\*` and `\\`).
describe('data-pattern wildcard (EventBridge content filtering, "Wildcard matching")', () => {
  it.each([
    ['order-*', 'order-created', true],
    ['orders/*/created', 'orders/eu/created', true],
    ['com.example.*', 'com.example.order', true],
    ['com.example.*', 'comXexample.order', false],
    ['a+b(c)[d]{2}|^$?*', 'a+b(c)[d]{2}|^$?!', true],
    ['literal\\*star', 'literal*star', true],
    ['literal\\*star', 'literalXstar', false],
  ])('%s against %s is %s', async (wildcard, type, expected) => {
    expect(validateFilter({ pattern: { type: [{ wildcard }] } })).toEqual([]);
    const filter = await compileFilter({ pattern: { type: [{ wildcard }] } });
    expect(filter({ specversion: '1.0', id: '1', source: '/s', type })).toBe(expected);
  });
});
