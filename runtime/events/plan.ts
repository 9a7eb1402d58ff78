/**
 * What a deployment asks of the data plane, read from its DSL document in one place
 * (`planFromDocument`): which webhooks it owns, which events it listens to, the filters and
 * transforms between the source and its HTTP target, and how that target is delivered to.
 *
 * A document is a *pipeline* when its tasks are a straight line of filters and transforms
 * ending in one `call: http`: the data plane routes it itself, with filters compiled once.
 * Anything else (branches, loops, waits, several targets, a target that handles its errors
 * other than by retrying them with an inline policy…) is a *workflow* for the engine.
 *
 * Its meaning is the engine's: a task compiled from a node is read through that node's
 * definition (`pipeline`: a filter dialect or a transform), and only while the task is still
 * exactly what the node compiles to; any other task is read as the DSL task it is (a jq
 * `when`, whose errors fail the event as they fail a run). test/unit/events/differential.test.ts
 * runs generated flows both ways and holds the two to the same requests and outcomes.
 *
 * The deployment is read once (runtime/compiler/deployment.ts), with the schema of what the
 * compiler writes under `metadata.meshflow` (runtime/compiler/metadata.ts):
 * `document.metadata.meshflow.sources[]` (kind, id, `connection` with a webhook's
 * path/mode/secret) and each task's kind and node facts. Metadata never changes what a task
 * means: the steps and the target are read from the tasks, so an edit of the metadata alone
 * cannot make the fast path do what the engine would not (a hand-written
 * `metadata.meshflow.transform` is not read). Documents written by hand may add
 * `metadata.meshflow.delivery` to the target: `format`, `orderingKey`, `rateLimit` (events
 * per second) and `maxBackoff` say how the data plane carries the request, and `timeout` how long
 * an attempt may take where the task states no `timeout` of its own. How often a call is tried is
 * never the metadata's: Knative-style `retry`, `backoffPolicy` and `backoffDelay` are not read.
 *
 * Which failures a target retries is the task's too: the compiled HTTP target's `exceptWhen`
 * (runtime/nodes/retry-policy.ts) leaves out statuses that retrying will not change, a
 * `catch.retry` without it retries every failed call, as the engine does (`retryOn`).
 *
 * The studio's HTTP target always states its retry policy; unset, the default one (184 retries,
 * exponential from 1 s; runtime/nodes/retry-policy.ts), and both the engine and this data plane
 * cap a wait at 10 minutes (MAX_RETRY_DELAY_MS), so such a target rides out a day's outage, as
 * EventBridge targets do, on either path alike. A hand-written plain `call: http`, which states
 * no retry, is tried once on both (test/unit/events/differential.test.ts holds them to it).
 */
import { nodeOfTask } from '../compiler/decompile.ts';
import { Deployment } from '../compiler/deployment.ts';
import { tunableDelivery, webhookConnectionSchema } from '../compiler/metadata.ts';
import { durationMs } from '../engine/duration.ts';
import { MAX_RETRY_DELAY_MS } from '../engine/tasks/try.ts';
import type { DataPattern, FilterDefinition, SubscriptionFilter } from '../expressions/filters/index.ts';
import { getNodeDefinition } from '../nodes/index.ts';
import { NOT_RETRIED_WHEN } from '../nodes/retry-policy.ts';
import type { PipelineMeaning } from '../nodes/types.ts';
import type { TransformDefinition } from '../expressions/transforms/index.ts';

export type WebhookMode = 'cloudevents' | 'common' | 'github';

export interface WebhookSource {
  /** The path segment of `/hooks/<id>`. */
  id: string;
  mode: WebhookMode;
  /** Name of the secret (resolved by the worker) that requests must prove they know. */
  secret?: string;
  /** How the secret is proven: an HMAC-SHA256 signature of the body, or the secret itself. */
  auth: 'hmac' | 'shared-secret';
  /** Common mode: the type and source given to events that do not carry their own. */
  eventType?: string;
  eventSource?: string;
  /** Common mode: request header (lower case) → extension attribute it becomes. */
  headers: Record<string, string>;
}

export type DeliveryFormat = 'binary' | 'structured' | 'json';

export interface DeliveryOptions {
  /** Retries after the first attempt (Knative `retry`). */
  retry: number;
  backoffPolicy: 'constant' | 'linear' | 'exponential';
  backoffDelayMs: number;
  /** Longest wait between two attempts, before jitter. */
  maxBackoffMs: number;
  /** Up to this fraction is added to each wait at random, so recovering targets are not hit in lockstep. */
  jitter: number;
  /**
   * Which failures are retried: `transient` ones (network errors, timeouts, 5xx, 404, 408,
   * 409, 429: runtime/nodes/retry-policy.ts), or `any` failed call, as a task's `catch.retry`
   * without the compiled `exceptWhen` retries every communication error in the engine.
   */
  retryOn: 'transient' | 'any';
  timeoutMs: number;
  format: DeliveryFormat;
  /** Attribute whose value orders deliveries: same value, one at a time, in arrival order. */
  orderingKey?: string;
  /** Most events per second the target receives (runtime/events/rate-limit.ts); more wait their turn. */
  rateLimit?: number;
}

export interface HttpTarget {
  task: string;
  url: string;
  method: string;
  headers: Record<string, string>;
  delivery: DeliveryOptions;
}

export type PipelineStep =
  | { kind: 'filter'; task: string; filter: FilterDefinition; onError?: 'fault' }
  | { kind: 'transform'; task: string; transform: TransformDefinition; parseJson?: boolean };

export interface PipelinePlan {
  kind: 'pipeline';
  /** Ingress channels it listens on (`events`, `hook:<id>`), or every channel. */
  ingress: string[] | 'any';
  /** Applied at ingress, before an event is queued: the listen filter and leading filter tasks. */
  filter: FilterDefinition | undefined;
  /** The same filters one by one, each with the task it comes from, to say which one dropped an event. */
  ingressFilters?: IngressFilter[];
  /** Applied at delivery, in order: transforms, and the filters that follow one. */
  steps: PipelineStep[];
  target: HttpTarget;
  hooks: WebhookSource[];
}

export interface IngressFilter {
  /** The task (node id), or the source's id for the event filter of `schedule.on` / a leading `listen`. */
  task: string;
  /** Whether it is the source's own filter (the event type a webhook or broker source accepts). */
  source: boolean;
  filter: FilterDefinition;
  /**
   * `fault`: an error evaluating it fails the event (a jq `when` in the engine). At ingress such
   * an event is queued, and the same filter, kept as the first step, fails it at delivery.
   */
  onError?: 'fault';
}

export interface WorkflowPlan {
  kind: 'workflow';
  reason: string;
  hooks: WebhookSource[];
}

export type DeploymentPlan = PipelinePlan | WorkflowPlan;

export class PlanError extends Error {}

export const DEFAULT_DELIVERY: DeliveryOptions = {
  retry: 184,
  backoffPolicy: 'exponential',
  backoffDelayMs: 1000,
  maxBackoffMs: MAX_RETRY_DELAY_MS,
  jitter: 0.2,
  retryOn: 'transient',
  timeoutMs: 10_000,
  format: 'binary',
};

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const EXPRESSION = /^\s*\$\{([\s\S]*)\}\s*$/;

function expression(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  return EXPRESSION.exec(value)?.[1]?.trim();
}

function readHooks(deployment: Deployment, listenType: string | undefined): WebhookSource[] {
  const hooks: WebhookSource[] = [];
  for (const source of deployment.sources) {
    if (bindingOf(source.kind) !== 'http-webhook') continue;
    const parsed = webhookConnectionSchema.safeParse(source.connection);
    if (!parsed.success) continue;
    const c = parsed.data;
    const mode = c.mode === 'json' || c.mode === 'common' ? 'common' : c.mode === 'github' ? 'github' : 'cloudevents';
    const headers = c.headers ? Object.fromEntries(Object.entries(c.headers).map(([h, a]) => [h.toLowerCase(), String(a)])) : {};
    hooks.push({
      id: c.path,
      mode,
      ...(c.secret ? { secret: c.secret } : {}),
      auth: c.auth === 'shared-secret' ? 'shared-secret' : 'hmac',
      ...(c.eventType !== undefined ? { eventType: c.eventType } : listenType ? { eventType: listenType } : {}),
      ...(c.eventSource !== undefined ? { eventSource: c.eventSource } : {}),
      headers,
    });
  }
  return hooks;
}

/** `with` of the DSL's event filter: strings match exactly, anything else as a data pattern value. */
export function withToFilter(attributes: Obj): SubscriptionFilter {
  const exact: Record<string, string> = {};
  const pattern: Obj = {};
  for (const [name, value] of Object.entries(attributes)) {
    if (typeof value === 'string') exact[name] = value;
    else pattern[name] = isObj(value) ? value : [value];
  }
  const parts: SubscriptionFilter[] = [];
  if (Object.keys(exact).length > 0) parts.push({ exact });
  if (Object.keys(pattern).length > 0) parts.push({ pattern: pattern as DataPattern });
  return parts.length === 1 ? parts[0]! : { all: parts };
}

/** The event consumption strategy of `schedule.on` or a leading `listen.to`: one filter, or any of several. */
export function readListen(on: unknown): { filter: SubscriptionFilter | undefined; type: string | undefined } | string {
  if (!isObj(on)) return 'the event consumption strategy is not an object';
  if (isObj(on.one)) {
    const attrs = isObj(on.one.with) ? on.one.with : {};
    return { filter: Object.keys(attrs).length ? withToFilter(attrs) : undefined, type: typeof attrs.type === 'string' ? attrs.type : undefined };
  }
  if (Array.isArray(on.any)) {
    const filters = on.any.map((f) => (isObj(f) && isObj(f.with) ? withToFilter(f.with) : undefined));
    if (filters.some((f) => f === undefined) || filters.length === 0) return { filter: undefined, type: undefined };
    return { filter: { any: filters as SubscriptionFilter[] }, type: undefined };
  }
  return 'it correlates several events (schedule.on.all / until), which needs the workflow engine';
}

/**
 * The meaning the node a task was compiled from gives it as a pipeline step (its definition's
 * `pipeline`), when the task is still exactly what that node compiles to; else undefined, and
 * the task is read as the DSL task it is.
 */
function nodeMeaning(task: Obj): PipelineMeaning | undefined {
  const node = nodeOfTask(task);
  return node?.def.pipeline?.(node.config);
}

/** A `switch` filter: the dialect its node defines, or its jq condition (whose errors fail the event, as in the engine). */
function readFilterTask(task: Obj): { filter: FilterDefinition; onError?: 'fault' } | undefined {
  if (!Array.isArray(task.switch) || task.switch.length !== 2) return undefined;
  const [match, otherwise] = task.switch as unknown[];
  if (!isObj(match) || !isObj(match.match) || !isObj(otherwise) || !isObj(otherwise.otherwise)) return undefined;
  if (otherwise.otherwise.then !== 'end' && otherwise.otherwise.then !== 'exit') return undefined;
  const meaning = nodeMeaning(task);
  if (meaning?.role === 'filter') return { filter: meaning.filter, ...(meaning.onError === 'fault' ? { onError: 'fault' as const } : {}) };
  const jq = expression(match.match.when);
  return jq === undefined ? undefined : { filter: { jq }, onError: 'fault' };
}

function literalOrJq(value: unknown): string {
  return expression(value) ?? JSON.stringify(value);
}

function readTransformTask(task: Obj): { transform: TransformDefinition; parseJson?: boolean } | undefined {
  if (!isObj(task.set)) return undefined;
  const meaning = nodeMeaning(task);
  if (meaning?.role === 'transform') return { transform: meaning.transform, ...(meaning.parseJson ? { parseJson: true } : {}) };
  const set = task.set;
  const lifted = isObj(task.output) ? expression(task.output.as) : undefined;
  if (lifted !== undefined) {
    // The compiler's shape for "replace the event with one value": set it under a name, lift it out.
    const name = /^\.([A-Za-z_][A-Za-z0-9_]*)$/.exec(lifted)?.[1];
    if (name === undefined || Object.keys(set).length !== 1 || !(name in set)) return undefined;
    return { transform: { kind: 'jq', expression: literalOrJq(set[name]) } };
  }
  if (task.output !== undefined) return undefined;
  const fields = Object.entries(set).map(([key, value]) => `${JSON.stringify(key)}: (${literalOrJq(value)})`);
  return { transform: { kind: 'jq', expression: `{${fields.join(', ')}}` } };
}

function durationOption(value: unknown, what: string): number {
  try {
    return durationMs(value, what);
  } catch (error) {
    throw new PlanError(`${what}: ${(error as Error).message}`);
  }
}

function readDelivery(task: Obj): DeliveryOptions {
  const delivery: DeliveryOptions = { ...DEFAULT_DELIVERY };
  if (isObj(task.timeout)) delivery.timeoutMs = durationOption(task.timeout.after, 'timeout.after');
  // The http-request node wraps its call in try/catch with a DSL retry policy.
  const retry = isObj(task.catch) && isObj(task.catch.retry) ? task.catch.retry : undefined;
  if (retry) {
    if (retry.delay !== undefined) delivery.backoffDelayMs = durationOption(retry.delay, 'catch.retry.delay');
    const backoff = isObj(retry.backoff) ? Object.keys(retry.backoff)[0] : undefined;
    if (backoff === 'constant' || backoff === 'linear' || backoff === 'exponential') delivery.backoffPolicy = backoff;
    const count = isObj(retry.limit) && isObj(retry.limit.attempt) ? retry.limit.attempt.count : undefined;
    if (typeof count === 'number') delivery.retry = count;
    // The compiled HTTP target states which statuses it does not retry; without that, the engine retries them all.
    delivery.retryOn = isObj(task.catch) && task.catch.exceptWhen === NOT_RETRIED_WHEN ? 'transient' : 'any';
  } else {
    // A call the task does not retry is tried once, as the engine runs it (the studio's HTTP target
    // always states its policy, the default one included: runtime/nodes/retry-policy.ts).
    delivery.retry = 0;
  }
  // What the task decides itself (how often, how far apart, how long an attempt) is left out: the task wins.
  const own = tunableDelivery(task);
  if (own) {
    if (own.maxBackoff !== undefined) delivery.maxBackoffMs = durationOption(own.maxBackoff, 'metadata.meshflow.delivery.maxBackoff');
    if (own.timeout !== undefined) delivery.timeoutMs = durationOption(own.timeout, 'metadata.meshflow.delivery.timeout');
    if (own.format === 'binary' || own.format === 'structured' || own.format === 'json') delivery.format = own.format;
    if (typeof own.orderingKey === 'string' && own.orderingKey) delivery.orderingKey = own.orderingKey;
    if (own.rateLimit !== undefined) {
      if (typeof own.rateLimit !== 'number' || !Number.isInteger(own.rateLimit) || own.rateLimit < 1) {
        throw new PlanError(`metadata.meshflow.delivery.rateLimit: expected a whole number of events per second (1 or more), got ${JSON.stringify(own.rateLimit)}`);
      }
      delivery.rateLimit = own.rateLimit;
    }
  }
  return delivery;
}

const COMMUNICATION_ERROR = 'https://serverlessworkflow.io/spec/1.0.0/errors/communication';
const onlyKeys = (value: Obj, keys: readonly string[]) => Object.keys(value).every((key) => keys.includes(key));

/**
 * Why the data plane cannot handle a `try` target's errors as the engine would, if it cannot.
 * It retries a failed delivery by the task's inline policy (delay, backoff, attempt count),
 * every failed call or, under the compiled `exceptWhen`, only those worth retrying: any other
 * `catch` (handling tasks, a named or conditional policy, another condition, other error types,
 * or a catch without a retry, which the engine takes as handled and ends the run) is the engine's.
 */
function catchProblem(name: string, task: Obj): string | undefined {
  const handled = task.catch;
  const engineOnly = `task ${name} handles its errors in a way only the workflow engine does`;
  if (!isObj(handled) || !onlyKeys(handled, ['errors', 'exceptWhen', 'retry'])) return engineOnly;
  // The one condition the data plane knows: the HTTP target's "not a status retrying changes" (retry-policy.ts).
  if (handled.exceptWhen !== undefined && handled.exceptWhen !== NOT_RETRIED_WHEN) return engineOnly;
  const errors = handled.errors;
  if (errors !== undefined && !(isObj(errors) && onlyKeys(errors, ['with']) && isObj(errors.with) && onlyKeys(errors.with, ['type']) && errors.with.type === COMMUNICATION_ERROR)) return engineOnly;
  const retry = handled.retry;
  if (!isObj(retry) || !onlyKeys(retry, ['delay', 'backoff', 'limit'])) return engineOnly;
  const limit = retry.limit;
  if (limit !== undefined && !(isObj(limit) && onlyKeys(limit, ['attempt']) && isObj(limit.attempt) && onlyKeys(limit.attempt, ['count']))) return engineOnly;
  return undefined;
}

function readTarget(name: string, task: Obj): { target: HttpTarget; body: TransformDefinition | undefined } | string {
  let call = task;
  if (Array.isArray(task.try)) {
    const inner = task.try.length === 1 && isObj(task.try[0]) ? Object.values(task.try[0])[0] : undefined;
    if (!isObj(inner)) return `task ${name} tries more than one call`;
    const problem = catchProblem(name, task);
    if (problem) return problem;
    call = inner;
  }
  if (call.call !== 'http' || !isObj(call.with)) return `task ${name} is not an HTTP call`;
  const args = call.with;
  const endpoint = isObj(args.endpoint) ? args.endpoint : { uri: args.endpoint };
  if (endpoint.authentication !== undefined) return `task ${name} authenticates its call, which the workflow engine does`;
  if (typeof endpoint.uri !== 'string' || expression(endpoint.uri) !== undefined || !/^https?:\/\//.test(endpoint.uri)) {
    return `task ${name} calls a computed or non-HTTP endpoint`;
  }
  const headers: Record<string, string> = {};
  if (isObj(args.headers)) {
    for (const [key, value] of Object.entries(args.headers)) {
      if (typeof value !== 'string' || expression(value) !== undefined) return `task ${name} computes header ${key}`;
      headers[key.toLowerCase()] = value;
    }
  }
  // Without a `body` the engine sends none (a GET or DELETE from the http-request node): a null payload, which is no body.
  const body: TransformDefinition | undefined = args.body === undefined ? { kind: 'constant', value: null } : literalOrJq(args.body) === '.' ? undefined : { kind: 'jq', expression: literalOrJq(args.body) };
  return {
    target: { task: name, url: endpoint.uri, method: String(args.method ?? 'post').toUpperCase(), headers, delivery: readDelivery(task) },
    body,
  };
}

/** The plan of a deployment (or a parsed DSL document); throws PlanError when a pipeline's options are malformed. */
export function planFromDocument(input: unknown): DeploymentPlan {
  const deployment = Deployment.of(input);
  if (!deployment.isDsl) return { kind: 'workflow', reason: 'not a DSL document', hooks: [] };
  const doc = deployment.document;
  const tasks = Array.isArray(doc.do) ? doc.do : [];
  const entries = tasks.map((t) => (isObj(t) ? Object.entries(t)[0] : undefined));
  let listen: ReturnType<typeof readListen> = { filter: undefined, type: undefined };
  let first = 0;
  const leading = entries[0]?.[1];
  const listenTask = sourceTask(deployment, isObj(leading) && isObj(leading.listen) ? entries[0]![0] : undefined);
  if (isObj(doc.schedule) && doc.schedule.on !== undefined) listen = readListen(doc.schedule.on);
  else if (isObj(leading) && isObj(leading.listen)) {
    listen = readListen(leading.listen.to);
    first = 1;
  }
  const hooks = readHooks(deployment, typeof listen === 'string' ? undefined : listen.type);
  const workflow = (reason: string): WorkflowPlan => ({ kind: 'workflow', reason, hooks });
  if (typeof listen === 'string') return workflow(listen);
  // `$secrets` is bound, checked and masked by the engine only; the fast path has no secrets.
  if (isObj(doc.use) && Array.isArray(doc.use.secrets) && doc.use.secrets.length > 0) return workflow('it reads secrets (use.secrets)');
  if (!isObj(doc.schedule) && first === 0) return workflow('it is not started by events');
  if (isObj(doc.schedule) && (doc.schedule.every !== undefined || doc.schedule.cron !== undefined || doc.schedule.after !== undefined)) {
    return workflow('it is started by its schedule (every, cron or after)');
  }

  const steps: PipelineStep[] = [];
  let target: HttpTarget | undefined;
  for (let i = first; i < entries.length; i++) {
    const entry = entries[i];
    if (!entry || !isObj(entry[1])) return workflow(`task ${i} is malformed`);
    const [name, task] = entry as [string, Obj];
    if (target) return workflow(`task ${name} follows the HTTP target`);
    const next = entries[i + 1]?.[0];
    if (task.then !== undefined && task.then !== next && !(next === undefined && task.then === 'end')) return workflow(`task ${name} jumps`);
    if (task.if !== undefined) return workflow(`task ${name} is conditional`);
    const filter = readFilterTask(task);
    if (filter) {
      const match = (task.switch as Obj[])[0]!.match as Obj;
      if (match.then !== next && match.then !== 'continue') return workflow(`task ${name} branches`);
      steps.push({ kind: 'filter', task: name, ...filter });
      continue;
    }
    const transform = readTransformTask(task);
    if (transform) {
      steps.push({ kind: 'transform', task: name, ...transform });
      continue;
    }
    const read = readTarget(name, task);
    if (typeof read === 'string') return workflow(read);
    if (read.body !== undefined) steps.push({ kind: 'transform', task: `${name}.body`, transform: read.body });
    target = read.target;
  }
  if (!target) return workflow('it has no HTTP target');

  const leadingFilters: SubscriptionFilter[] = listen.filter ? [listen.filter] : [];
  const ingressFilters: IngressFilter[] = listen.filter ? [{ task: listenTask, source: true, filter: listen.filter }] : [];
  while (steps[0]?.kind === 'filter') {
    const step = steps[0];
    if (step.onError === 'fault') {
      // Filtered at ingress too, but kept as a step: an event it fails on is queued and fails at delivery.
      ingressFilters.push({ task: step.task, source: false, filter: step.filter, onError: 'fault' });
      break;
    }
    steps.shift();
    ingressFilters.push({ task: step.task, source: false, filter: step.filter });
    if (Array.isArray(step.filter)) leadingFilters.push(...step.filter);
    else leadingFilters.push(step.filter);
  }
  return {
    kind: 'pipeline',
    ingress: readIngress(deployment),
    filter: leadingFilters.length === 0 ? undefined : leadingFilters.length === 1 ? leadingFilters[0] : leadingFilters,
    ingressFilters,
    steps,
    target,
    hooks,
  };
}

/**
 * The name an event filter of `schedule.on` or a leading `listen` is reported under: the
 * document's one source (the node the user drew), else the listen task, else `schedule`.
 */
export function sourceTask(input: unknown, listenTask: string | undefined): string {
  const { sources } = Deployment.of(input);
  if (sources.length === 1) return sources[0]!.id;
  return listenTask ?? 'schedule';
}

/**
 * Ingress channels a document's sources listen on (`events`, `hook:<id>`…), or every channel
 * when it names none. A plain DSL `schedule.on` opened in the studio (kind `dsl-schedule`)
 * listens to the whole mesh, as it did before it was opened.
 */
export function readIngress(input: unknown): string[] | 'any' {
  const { sources } = Deployment.of(input);
  if (sources.length === 0) return 'any';
  if (sources.some((source) => getNodeDefinition(source.kind)?.generic)) return 'any';
  return sources.map((source) => {
    const system = bindingOf(source.kind);
    if (system === 'cloudevents-http') return 'events';
    if (system === 'http-webhook' && source.connection) return `hook:${String(source.connection.path)}`;
    return `${source.kind}:${source.id}`;
  });
}

/** What a source node says it binds to (its definition's `binding`), so a new source kind needs no change here. */
function bindingOf(kind: string): string | undefined {
  return getNodeDefinition(kind)?.binding?.system;
}
