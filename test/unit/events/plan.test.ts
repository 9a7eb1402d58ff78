import { describe, expect, it } from 'vitest';
import { compile } from '@/runtime/compiler/compile';
import { planFromDocument } from '@/runtime/events/plan';
import { demoFlowGraph } from '@/runtime/nodes/demo';
import { NOT_RETRIED_WHEN } from '@/runtime/nodes/retry-policy';

const doc = (tasks: Record<string, unknown>[], extra: Record<string, unknown> = {}) => ({
  document: { dsl: '1.0.0', namespace: 't', name: 'n', version: '0.1.0' },
  schedule: { on: { one: { with: { type: 'com.example.a' } } } },
  do: tasks,
  ...extra,
});
const call = { deliver: { call: 'http', with: { method: 'post', endpoint: 'http://127.0.0.1:9/x', body: '${ . }' } } };

describe('planFromDocument', () => {
  it('reads the studio demo flow as a pipeline: webhook, ingress filter, jq transform, HTTP target with its retry', () => {
    const plan = planFromDocument(compile(demoFlowGraph()).document);
    expect(plan).toMatchObject({
      kind: 'pipeline',
      ingress: ['hook:orders'],
      filter: [{ exact: { type: 'com.example.order.created' } }, { pattern: { data: { total: [{ numeric: ['>', 100] }] } } }],
      steps: [{ kind: 'transform', task: 'summary', transform: { kind: 'jq' } }],
      target: { url: 'http://localhost:4010/orders', method: 'POST', delivery: { retry: 3, backoffPolicy: 'exponential', backoffDelayMs: 1000, maxBackoffMs: 600_000, format: 'binary' } },
      hooks: [{ id: 'orders', mode: 'cloudevents', auth: 'hmac', eventType: 'com.example.order.created' }],
    });
  });

  it('derives the subscription of a plain DSL document from schedule.on `with` attributes', () => {
    const plan = planFromDocument(doc([call], { schedule: { on: { one: { with: { type: 'com.example.a', source: '/shop', priority: 3 } } } } }));
    expect(plan).toMatchObject({ kind: 'pipeline', ingress: 'any', filter: { all: [{ exact: { type: 'com.example.a', source: '/shop' } }, { pattern: { priority: [3] } }] } });
  });

  it('keeps a plain DSL document listening to the whole mesh after it is opened and saved in the studio', async () => {
    const { decompile } = await import('@/runtime/compiler/decompile');
    const original = doc([call]);
    const { graph } = decompile(original as never);
    const reopened = compile(graph).document;
    expect(JSON.stringify(reopened)).toContain('dsl-schedule');
    expect(planFromDocument(reopened)).toMatchObject({ kind: 'pipeline', ingress: 'any' });
  });

  it('takes the Knative carriage options from the metadata of a plain call, which is tried once as in the engine', () => {
    const plan = planFromDocument(
      doc([{ deliver: { ...call.deliver, metadata: { meshflow: { delivery: { retry: 5, backoffPolicy: 'linear', backoffDelay: 'PT0.5S', format: 'structured', orderingKey: 'subject', timeout: 'PT2S' } } } } }]),
    );
    // How often a call is tried is the task's to say: a call without catch.retry runs once, whatever its metadata says.
    expect(plan).toMatchObject({ target: { delivery: { retry: 0, backoffPolicy: 'exponential', backoffDelayMs: 1000, format: 'structured', orderingKey: 'subject', timeoutMs: 2000 } } });
  });

  it('lets the task, not its metadata, say how often and how long the target is tried', () => {
    const retrying = {
      deliver: {
        try: [{ request: call.deliver }],
        catch: { errors: { with: { type: 'https://serverlessworkflow.io/spec/1.0.0/errors/communication' } }, retry: { delay: 'PT2S', backoff: { constant: {} }, limit: { attempt: { count: 2 } } } },
        timeout: { after: 'PT3S' },
        metadata: { meshflow: { delivery: { retry: 9, backoffPolicy: 'linear', backoffDelay: 'soon', timeout: 'PT1M', format: 'json', orderingKey: 'subject', rateLimit: 4, maxBackoff: 'PT30S' } } },
      },
    };
    const plan = planFromDocument(doc([retrying]));
    // What the task states wins (the malformed backoffDelay is not read at all); how the data plane carries it is the metadata's.
    expect(plan).toMatchObject({ target: { delivery: { retry: 2, backoffPolicy: 'constant', backoffDelayMs: 2000, timeoutMs: 3000, format: 'json', orderingKey: 'subject', rateLimit: 4, maxBackoffMs: 30_000 } } });
  });

  const tried = (handled: Record<string, unknown>) => ({ deliver: { try: [{ request: call.deliver }], catch: handled } });
  const communication = { with: { type: 'https://serverlessworkflow.io/spec/1.0.0/errors/communication' } };
  const inline = { delay: 'PT1S', backoff: { exponential: {} }, limit: { attempt: { count: 3 } } };
  it.each([
    ['tasks that handle the error', { errors: communication, retry: inline, do: [{ note: { set: { failed: true } } }] }],
    ['a retry policy named in use.retries', { errors: communication, retry: 'default' }],
    ['a retry policy with a condition', { errors: communication, retry: { ...inline, when: '${ .status >= 500 }' } }],
    ['a retry policy bounded by time', { errors: communication, retry: { ...inline, limit: { duration: 'PT1M' } } }],
    ['another type of error', { errors: { with: { type: 'https://serverlessworkflow.io/spec/1.0.0/errors/timeout' } }, retry: inline }],
    ['no retry, which ends the run as handled', { errors: communication }],
    ['a condition of its own', { errors: communication, exceptWhen: '${ .status == 400 }', retry: inline }],
    ['a condition on catching', { errors: communication, when: NOT_RETRIED_WHEN, retry: inline }],
  ])('leaves a target that catches its errors with %s to the workflow engine', (_, handled) => {
    expect(planFromDocument(doc([tried(handled)]))).toMatchObject({ kind: 'workflow', reason: 'task deliver handles its errors in a way only the workflow engine does' });
  });

  it('delivers a target whose catch only retries communication errors by an inline policy', () => {
    expect(planFromDocument(doc([tried({ errors: communication, retry: inline })]))).toMatchObject({ kind: 'pipeline', target: { delivery: { retry: 3 } } });
    expect(planFromDocument(doc([tried({ retry: inline })]))).toMatchObject({ kind: 'pipeline', target: { delivery: { retry: 3 } } });
  });

  it('retries what the task retries: transient failures under the compiled condition, every failure without it', () => {
    expect(planFromDocument(doc([tried({ errors: communication, exceptWhen: NOT_RETRIED_WHEN, retry: inline })]))).toMatchObject({ kind: 'pipeline', target: { delivery: { retry: 3, retryOn: 'transient' } } });
    expect(planFromDocument(doc([tried({ errors: communication, retry: inline })]))).toMatchObject({ kind: 'pipeline', target: { delivery: { retry: 3, retryOn: 'any' } } });
    // A plain call without a retry of its own is tried once, as the engine runs it.
    expect(planFromDocument(doc([call]))).toMatchObject({ kind: 'pipeline', target: { delivery: { retry: 0 } } });
  });

  it('reads the compiled HTTP target with a retry as retrying transient failures only', () => {
    const plan = planFromDocument(compile(demoFlowGraph()).document);
    expect(plan).toMatchObject({ kind: 'pipeline', target: { delivery: { retry: 3, retryOn: 'transient' } } });
  });

  it('reads a transform from its task, never from a hand-written metadata.meshflow.transform', () => {
    const shape = { shape: { set: { total: '${ .data.total }' }, metadata: { meshflow: { transform: { kind: 'constant', value: { fixed: true } } } } } };
    expect(planFromDocument(doc([shape, call]))).toMatchObject({ kind: 'pipeline', steps: [{ kind: 'transform', task: 'shape', transform: { kind: 'jq', expression: '{"total": (.data.total)}' } }] });
    // A task that only its metadata calls a transform is the task it is: a wait is the engine's.
    const wait = { pause: { wait: 'PT1S', metadata: { meshflow: { transform: { kind: 'original' } } } } };
    expect(planFromDocument(doc([wait, call]))).toMatchObject({ kind: 'workflow', reason: 'task pause is not an HTTP call' });
  });

  it('turns a non-identity request body into a last transform step', () => {
    const plan = planFromDocument(doc([{ deliver: { call: 'http', with: { method: 'post', endpoint: 'http://h/x', body: '${ .data }' } } }]));
    expect(plan).toMatchObject({ steps: [{ kind: 'transform', task: 'deliver.body', transform: { kind: 'jq', expression: '.data' } }] });
  });

  it.each([
    ['a branching switch', [{ s: { switch: [{ a: { when: '${ .x }', then: 'b' } }, { c: { then: 'd' } }] } }, call]],
    ['a wait', [{ w: { wait: 'PT1S' } }, call]],
    ['no HTTP target', [{ s: { set: { a: 1 } } }]],
    ['two targets', [call, { again: call.deliver }]],
    ['a computed endpoint', [{ c: { call: 'http', with: { method: 'post', endpoint: '${ .url }' } } }]],
  ])('leaves %s to the workflow engine', (_, tasks) => {
    expect(planFromDocument(doc(tasks as Record<string, unknown>[])).kind).toBe('workflow');
  });

  it('leaves event correlation and non-documents to the engine', () => {
    expect(planFromDocument(doc([call], { schedule: { on: { all: [{ with: { type: 'a' } }, { with: { type: 'b' } }] } } })).kind).toBe('workflow');
    expect(planFromDocument('document: {}').kind).toBe('workflow');
  });

  it('runs a flow that declares secrets in the engine, the only place $secrets is bound and masked', () => {
    expect(planFromDocument(doc([call])).kind).toBe('pipeline');
    expect(planFromDocument(doc([call], { use: { secrets: ['token'] } }))).toMatchObject({ kind: 'workflow', reason: 'it reads secrets (use.secrets)' });
  });

  it('reports malformed durations in delivery options', () => {
    expect(() => planFromDocument(doc([{ deliver: { ...call.deliver, metadata: { meshflow: { delivery: { maxBackoff: 'soon' } } } } }]))).toThrow(/maxBackoff/);
    expect(() => planFromDocument(doc([{ deliver: { ...call.deliver, metadata: { meshflow: { delivery: { timeout: 'soon' } } } } }]))).toThrow(/timeout/);
  });
});
