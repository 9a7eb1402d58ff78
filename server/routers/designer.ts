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
import { JqEvaluationError, runJqAsync, type JqValue } from '@/runtime/expressions/jq';
import type { WorkflowDocument } from '@/runtime/engine/types';
import { env } from '../env';
import { studioDryRun } from '../services/dry-run';
import { schemasForGraph, webhookUrls } from '../services/flows';
import { sampleEvents } from '../services/samples';
import { editorProcedure, router, viewerProcedure, type Context } from '../trpc';


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

export type { NodeRunRecord, WouldBeRequest } from '@/runtime/events/dry-run';

/**
 * The unsaved graph compiled and dry-run (services/dry-run.ts): stubbed calls unless the user
 * calls real targets, `$secrets` from the secret store, every secret value masked.
 */
async function testRun(ctx: Pick<Context, 'db' | 'secretKey'>, input: z.infer<typeof testRunInput>) {
  const compiled = compile(input.graph);
  if (!compiled.document || hasErrors(compiled.diagnostics)) return { ok: false as const, diagnostics: compiled.diagnostics };
  const document = compiled.document as unknown as WorkflowDocument;
  const nodeIds = new Set(((input.graph as { nodes?: { id?: unknown }[] }).nodes ?? []).map((n) => String(n.id)));
  const result = await studioDryRun(ctx, document, input.event, { nodeIds, stubs: input.stubs, callRealTargets: input.callRealTargets });
  return {
    ok: true as const,
    status: result.status,
    output: result.output,
    error: result.error,
    filtered: result.filtered,
    nodes: result.nodes,
    diagnostics: compiled.diagnostics,
  };
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
