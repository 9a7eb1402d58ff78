/**
 * The data plane's fast path and the workflow engine give a pipeline-shaped flow one meaning.
 *
 * Each case is a flow the studio could draw — a CloudEvents source, filters in every dialect,
 * transforms, one HTTP target — compiled as the studio compiles it, then run both ways on the
 * same event: through the code the worker's data plane uses (plan, subscription, transform
 * chain, request building) and through the engine with fake ports. Both must make the same
 * decision (delivered, filtered, faulted) and, when delivered, the same request: method,
 * URL, the flow's own headers and the body's content. The engine defines the meaning.
 *
 * What differs by design is the encoding: the data plane sends CloudEvents binary mode, so an
 * untransformed event travels as its `data` with the attributes in `ce-` headers, where the
 * engine posts the whole event as JSON; decoding the binary request gives back the same event.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compile } from '@/runtime/compiler/compile';
import { Engine } from '@/runtime/engine/engine';
import { createFakePorts, jsonResponse } from '@/runtime/engine/testing/fake-ports';
import type { Json, WorkflowDocument } from '@/runtime/engine/types';
import type { CloudEventRecord } from '@/runtime/events/cloudevent';
import { eventsFromRequest } from '@/runtime/events/http-binding';
import { buildRequest, responseOutcome } from '@/runtime/events/http-delivery';
import { planFromDocument } from '@/runtime/events/plan';
import { Subscription } from '@/runtime/events/subscriptions';
import { nodeDefinitions } from '@/runtime/nodes';
import { isSourceDefinition } from '@/runtime/nodes/types';
import { CompiledTrigger, workflowTrigger } from '@/runtime/runs/triggers';

const TARGET = 'http://127.0.0.1:9/orders';

interface NodeSpec {
  kind: string;
  config: Record<string, unknown>;
}

type Outcome =
  | { outcome: 'delivered'; method: string; url: string; headers: Record<string, string>; body: unknown }
  | { outcome: 'filtered' }
  | { outcome: 'faulted' };

function graph(steps: NodeSpec[], target: Record<string, unknown> = {}) {
  const nodes = [
    { id: 'source', kind: 'cloudevents-endpoint', config: { eventType: 'com.example.order.created' } },
    ...steps.map((step, i) => ({ id: `step-${i + 1}`, kind: step.kind, config: step.config })),
    { id: 'target', kind: 'http-request', config: { method: 'post', url: TARGET, headers: { 'x-team': 'orders' }, ...target } },
  ];
  const edges = nodes.slice(1).map((node, i) => ({ id: `e${i}`, source: nodes[i]!.id, target: node.id }));
  return { document: { name: 'differential' }, nodes, edges };
}

function compiled(steps: NodeSpec[], target?: Record<string, unknown>): WorkflowDocument {
  const result = compile(graph(steps, target));
  const errors = result.diagnostics.filter((d) => d.severity === 'error');
  if (!result.document || errors.length > 0) throw new Error(`the flow does not compile: ${JSON.stringify(errors)}`);
  return result.document as unknown as WorkflowDocument;
}

/** The worker's data plane: plan, subscription (ingress filters, then the chain), request building. */
async function fastPath(document: WorkflowDocument, event: CloudEventRecord): Promise<Outcome & { untransformed?: true }> {
  const plan = planFromDocument(document);
  if (plan.kind !== 'pipeline') throw new Error(`the fast path refused the flow: ${plan.reason}`);
  const subscription = await Subscription.compile({ id: 'deployment', flowId: 'flow' }, plan);
  if (!(await subscription.accepts(event, 'events'))) return { outcome: 'filtered' };
  const [result] = await subscription.runMany([event]);
  // The delivery loop runs a batch at once (jq transforms as one evaluation): the same answer per event.
  const batch = await subscription.runMany([event, { ...event, id: 'e-2' }]);
  const summary = (r: (typeof batch)[number] | undefined) => (r instanceof Error ? 'faulted' : r!.deliver ? JSON.stringify(r!.payload === event ? 'event' : r!.payload) : 'filtered');
  if (summary(batch[0]) !== summary(result)) throw new Error(`in a batch the fast path answers ${summary(batch[0])}, alone ${summary(result)}`);
  if (result instanceof Error) return { outcome: 'faulted' };
  if (!result!.deliver) return { outcome: 'filtered' };
  const target = subscription.target;
  const request = buildRequest(event, result!.payload, result!.transformed, target.delivery.format);
  const headers = { ...target.headers, ...request.headers };
  // Binary mode: the request decodes back into the event (or the event carrying the payload as data).
  const [sent] = eventsFromRequest(headers, request.body);
  if (result!.transformed) {
    // An empty text body decodes as no data; the bytes on the wire are the engine's "" all the same.
    const body = request.body.length === 0 && request.headers['content-type']?.startsWith('text/') ? '' : sent!.data;
    return { outcome: 'delivered', method: target.method, url: target.url, headers: ownHeaders(headers), body };
  }
  return { outcome: 'delivered', method: target.method, url: target.url, headers: ownHeaders(headers), body: asText(sent!), untransformed: true };
}

/** The engine, as the worker runs a workflow deployment: its trigger decides, then the event in structured form is the input. */
async function engine(document: WorkflowDocument, event: CloudEventRecord): Promise<Outcome> {
  const trigger = workflowTrigger(document);
  if (!trigger) throw new Error('the flow has no event trigger');
  if (!(await (await CompiledTrigger.compile('deployment', trigger)).accepts(event, 'events'))) return { outcome: 'filtered' };
  const ports = createFakePorts({ routes: { '*': () => jsonResponse(202, { ok: true }) } });
  const run = await new Engine({ ports }).start(document, event as unknown as Json).done;
  if (run.status === 'faulted') return { outcome: 'faulted' };
  if (run.status !== 'completed') throw new Error(`the engine ended ${run.status}`);
  const [request, ...more] = ports.http.requests;
  if (more.length > 0) throw new Error('the engine sent more than one request');
  if (!request) return { outcome: 'filtered' };
  const text = request.body === undefined ? undefined : typeof request.body === 'string' ? request.body : new TextDecoder().decode(request.body as Uint8Array);
  let body: unknown = text;
  if (text !== undefined && /json/.test(request.headers['content-type'] ?? '')) body = JSON.parse(text);
  return { outcome: 'delivered', method: request.method.toUpperCase(), url: request.url, headers: ownHeaders(request.headers), body };
}

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/** Binary mode carries every attribute as text (`ce-count: 5`); the engine's JSON keeps its type. */
function asText(event: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(event).map(([name, value]) => [name, name === 'data' || typeof value === 'string' ? value : String(value)]));
}

/** The headers the flow sets itself; the rest belong to the encoding. */
function ownHeaders(headers: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).filter(([name]) => name.toLowerCase() === 'x-team'));
}

async function bothWays(steps: NodeSpec[], event: CloudEventRecord, target?: Record<string, unknown>) {
  return bothWaysOn(compiled(steps, target), event);
}

async function bothWaysOn(document: WorkflowDocument, event: CloudEventRecord) {
  const { untransformed, ...fast } = await fastPath(document, event);
  const slow = await engine(document, event);
  // The event itself went out: compare it attribute by attribute as binary mode carries them.
  if (untransformed && slow.outcome === 'delivered' && isObject(slow.body)) slow.body = asText(slow.body);
  return { fast, slow };
}

const baseEvent = (extra: Partial<CloudEventRecord> = {}): CloudEventRecord =>
  ({ specversion: '1.0', id: 'e-1', source: '/shop/eu', type: 'com.example.order.created', datacontenttype: 'application/json', data: { total: 120, currency: 'EUR' }, ...extra }) as CloudEventRecord;

describe('the fast path and the engine agree', () => {
  it('on a flow with no steps', async () => {
    const { fast, slow } = await bothWays([], baseEvent());
    expect(fast).toEqual(slow);
    expect(slow.outcome).toBe('delivered');
  });

  // Each case is a disagreement the generated flows below found, fixed on the side that departed.
  const regressions: [string, NodeSpec[], CloudEventRecord, Outcome['outcome'], Record<string, unknown>?][] = [
    ['a CESQL cast that fails filters the event', [{ kind: 'cesql-filter', config: { expression: "'5' < type" } }], baseEvent(), 'filtered'],
    ['a CESQL error under NOT still filters the event', [{ kind: 'cesql-filter', config: { expression: 'NOT (missing = 1)' } }], baseEvent(), 'filtered'],
    ['CESQL casts a text attribute to the Integer it is compared with', [{ kind: 'cesql-filter', config: { expression: 'priority = 7' } }], baseEvent({ priority: '007' }), 'delivered'],
    ['CESQL short-circuits OR before an error', [{ kind: 'cesql-filter', config: { expression: 'TRUE OR missing' } }], baseEvent(), 'delivered'],
    ['CESQL LIKE matches the whole value, across lines', [{ kind: 'cesql-filter', config: { expression: "subject LIKE 'x%'" } }], baseEvent({ subject: 'a\nx' }), 'filtered'],
    ['an exact filter compares an integer extension by its text', [{ kind: 'attribute-filter', config: { filters: [{ exact: { count: '5' } }] } }], baseEvent({ count: 5 }), 'delivered'],
    ['equals-ignore-case folds ASCII letters only', [{ kind: 'data-pattern', config: { pattern: { data: { currency: [{ 'equals-ignore-case': 'é' }] } } } }], baseEvent({ data: { currency: 'É' } }), 'filtered'],
    ['a filter after a transform that yields null filters, without failing the batch', [{ kind: 'jq-transform', config: { expression: '.data' } }, { kind: 'attribute-filter', config: { filters: [{ exact: { type: 'x' } }] } }], baseEvent({ data: undefined }), 'filtered'],
    ['a transform that yields null sends no body', [{ kind: 'jq-transform', config: { expression: '.data.missing' } }], baseEvent(), 'delivered'],
    [
      'a template value that cannot be found renders null',
      [{ kind: 'template-transform', config: { values: { total: '$.data.total' }, template: 'total ${total}', parseJson: false } }],
      baseEvent({ data: 'plain text' }),
      'delivered',
    ],
    ['a GET target sends no body', [], baseEvent(), 'delivered', { method: 'get' }],
    ['a DELETE target sends no body after a transform either', [{ kind: 'jq-transform', config: { expression: '.data' } }], baseEvent(), 'delivered', { method: 'delete' }],
    ['a jq predicate that fails on the event fails it', [{ kind: 'jq-filter', config: { expression: '.data.total > 100' } }], baseEvent({ data: 'plain text' }), 'faulted'],
    [
      'a jq predicate that fails after a drop-on-error filter fails it',
      [{ kind: 'jq-filter', config: { expression: '.data.total > 100' } }, { kind: 'attribute-filter', config: { filters: [{ exact: { type: 'x' } }] } }],
      baseEvent({ data: 'plain text' }),
      'faulted',
    ],
  ];
  it.each(regressions)('%s', async (_, steps, event, outcome, target) => {
    const { fast, slow } = await bothWays(steps, event, target);
    expect(slow.outcome).toBe(outcome);
    expect(fast).toEqual(slow);
  });
});

/** The document with `metadata.meshflow` of task `name` changed by hand, as in the YAML editor. */
function editMeta(document: WorkflowDocument, name: string, edit: (meta: Record<string, unknown>) => void): WorkflowDocument {
  const copy = structuredClone(document);
  const entry = copy.do.find((item) => name in item) as Record<string, { metadata: { meshflow: Record<string, unknown> } }>;
  edit(entry[name]!.metadata.meshflow);
  return copy;
}

describe('metadata edited by hand to disagree with its task', () => {
  // The task is the meaning: no edit of `metadata.meshflow` may make the fast path do what the engine does not.
  const cases: [string, NodeSpec[], (meta: Record<string, unknown>) => void, CloudEventRecord, Outcome['outcome']][] = [
    ['a transform definition in the metadata of a jq transform', [{ kind: 'jq-transform', config: { expression: '{ total: .data.total }' } }], (m) => (m.transform = { kind: 'constant', value: { fixed: true } }), baseEvent(), 'delivered'],
    ['an "original" transform in the metadata of a field mapping', [{ kind: 'field-mapping', config: { mappings: [{ to: 'id', from: '.id' }] } }], (m) => (m.transform = { kind: 'original' }), baseEvent(), 'delivered'],
    ['a template in the metadata that its task does not render', [{ kind: 'template-transform', config: { values: { id: '$.id' }, template: 'order ${id}', parseJson: false } }], (m) => (m.template = 'refund ${id}'), baseEvent(), 'delivered'],
    ['a data pattern in the metadata that its `when` does not test', [{ kind: 'data-pattern', config: { pattern: { data: { total: [{ numeric: ['>', 100] }] } } } }], (m) => (m.pattern = { data: { total: [{ numeric: ['<', 100] }] } }), baseEvent(), 'delivered'],
    ['attribute filters in the metadata that its `when` does not test', [{ kind: 'attribute-filter', config: { filters: [{ exact: { source: '/shop/eu' } }] } }], (m) => (m.filters = [{ exact: { source: '/shop/us' } }]), baseEvent(), 'delivered'],
    ['a CESQL expression in the metadata that its `when` does not test', [{ kind: 'cesql-filter', config: { expression: "source = '/shop/eu'" } }], (m) => (m.expression = "source = '/shop/us'"), baseEvent(), 'delivered'],
    ['a filter kind on a transform task', [{ kind: 'jq-transform', config: { expression: '.data' } }], (m) => (m.kind = 'jq-filter'), baseEvent(), 'delivered'],
    ['a transform kind on a filter task', [{ kind: 'jq-filter', config: { expression: '.data.total > 500' } }], (m) => ((m.kind = 'jq-transform'), (m.transform = { kind: 'constant', value: 'sent anyway' })), baseEvent(), 'filtered'],
  ];
  it.each(cases)('%s', async (_, steps, edit, event, outcome) => {
    const { fast, slow } = await bothWaysOn(editMeta(compiled(steps), 'step-1', edit), event);
    expect(slow.outcome).toBe(outcome);
    expect(fast).toEqual(slow);
  });

  it('a retry count in the metadata: a failing target is tried as often both ways', async () => {
    const document = editMeta(compiled([], { retry: { attempts: 2, delay: 'PT1S', backoff: 'constant' }, timeout: 'PT5S' }), 'target', (m) => {
      m.delivery = { retry: 7, backoffPolicy: 'linear', timeout: 'PT1M', format: 'structured' };
    });
    const ports = createFakePorts({ routes: { '*': () => jsonResponse(503, { down: true }) } });
    const run = await new Engine({ ports }).start(document, baseEvent() as unknown as Json).done;
    expect(run.status).toBe('faulted');
    const plan = planFromDocument(document);
    if (plan.kind !== 'pipeline') throw new Error(plan.reason);
    // The data plane retries an HTTP 503 (runtime/events/http-delivery.ts) up to `retry` times after the first attempt.
    expect(1 + plan.target.delivery.retry).toBe(ports.http.requests.length);
    expect(plan.target.delivery).toMatchObject({ retry: 2, backoffPolicy: 'constant', backoffDelayMs: 1000, timeoutMs: 5000, format: 'structured' });
  });
});

/** The worker's delivery loop (runtime/worker/delivery.ts) against a target answering `statuses` in turn, then 202. */
function deliverFast(document: WorkflowDocument, statuses: number[]): { requests: number; outcome: 'delivered' | 'dead-lettered' } {
  const plan = planFromDocument(document);
  if (plan.kind !== 'pipeline') throw new Error(`the fast path refused the flow: ${plan.reason}`);
  for (let attempts = 1; ; attempts++) {
    const outcome = responseOutcome(plan.target, statuses[attempts - 1] ?? 202);
    if (outcome.ok) return { requests: attempts, outcome: 'delivered' };
    if (!(outcome.retryable && attempts <= plan.target.delivery.retry)) return { requests: attempts, outcome: 'dead-lettered' };
  }
}

/** The engine against the same target; a faulted run is the engine's dead letter. */
async function deliverEngine(document: WorkflowDocument, statuses: number[]): Promise<{ requests: number; outcome: 'delivered' | 'dead-lettered' }> {
  let answered = 0;
  const ports = createFakePorts({ routes: { '*': () => jsonResponse(statuses[answered++] ?? 202, { answered }) } });
  const run = await new Engine({ ports }).start(document, baseEvent() as unknown as Json).done;
  if (run.status !== 'completed' && run.status !== 'faulted') throw new Error(`the engine ended ${run.status}`);
  return { requests: ports.http.requests.length, outcome: run.status === 'completed' ? 'delivered' : 'dead-lettered' };
}

describe('a failing target is tried as often both ways', () => {
  const retry = { retry: { attempts: 3, delay: 'PT1S', backoff: 'constant' } };
  // [what the target answers in turn (then 202), requests, final outcome]
  const cases: [number[], number, 'delivered' | 'dead-lettered'][] = [
    [[400], 1, 'dead-lettered'],
    [[403, 503], 1, 'dead-lettered'],
    [[404], 2, 'delivered'],
    [[429, 429], 3, 'delivered'],
    [[503, 503, 503], 4, 'delivered'],
    [[503, 503, 503, 503], 4, 'dead-lettered'],
    [[503, 400], 2, 'dead-lettered'],
    [[408, 409, 500], 4, 'delivered'],
    [[301], 1, 'dead-lettered'],
  ];
  it.each(cases)('a compiled target with a retry answering %j', async (statuses, requests, outcome) => {
    const document = compiled([], retry);
    const slow = await deliverEngine(document, statuses);
    expect(slow).toEqual({ requests, outcome });
    expect(deliverFast(document, statuses)).toEqual(slow);
  });

  /** The compiled target's task, written by hand without the condition: the engine retries every communication error. */
  function withoutCondition(): WorkflowDocument {
    const document = compiled([], retry);
    const entry = document.do.find((item) => 'target' in item) as Record<string, { catch: Record<string, unknown> }>;
    delete entry.target!.catch.exceptWhen;
    return document;
  }
  it.each([
    [[400], 2, 'delivered'],
    [[400, 403, 422, 400], 4, 'dead-lettered'],
    [[503, 404], 3, 'delivered'],
  ] as const)('a hand-written retry without the condition answering %j', async (statuses, requests, outcome) => {
    const document = withoutCondition();
    const slow = await deliverEngine(document, [...statuses]);
    expect(slow).toEqual({ requests, outcome });
    expect(deliverFast(document, [...statuses])).toEqual(slow);
  });

  /** The compiled target's call, written by hand as a plain `call: http` with Knative-style metadata asking for retries. */
  function bareCall(): WorkflowDocument {
    const document = compiled([], retry);
    const index = document.do.findIndex((item) => 'target' in item);
    const entry = document.do[index] as Record<string, { try: Record<string, unknown>[] }>;
    const call = Object.values(entry.target!.try[0]!)[0] as Record<string, unknown>;
    document.do[index] = { target: { ...call, metadata: { meshflow: { delivery: { retry: 5, backoffPolicy: 'constant', backoffDelay: 'PT0.1S' } } } } } as never;
    return document;
  }
  it.each([
    [[503], 1, 'dead-lettered'],
    [[404], 1, 'dead-lettered'],
    [[400], 1, 'dead-lettered'],
    [[], 1, 'delivered'],
  ] as const)('a hand-written plain call (no catch.retry) answering %j is tried once', async (statuses, requests, outcome) => {
    const document = bareCall();
    const slow = await deliverEngine(document, [...statuses]);
    expect(slow).toEqual({ requests, outcome });
    expect(deliverFast(document, [...statuses])).toEqual(slow);
  });

  it('a hand-written condition of its own is left to the engine', () => {
    const document = compiled([], retry);
    const entry = document.do.find((item) => 'target' in item) as Record<string, { catch: Record<string, unknown> }>;
    entry.target!.catch.exceptWhen = '${ .status == 400 }';
    expect(planFromDocument(document)).toMatchObject({ kind: 'workflow', reason: expect.stringContaining('only the workflow engine') });
  });

  // Unset, the target's retry is the default policy, written out in the task: a day of attempts both ways.
  it.each([
    [[503, 503, 503], 4, 'delivered'],
    [Array.from({ length: 185 }, () => 503), 185, 'dead-lettered'],
    [[503, 429, 400], 3, 'dead-lettered'],
  ] as const)('a target without a retry of its own answering %j', async (statuses, requests, outcome) => {
    const document = compiled([]);
    const slow = await deliverEngine(document, [...statuses]);
    expect(slow).toEqual({ requests, outcome });
    expect(deliverFast(document, [...statuses])).toEqual(slow);
  });

  it('a target whose retry allows no retries is tried once both ways', async () => {
    const document = compiled([], { retry: { attempts: 0, delay: 'PT1S', backoff: 'constant' } });
    const slow = await deliverEngine(document, [503]);
    expect(slow).toEqual({ requests: 1, outcome: 'dead-lettered' });
    expect(deliverFast(document, [503])).toEqual(slow);
  });

  it('a target without a retry answering 400 is tried once both ways', async () => {
    const document = compiled([]);
    const slow = await deliverEngine(document, [400]);
    expect(slow).toEqual({ requests: 1, outcome: 'dead-lettered' });
    expect(deliverFast(document, [400])).toEqual(slow);
  });
});

// ─── generated flows and events ─────────────────────────────────────────────────────────

const types = ['com.example.order.created', 'com.example.order.cancelled', 'org.other.ping'];
const sources = ['/shop/eu', '/shop/us', 'https://shop.example.com/Ä'];
const words = ['EUR', 'eur', 'usd', 'Straße', 'É', 'a*b', 'x\ny', '5', 'true', ''];

const attributeValue = fc.oneof(fc.constantFrom(...types, ...sources, 'com.', '.created', 'shop', '/shop', '5', 'true', 'É'));

const eventArb: fc.Arbitrary<CloudEventRecord> = fc
  .record(
    {
      type: fc.constantFrom(...types),
      source: fc.constantFrom(...sources),
      subject: fc.constantFrom('order-1', 'Order-2', '5'),
      priority: fc.oneof(fc.constantFrom('5', 'high', 'TRUE', '-3', '007'), fc.integer({ min: -5, max: 5 }), fc.boolean()),
      count: fc.oneof(fc.integer({ min: -3, max: 2147483647 }), fc.constant(3000000000), fc.constant(2.5)),
      data: fc.oneof(
        fc.record(
          {
            total: fc.oneof(fc.integer({ min: -10, max: 300 }), fc.integer({ min: -1000, max: 30000 }).map((n) => n / 100), fc.constantFrom('150', null)),
            currency: fc.constantFrom(...words),
            tags: fc.array(fc.constantFrom('a', 'b', 'vip', 5), { maxLength: 3 }),
            customer: fc.oneof(fc.record({ tier: fc.constantFrom('gold', 'silver', 'GOLD') }), fc.constant(null), fc.constant('gold')),
          },
          { requiredKeys: [] },
        ),
        fc.constantFrom('plain text', null, 7),
      ),
    },
    { requiredKeys: ['type', 'source'] },
  )
  .map((fields) => ({ specversion: '1.0', id: 'e-1', datacontenttype: 'application/json', ...fields }) as unknown as CloudEventRecord);

const attributeName = fc.constantFrom('type', 'source', 'subject', 'priority', 'count', 'missing');

type Sub = Record<string, unknown>;
const subscriptionFilter: fc.Arbitrary<Sub> = fc.letrec<{ filter: Sub }>((tie) => ({
  filter: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.dictionary(attributeName, attributeValue.filter((v) => v !== ''), { minKeys: 1, maxKeys: 2 }).map((exact) => ({ exact })),
    fc.dictionary(attributeName, fc.constantFrom('com.', 'org.', '/shop', 'https', '5', 'T'), { minKeys: 1, maxKeys: 2 }).map((prefix) => ({ prefix })),
    fc.dictionary(attributeName, fc.constantFrom('.created', '/eu', 'Ä', '5', 'e'), { minKeys: 1, maxKeys: 2 }).map((suffix) => ({ suffix })),
    fc.array(tie('filter'), { minLength: 1, maxLength: 2 }).map((all) => ({ all })),
    fc.array(tie('filter'), { minLength: 1, maxLength: 2 }).map((any) => ({ any })),
    tie('filter').map((not) => ({ not })),
    cesqlArb().map((sql) => ({ sql })),
  ),
})).filter;

function cesqlArb(): fc.Arbitrary<string> {
  const attr = fc.constantFrom('type', 'source', 'subject', 'priority', 'count', 'missing', 'data', 'TYPE');
  const literal = fc.oneof(fc.integer({ min: -3, max: 300 }).map(String), fc.constantFrom("'5'", "'com.example.order.created'", "'/shop/eu'", "'true'", "'TRUE'", "'it''s'", 'TRUE', 'false', "''", '2147483647'));
  const value = fc.oneof(attr, literal);
  return fc.letrec<{ expr: string; term: string }>((tie) => ({
    term: fc.oneof(
      { depthSize: 'small' },
      value,
      fc.tuple(value, fc.constantFrom('+', '-', '*', '/', '%'), value).map(([a, op, b]) => `${a} ${op} ${b}`),
      fc.tuple(attr, fc.constantFrom('=', '!=', '<>', '<', '<=', '>', '>='), value).map(([a, op, b]) => `${a} ${op} ${b}`),
      fc.tuple(value, fc.constantFrom('=', '<', '>='), attr).map(([a, op, b]) => `${a} ${op} ${b}`),
      fc.tuple(attr, fc.boolean(), fc.constantFrom("'com.example.%'", "'%.created'", "'/shop/__'", "'%\\%%'", "'_'", "'%'", "'5'")).map(([a, not, p]) => `${a} ${not ? 'NOT ' : ''}LIKE ${p}`),
      fc.tuple(attr, fc.boolean(), fc.array(literal, { minLength: 1, maxLength: 3 })).map(([a, not, set]) => `${a} ${not ? 'NOT ' : ''}IN (${set.join(', ')})`),
      attr.map((a) => `EXISTS ${a}`),
      fc.tuple(fc.constant('-'), value).map(([, v]) => `-${v}`),
    ),
    expr: fc.oneof(
      { depthSize: 'small' },
      tie('term'),
      tie('expr').map((e) => `NOT (${e})`),
      fc.tuple(tie('expr'), fc.constantFrom('AND', 'OR', 'XOR'), tie('expr')).map(([a, op, b]) => `(${a}) ${op} (${b})`),
    ),
  })).expr;
}

const condition = fc.oneof(
  fc.constantFrom<unknown>('EUR', 'eur', 5, 150, 120, true, null, 'gold', 'a', 'com.example.order.created', '5'),
  fc.constantFrom('com.', 'Str', 'e', '').map((prefix) => ({ prefix })),
  fc.constantFrom('.created', 'ur', 'É').map((suffix) => ({ suffix })),
  fc.constantFrom('eur', 'STRASSE', 'straße', 'é', 'Gold').map((s) => ({ 'equals-ignore-case': s })),
  fc.constantFrom('com.*.created', '*', 'a\\*b', '*e*', 'x*y', '/shop/*').map((wildcard) => ({ wildcard })),
  fc.oneof(
    fc.tuple(fc.constantFrom('<', '<=', '=', '>', '>='), fc.integer({ min: -5, max: 300 })).map(([op, n]) => ({ numeric: [op, n] })),
    fc.tuple(fc.integer({ min: -5, max: 150 }), fc.integer({ min: 0, max: 200 })).map(([a, b]) => ({ numeric: ['>', Math.min(a, b), '<=', Math.max(a, b)] })),
  ),
  fc.boolean().map((exists) => ({ exists })),
  fc.oneof(
    fc.constantFrom<unknown>('EUR', 5, ['EUR', 'usd'], [5, 'a'], { prefix: 'com.' }, { suffix: 'ur' }, { 'equals-ignore-case': ['eur', 'É'] }, { wildcard: '*e*' }, { wildcard: ['/shop/*', 'x'] }),
  ).map((operand) => ({ 'anything-but': operand })),
);
const conditions = fc.array(condition, { minLength: 1, maxLength: 3 });

const dataPattern: fc.Arbitrary<Record<string, unknown>> = fc.letrec<{ pattern: Record<string, unknown>; data: Record<string, unknown> }>((tie) => ({
  data: fc.oneof(
    { depthSize: 'small' },
    fc.dictionary(fc.constantFrom('total', 'currency', 'tags', 'missing'), conditions, { minKeys: 1, maxKeys: 2 }),
    fc.record({ customer: fc.record({ tier: conditions }) }),
    fc.tuple(tie('data'), tie('data')).map(([a, b]) => ({ $or: [a, b] })),
  ),
  pattern: fc.oneof(
    fc.dictionary(fc.constantFrom('type', 'source', 'subject', 'priority', 'count'), conditions, { minKeys: 1, maxKeys: 2 }),
    tie('data').map((data) => ({ data })),
    fc.tuple(fc.dictionary(fc.constantFrom('type', 'source'), conditions, { minKeys: 1, maxKeys: 1 }), tie('data')).map(([attrs, data]) => ({ ...attrs, data })),
  ),
})).pattern;

const jqPredicate = fc.constantFrom('.data.total > 100', '.data.currency == "EUR"', '.data.tags | length', '.data.customer.tier', '.data.total', '(.data.tags // []) | index("vip")', '.priority | tonumber > 2', '.data | has("total")', 'null', '.count');
const jqTransform = fc.constantFrom('{ id: .id, data: .data }', '.data', '.data.total', '{type, total: .data.total}', '.data.currency | ascii_downcase', '.data.total * 2', '.data.tags[0]', '. + {seen: true}', '"fixed"');

const filterStep: fc.Arbitrary<NodeSpec> = fc.oneof(
  fc.array(subscriptionFilter, { minLength: 1, maxLength: 2 }).map((filters) => ({ kind: 'attribute-filter', config: { filters } })),
  dataPattern.map((pattern) => ({ kind: 'data-pattern', config: { pattern } })),
  cesqlArb().map((expression) => ({ kind: 'cesql-filter', config: { expression } })),
  jqPredicate.map((expression) => ({ kind: 'jq-filter', config: { expression } })),
);

const transformStep: fc.Arbitrary<NodeSpec> = fc.oneof(
  jqTransform.map((expression) => ({ kind: 'jq-transform', config: { expression } })),
  fc
    .record({
      values: fc.record({
        id: fc.constantFrom('$.id', '$.data.total', '$.missing'),
        total: fc.constantFrom('$.data.total', '$.data.currency', '$.data'),
        cur: fc.constantFrom('$.data.currency', "$.data['customer'].tier", '$.data.tags[0]'),
      }),
      template: fc.constantFrom('{"orderId": "${id}"}', '{"total": ${total}}', 'order ${id} in ${cur}', '${cur}', '{"a": "${cur}"}', 'no placeholder'),
      parseJson: fc.boolean(),
    })
    .map((config) => ({ kind: 'template-transform', config })),
  fc
    .uniqueArray(fc.record({ to: fc.constantFrom('id', 'total', 'kind', 'first'), from: fc.constantFrom('.id', '.data.total', '.type', '.data.tags[0]', '"x"', '.data.total + 1') }), { minLength: 1, maxLength: 3, selector: (m) => m.to })
    .map((mappings) => ({ kind: 'field-mapping', config: { mappings } })),
);

const flowArb = fc.record({
  steps: fc.array(fc.oneof(filterStep, transformStep), { minLength: 1, maxLength: 4 }),
  target: fc.oneof(fc.constant({}), fc.constantFrom('.data', '{ order: .id }', '.').map((body) => ({ body })), fc.constantFrom<Record<string, unknown>>({ method: 'put' }, { method: 'delete' }, { method: 'get' }, { retry: {} }, { timeout: 'PT5S', body: '.data' })),
});

const RUNS = Number(process.env.MESHFLOW_DIFFERENTIAL_RUNS ?? 150);

describe('generated pipeline flows', () => {
  it('cover every kind the fast path runs', () => {
    const generated = new Set(fc.sample(flowArb, { numRuns: 300, seed: 1 }).flatMap((flow) => flow.steps.map((step) => step.kind)));
    const pipelineKinds = nodeDefinitions.filter((def) => !isSourceDefinition(def) && def.pipeline).map((def) => def.kind);
    expect([...generated].sort()).toEqual([...pipelineKinds].sort());
  });

  it('make the same decision and send the same request both ways', async () => {
    await fc.assert(
      fc.asyncProperty(flowArb, eventArb, async ({ steps, target }, event) => {
        const { fast, slow } = await bothWays(steps, event, target);
        expect(fast).toEqual(slow);
      }),
      // Bounded for a loaded 2-core machine; MESHFLOW_DIFFERENTIAL_RUNS explores further by hand.
      { numRuns: RUNS },
    );
  }, 120_000 + RUNS * 100);
});
