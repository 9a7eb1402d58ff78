/**
 * A dry run: one event through one workflow document in this process, nothing stored, with
 * every external call (HTTP, broker publish) answered by a stub and the would-be request
 * recorded per node instead of made — unless the caller lets a node's calls go out for real.
 * The source's own filter (the event type a webhook or broker source accepts) applies first,
 * as it does in the worker.
 *
 * The studio's test run, the "Try on past events" replay and `meshflow test` all run through
 * here, so they agree on what a flow would have sent.
 */
import { runWorkflow } from '../engine/runner.ts';
import type { AsyncApiPort, HttpPort, LifecyclePort, ScriptPort, SecretsPort } from '../engine/ports.ts';
import type { CloudEvent, Json, WorkflowDocument } from '../engine/types.ts';
import type { JqRuntime } from '../expressions/jq.ts';
import { workflowTrigger } from '../runs/triggers.ts';
import type { CloudEventRecord } from './cloudevent.ts';
import { compileIngressFilters, firstMiss } from './subscriptions.ts';

/** A request a stubbed node would have sent: an HTTP request, or a broker publish (method `PUBLISH`). */
export interface WouldBeRequest {
  method: string;
  url: string;
  headers: Record<string, string>;
  body: unknown;
}

export interface NodeRunRecord {
  status: 'completed' | 'skipped' | 'faulted' | 'stubbed' | 'filtered';
  input?: unknown;
  output?: unknown;
  error?: { title?: string; detail?: string; type?: string };
  /** What a stubbed node would have sent, in order. */
  requests?: WouldBeRequest[];
}

/** What a stub answers a node's HTTP call with: by default 200 and an echo of the request. */
export interface StubResponse {
  status?: number;
  body?: unknown;
}

export interface DryRunOptions {
  /** The flow's node ids (task names); by default every task name in the document. */
  nodeIds?: ReadonlySet<string>;
  /** Whether a node's external calls answer with a stub; by default every one does. */
  stubbed?: (nodeId: string | undefined) => boolean;
  /** A node's stub answer (meshflow test's `stubs`). */
  stubResponse?: (nodeId: string | undefined) => StubResponse | undefined;
  /** The real ports, for nodes that are not stubbed. */
  realHttp?: HttpPort;
  realAsyncApi?: AsyncApiPort;
  secrets?: SecretsPort;
  scripts?: ScriptPort;
  jq?: JqRuntime;
  timeoutMs?: number;
}

export interface DryRunResult {
  /** `filtered` when the source would not take the event; otherwise the run's end state. */
  status: string;
  output?: unknown;
  error?: unknown;
  /** Why the source would not take the event. */
  filtered?: { task: string; reason: string };
  nodes: Record<string, NodeRunRecord>;
  /** Every request the run would have sent, in order, with the node that sent it. */
  requests: (WouldBeRequest & { node: string })[];
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Every task name in a document (`do`, `try`, `catch.do`, fork branches, for-each bodies): what lifecycle refs name. */
export function taskNames(document: unknown): Set<string> {
  const names = new Set<string>();
  // A task compiled from a canvas node carries metadata.meshflow; the tasks nested in it without
  // any (the HTTP target's inner `request`) are that node's own parts, not nodes of their own.
  const isNode = (task: unknown) => isObj(task) && isObj(task.metadata) && isObj(task.metadata.meshflow);
  const walk = (value: unknown, key?: string, inNode = false) => {
    if (Array.isArray(value)) {
      for (const item of value) {
        if ((key === 'do' || key === 'try' || key === 'branches') && isObj(item)) {
          for (const [name, task] of Object.entries(item)) if (!inNode || isNode(task)) names.add(name);
        }
        walk(item, undefined, inNode);
      }
    } else if (isObj(value)) {
      const here = inNode || isNode(value);
      for (const [k, v] of Object.entries(value)) walk(v, k, here);
    }
  };
  walk(isObj(document) ? { do: document.do } : undefined);
  return names;
}

/** Why the source would not take this event (its type filter), as the worker would record it; undefined when it would. */
export async function sourceMiss(document: unknown, event: Record<string, unknown>) {
  const trigger = workflowTrigger(document);
  if (!trigger?.filter) return undefined;
  const filters = await compileIngressFilters([{ task: trigger.task ?? 'schedule', source: true, filter: trigger.filter }]);
  return firstMiss(filters, event as CloudEventRecord);
}

/** The node a task reference (`/do/2/http-request-1/try/0/request`) belongs to: its deepest segment that is a node id. */
function nodeOfRef(ref: string, nodeIds: ReadonlySet<string>): string | undefined {
  return ref
    .split('/')
    .reverse()
    .find((part) => nodeIds.has(part));
}

function decodeBody(body: string | Uint8Array | undefined): unknown {
  if (body === undefined) return undefined;
  const text = typeof body === 'string' ? body : new TextDecoder().decode(body);
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

/**
 * The document a dry run executes: the same, except that its retry policies allow no retry. A
 * test run answers in seconds, so it shows a failing call's outcome after one attempt — the
 * error the deployed flow ends with once its retries are spent — instead of waiting out a
 * backoff that may last a day.
 */
export function withoutRetries(document: WorkflowDocument): WorkflowDocument {
  const once = (policy: unknown) => {
    if (!isObj(policy)) return policy;
    const limit = isObj(policy.limit) ? policy.limit : {};
    const attempt = isObj(limit.attempt) ? limit.attempt : {};
    return { ...policy, limit: { ...limit, attempt: { ...attempt, count: 0 } } };
  };
  const walk = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(walk);
    if (!isObj(value)) return value;
    const copy: Record<string, unknown> = {};
    for (const [key, inner] of Object.entries(value)) {
      const walked = walk(inner);
      // An inline policy under a try task's `catch` (a named one is in use.retries, below).
      copy[key] = key === 'catch' && isObj(walked) && isObj(walked.retry) ? { ...walked, retry: once(walked.retry) } : walked;
    }
    return copy;
  };
  const copy = walk(document) as { use?: { retries?: Record<string, unknown> } };
  if (copy.use?.retries) copy.use.retries = Object.fromEntries(Object.entries(copy.use.retries).map(([name, policy]) => [name, once(policy)]));
  return copy as WorkflowDocument;
}

export async function dryRun(original: WorkflowDocument, event: Record<string, unknown>, options: DryRunOptions = {}): Promise<DryRunResult> {
  const document = withoutRetries(original);
  const nodeIds = options.nodeIds ?? taskNames(document);
  const nodes: Record<string, NodeRunRecord> = {};
  const requests: DryRunResult['requests'] = [];
  const miss = await sourceMiss(document, event);
  if (miss) {
    nodes[miss.task] = { status: 'filtered', input: event, error: { title: 'Filtered by the source', detail: miss.reason } };
    return { status: 'filtered', filtered: { task: miss.task, reason: miss.reason }, nodes, requests };
  }
  const stubbed = (nodeId: string | undefined) => (options.stubbed ? options.stubbed(nodeId) : true);
  const recordStub = (request: WouldBeRequest) => {
    const nodeId = current ?? 'flow';
    const record = nodes[nodeId];
    nodes[nodeId] = { ...record, status: 'stubbed', requests: [...(record?.requests ?? []), request] };
    requests.push({ node: nodeId, ...request });
  };
  // The engine's lifecycle events carry outputs, not inputs: a task's input is what the task before it produced.
  let lastOutput: unknown = event;
  let current: string | undefined;

  const lifecycle: LifecyclePort = {
    publish(e: CloudEvent) {
      const data = (e.data ?? {}) as { task?: string; output?: unknown; error?: NodeRunRecord['error']; skipped?: boolean };
      const nodeId = data.task === undefined ? undefined : nodeOfRef(data.task, nodeIds);
      if (!nodeId) return;
      const kind = e.type.replace(/^io\.serverlessworkflow\.task\./, '').replace(/\.v1$/, '');
      const record = nodes[nodeId];
      if (kind === 'started') {
        current = nodeId;
        if (!record) nodes[nodeId] = { status: 'completed', input: lastOutput };
      } else if (kind === 'completed') {
        const status = data.skipped ? 'skipped' : record?.status === 'stubbed' ? 'stubbed' : 'completed';
        nodes[nodeId] = { ...record, status, output: data.output };
        lastOutput = data.output;
      } else if (kind === 'faulted') {
        nodes[nodeId] = { ...record, status: 'faulted', ...(data.error ? { error: data.error } : {}) };
      }
    },
  };
  // The engine sends lifecycle events a microtask late; waiting a turn lets `current` name the calling task.
  const lifecycleSettled = () => new Promise<void>((resolve) => setImmediate(resolve));
  const http: HttpPort = {
    async request(request, signal) {
      await lifecycleSettled();
      if (!stubbed(current)) {
        if (!options.realHttp) throw new Error('real calls are not available in this run');
        return options.realHttp.request(request, signal);
      }
      const wouldBe = { method: request.method, url: request.url, headers: request.headers, body: decodeBody(request.body) };
      recordStub(wouldBe);
      const answer = options.stubResponse?.(current);
      const body = answer && 'body' in answer ? answer.body : { stubbed: true, ...wouldBe };
      return { status: answer?.status ?? 200, headers: { 'content-type': 'application/json' }, body: new TextEncoder().encode(JSON.stringify(body ?? null)) };
    },
  };
  const asyncapi: AsyncApiPort = {
    document: (reference) => options.realAsyncApi?.document?.(reference),
    async publish(request, signal) {
      await lifecycleSettled();
      if (!stubbed(current) && options.realAsyncApi) return options.realAsyncApi.publish(request, signal);
      const server = (request.server ?? {}) as { variables?: { url?: unknown; channel?: unknown } };
      const channel = request.channel ?? server.variables?.channel;
      const message = (request.message ?? {}) as { payload?: { data?: unknown }; headers?: unknown };
      recordStub({
        method: 'PUBLISH',
        url: `${String(server.variables?.url ?? request.protocol ?? 'broker')}${channel === undefined ? '' : ` → ${String(channel)}`}`,
        headers: (message.headers ?? {}) as Record<string, string>,
        body: message.payload?.data,
      });
      if (signal.aborted) throw new Error('dry run ended');
    },
    subscribe() {
      throw new Error('dry runs do not subscribe to brokers; deploy the flow to consume from one');
    },
  };
  const result = await runWorkflow(document, event as Json, {
    ...(options.jq ? { jq: options.jq } : {}),
    ...(options.timeoutMs ? { timeoutMs: options.timeoutMs } : {}),
    ports: { http, lifecycle, asyncapi, ...(options.secrets ? { secrets: options.secrets } : {}), ...(options.scripts ? { scripts: options.scripts } : {}) },
  });
  return {
    status: result.status as string,
    output: 'output' in result ? (result.output as unknown) : undefined,
    error: 'error' in result ? (result.error as unknown) : undefined,
    nodes,
    requests,
  };
}

/** What a version did with an event, in short: the outcome, why, and what it would send. */
export interface ReplaySide {
  outcome: 'filtered' | 'faulted' | 'delivered' | 'nothing sent' | 'cancelled';
  /** Why: the source filter's reason, the fault, or the filters that dropped it. */
  reason?: string;
  requests: (WouldBeRequest & { node: string })[];
}

export type ReplayChange =
  | { change: 'added'; node: string; request: WouldBeRequest }
  | { change: 'removed'; node: string; request: WouldBeRequest }
  | { change: 'changed'; node: string; fields: { path: string; live: unknown; candidate: unknown }[] }
  | { change: 'outcome'; live: ReplaySide['outcome']; candidate: ReplaySide['outcome']; reason?: string };

/** A dry run's result in short. A filter node is a switch that ends the run, so "nothing sent" names where it ended. */
export function sideOf(result: DryRunResult): ReplaySide {
  if (result.status === 'filtered') return { outcome: 'filtered', reason: result.filtered?.reason ?? 'the source does not take it', requests: [] };
  if (result.status === 'faulted') {
    const error = (result.error ?? {}) as { title?: string; detail?: string };
    return { outcome: 'faulted', reason: [error.title, error.detail].filter(Boolean).join(': ') || 'the run faulted', requests: result.requests };
  }
  if (result.status === 'cancelled') return { outcome: 'cancelled', reason: 'the run was cancelled', requests: result.requests };
  if (result.requests.length > 0) return { outcome: 'delivered', requests: result.requests };
  const last = Object.keys(result.nodes).at(-1);
  return { outcome: 'nothing sent', ...(last ? { reason: `the run ended at ${last} without sending anything` } : {}), requests: [] };
}

/** Field-level differences between two JSON values, by path (`body.amount`, `headers.ce-id`). */
export function fieldDiff(live: unknown, candidate: unknown, path = ''): { path: string; live: unknown; candidate: unknown }[] {
  if (JSON.stringify(live) === JSON.stringify(candidate)) return [];
  if (isObj(live) && isObj(candidate)) {
    const keys = [...new Set([...Object.keys(live), ...Object.keys(candidate)])].sort();
    return keys.flatMap((k) => fieldDiff(live[k], candidate[k], path ? `${path}.${k}` : k));
  }
  if (Array.isArray(live) && Array.isArray(candidate) && live.length === candidate.length) {
    return live.flatMap((v, i) => fieldDiff(v, candidate[i], `${path}[${i}]`));
  }
  return [{ path: path || '.', live, candidate }];
}

/** Requests are paired by the node that sends them and their order within it. */
export function diffSides(live: ReplaySide, candidate: ReplaySide): ReplayChange[] {
  const changes: ReplayChange[] = [];
  if (live.outcome !== candidate.outcome) {
    const reason = candidate.reason ?? live.reason;
    changes.push({ change: 'outcome', live: live.outcome, candidate: candidate.outcome, ...(reason ? { reason } : {}) });
  }
  const keyed = (requests: ReplaySide['requests']) => {
    const count = new Map<string, number>();
    return new Map(
      requests.map((r) => {
        const n = count.get(r.node) ?? 0;
        count.set(r.node, n + 1);
        return [`${r.node}#${n}`, r] as const;
      }),
    );
  };
  const a = keyed(live.requests);
  const b = keyed(candidate.requests);
  const strip = ({ node: _node, ...request }: WouldBeRequest & { node: string }): WouldBeRequest => request;
  for (const [key, request] of a) {
    const other = b.get(key);
    if (!other) changes.push({ change: 'removed', node: request.node, request: strip(request) });
    else {
      const fields = fieldDiff(strip(request), strip(other));
      if (fields.length > 0) changes.push({ change: 'changed', node: request.node, fields });
    }
  }
  for (const [key, request] of b) if (!a.has(key)) changes.push({ change: 'added', node: request.node, request: strip(request) });
  return changes;
}

