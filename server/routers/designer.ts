/**
 * What only the flow designer needs: sample events from the catalog, test runs of an unsaved
 * graph in the engine in this process (nothing deployed, nothing stored), and the live status
 * of a deployed flow.
 *
 * A test run is safe by default: every external call (HTTP targets, `call: http`, broker
 * publishes) answers with a stub and the would-be request is shown instead, unless the user
 * ticks "call real targets". The source's own filter (the event type a webhook or broker
 * source accepts) applies first, as it does in the worker.
 */
import { z } from 'zod';
import { compile } from '@/runtime/compiler/compile';
import { hasErrors } from '@/runtime/compiler/diagnostics';
import { runWorkflow } from '@/runtime/engine/runner';
import { JqEvaluationError, loadJqRuntime, runJqAsync, withTotalBudget, type JqValue } from '@/runtime/expressions/jq';
import { fetchHttp } from '@/runtime/engine/host/node-ports';
import { sandboxSettings } from '@/runtime/engine/host/sandbox-settings';
import { ProcessScriptRunner } from '@/runtime/engine/host/script-runner';
import type { CloudEvent, Json, WorkflowDocument } from '@/runtime/engine/types';
import type { AsyncApiPort, HttpPort, LifecyclePort } from '@/runtime/engine/ports';
import { BrokerPublishPort } from '@/runtime/connectors/publish-port';
import { compileIngressFilters, firstMiss } from '@/runtime/events/subscriptions';
import type { CloudEventRecord } from '@/runtime/events/cloudevent';
import { workflowTrigger } from '@/runtime/worker/workflows/triggers';
import { env } from '../env';
import { schemasForGraph, webhookUrls } from '../services/flows';
import { sampleEvents } from '../services/samples';
import { resolveSecrets, secretsMasker } from '../services/secrets';
import { editorProcedure, router, viewerProcedure, type Context } from '../trpc';

const TEST_RUN_TIMEOUT_MS = 15_000;
/** jq time a whole test run may use, in expression budgets (MESHFLOW_EXPRESSION_TIMEOUT_MS). */
const TEST_RUN_JQ_BUDGETS = 3;

const testRunInput = z.object({
  graph: z.unknown(),
  event: z.record(z.string(), z.unknown()),
  /** Node ids whose HTTP calls answer with a stub even when real targets are called. */
  stubs: z.array(z.string()).default([]),
  /** Let external calls go out for real; by default each answers with a stub and shows what it would have sent. */
  callRealTargets: z.boolean().default(false),
});

const evaluateInput = z.object({
  expression: z.string().min(1, 'an expression').max(10_000, 'at most 10 000 characters'),
  /** What the expression reads as `.`: the sample event, or a node's input from the last test run. */
  input: z.unknown(),
});

/**
 * One jq expression on one input, for the inspector's inline result. jq-wasm runs here rather
 * than in the browser: the studio's bundle stays free of a megabyte of WebAssembly, and the
 * result is the engine's own jq (same build, same error messages). `$variables` are unbound:
 * a flow's context only exists in a run.
 */
async function evaluate(input: z.infer<typeof evaluateInput>) {
  try {
    // Off the event loop and within the expression budget: a slow expression ends with an error, other requests go on.
    return { ok: true as const, outputs: await runJqAsync(input.expression, (input.input ?? null) as JqValue) };
  } catch (error) {
    if (error instanceof JqEvaluationError) return { ok: false as const, error: error.message };
    throw error;
  }
}

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

/** Why the source would not take this event (its type filter), as the worker would record it; undefined when it would. */
async function sourceMiss(document: unknown, event: Record<string, unknown>) {
  const trigger = workflowTrigger(document);
  if (!trigger?.filter) return undefined;
  const filters = await compileIngressFilters([{ task: trigger.task ?? 'schedule', source: true, filter: trigger.filter }]);
  return await firstMiss(filters, event as CloudEventRecord);
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
 * `$secrets` holds the user-defined secrets the document's `use.secrets` names, from the
 * secret store (never this process's environment); every secret value in the result is masked.
 */
async function testRun(ctx: Pick<Context, 'db' | 'secretKey'>, input: z.infer<typeof testRunInput>) {
  const compiled = compile(input.graph);
  if (!compiled.document || hasErrors(compiled.diagnostics)) return { ok: false as const, diagnostics: compiled.diagnostics };
  const document = compiled.document as unknown as WorkflowDocument;
  const nodeIds = new Set(((input.graph as { nodes?: { id?: unknown }[] }).nodes ?? []).map((n) => String(n.id)));
  const stubs = new Set(input.stubs);
  const nodes: Record<string, NodeRunRecord> = {};
  const miss = await sourceMiss(compiled.document, input.event);
  if (miss) {
    nodes[miss.task] = { status: 'filtered', input: input.event, error: { title: 'Filtered by the source', detail: miss.reason } };
    return { ok: true as const, status: 'filtered', output: undefined, error: undefined, filtered: miss, nodes, diagnostics: compiled.diagnostics };
  }
  const stubbed = (nodeId: string | undefined) => !input.callRealTargets || (nodeId !== undefined && stubs.has(nodeId));
  const recordStub = (request: WouldBeRequest) => {
    const nodeId = current ?? 'flow';
    const record = nodes[nodeId];
    nodes[nodeId] = { ...record, status: 'stubbed', requests: [...(record?.requests ?? []), request] };
  };
  // The engine's lifecycle events carry outputs, not inputs: a task's input is what the task before it produced.
  let lastOutput: unknown = input.event;
  let current: string | undefined;

  const lifecycle: LifecyclePort = {
    publish(event: CloudEvent) {
      const data = (event.data ?? {}) as { task?: string; output?: unknown; error?: NodeRunRecord['error']; skipped?: boolean };
      const nodeId = data.task === undefined ? undefined : nodeOfRef(data.task, nodeIds);
      if (!nodeId) return;
      const kind = event.type.replace(/^io\.serverlessworkflow\.task\./, '').replace(/\.v1$/, '');
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
      if (!stubbed(current)) return fetchHttp.request(request, signal);
      const wouldBe = { method: request.method, url: request.url, headers: request.headers, body: decodeBody(request.body) };
      recordStub(wouldBe);
      const echo = { stubbed: true, ...wouldBe };
      return { status: 200, headers: { 'content-type': 'application/json' }, body: new TextEncoder().encode(JSON.stringify(echo)) };
    },
  };
  const brokers = new BrokerPublishPort();
  const asyncapi: AsyncApiPort = {
    document: (reference) => brokers.document(reference),
    async publish(request, signal) {
      await lifecycleSettled();
      if (!stubbed(current)) return brokers.publish(request);
      const server = (request.server ?? {}) as { variables?: { url?: unknown; channel?: unknown } };
      const channel = request.channel ?? server.variables?.channel;
      const message = (request.message ?? {}) as { payload?: { data?: unknown }; headers?: unknown };
      recordStub({
        method: 'PUBLISH',
        url: `${String(server.variables?.url ?? request.protocol ?? 'broker')}${channel === undefined ? '' : ` → ${String(channel)}`}`,
        headers: (message.headers ?? {}) as Record<string, string>,
        body: message.payload?.data,
      });
      if (signal.aborted) throw new Error('test run ended');
    },
    subscribe() {
      throw new Error('test runs do not subscribe to brokers; deploy the flow to consume from one');
    },
  };
  // Scripts never run in this process: only in a locked-down child process, and only where an administrator enabled them.
  const settings = sandboxSettings(process.env);
  const scripts =
    settings.MESHFLOW_SCRIPTS === 'enabled' ? new ProcessScriptRunner({ timeoutMs: settings.MESHFLOW_SCRIPT_TIMEOUT_MS, memoryMb: settings.MESHFLOW_SCRIPT_MEMORY_MB }) : undefined;
  // Each jq call has its own budget; together they may hold the studio's thread for a few budgets at most.
  const jq = withTotalBudget(await loadJqRuntime(), settings.MESHFLOW_EXPRESSION_TIMEOUT_MS * TEST_RUN_JQ_BUDGETS, 'this test run');
  try {
    const result = await runWorkflow(document, input.event as Json, {
      jq,
      timeoutMs: TEST_RUN_TIMEOUT_MS,
      ports: { http, lifecycle, asyncapi, secrets: { resolve: (names) => resolveSecrets(ctx.db, ctx.secretKey, names) }, ...(scripts ? { scripts } : {}) },
    });
    const mask = await secretsMasker(ctx.db, ctx.secretKey);
    return {
      ok: true as const,
      status: result.status as string,
      output: mask('output' in result ? (result.output as unknown) : undefined),
      error: mask('error' in result ? (result.error as unknown) : undefined),
      filtered: undefined,
      nodes: mask(nodes),
      diagnostics: compiled.diagnostics,
    };
  } finally {
    await brokers.close();
  }
}

export const designerRouter = router({
  /** Samples for the test panel and the inspector's previews: catalog examples and the newest captured event of each type. */
  sampleEvents: viewerProcedure.query(({ ctx }) => sampleEvents(ctx.db)),

  /** The latest catalog schema of each event type these sources consume, for type inference and completion in the canvas. */
  eventSchemas: viewerProcedure
    .input(z.object({ sources: z.array(z.object({ kind: z.string(), eventType: z.string() })).max(200) }))
    .query(({ ctx, input }) => schemasForGraph(ctx.db, { nodes: input.sources.map((s) => ({ kind: s.kind, config: { eventType: s.eventType } })) })),

  // Editors only, as test runs. jq runs in a worker thread within its time and memory budget.
  evaluate: editorProcedure.input(evaluateInput).mutation(({ input }) => evaluate(input)),

  testRun: editorProcedure.input(testRunInput).mutation(({ ctx, input }) => testRun(ctx, input)),

  /** What the canvas shows of a live flow: its version, webhook URLs, events in and failures. */
  liveStatus: viewerProcedure.input(z.object({ flowId: z.string().uuid('must be a flow id') })).query(async ({ ctx, input }) => {
    const deployment = await ctx.db.deployment.findFirst({
      where: { flowId: input.flowId, status: 'active' },
      orderBy: { createdAt: 'desc' },
      include: { flowVersion: { select: { version: true, dslYaml: true } } },
    });
    if (!deployment) return { live: false as const };
    const e = env();
    const webhooks = webhookUrls(deployment.flowVersion.dslYaml, e.MESHFLOW_WORKER_PUBLIC_URL ?? e.MESHFLOW_WORKER_URL);
    const ingress = webhooks.map((url) => `hook:${decodeURIComponent(url.split('/hooks/')[1] ?? '')}`);
    const [eventsIn, failures] = await Promise.all([
      ingress.length > 0 ? ctx.db.event.count({ where: { ingress: { in: ingress }, receivedAt: { gte: deployment.createdAt } } }) : Promise.resolve(0),
      ctx.db.deadLetter.count({ where: { flowId: input.flowId, createdAt: { gte: deployment.createdAt } } }),
    ]);
    return { live: true as const, version: deployment.flowVersion.version, since: deployment.createdAt, webhooks, eventsIn, failures };
  }),
});
