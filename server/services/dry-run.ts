/**
 * Dry runs as the studio makes them: the runtime's dry run (runtime/events/dry-run.ts) with
 * the studio's budgets, `$secrets` from the secret store (never this process's environment,
 * every secret value masked in what comes back), scripts only in the locked-down process and
 * only where enabled, and real calls only for the nodes the caller lets through.
 *
 * The designer's test run and the "Try on past events" replay (services/replay.ts) use it.
 */
import type { PrismaClient } from '@/prisma/generated/client';
import { BrokerPublishPort } from '@/runtime/connectors/publish-port';
import { fetchHttp } from '@/runtime/engine/host/node-ports';
import { sandboxSettings } from '@/runtime/engine/host/sandbox-settings';
import { ProcessScriptRunner } from '@/runtime/engine/host/script-runner';
import type { WorkflowDocument } from '@/runtime/engine/types';
import { dryRun, type DryRunResult } from '@/runtime/events/dry-run';
import { loadJqRuntime, withTotalBudget } from '@/runtime/expressions/jq';
import { resolveSecrets, secretsMasker } from './secrets';

export const DRY_RUN_TIMEOUT_MS = 15_000;
/** jq time one dry run may use, in expression budgets (MESHFLOW_EXPRESSION_TIMEOUT_MS). */
export const DRY_RUN_JQ_BUDGETS = 3;

export interface StudioDryRunOptions {
  nodeIds?: ReadonlySet<string>;
  /** Node ids whose calls answer with a stub even when real targets are called. */
  stubs?: readonly string[];
  /** Let external calls go out for real (the test run's "call real targets"); never for a replay. */
  callRealTargets?: boolean;
  /** jq time for this run, in ms; by default DRY_RUN_JQ_BUDGETS expression budgets. */
  jqBudgetMs?: number;
  what?: string;
}

export async function studioDryRun(
  ctx: { db: PrismaClient; secretKey: Buffer },
  document: WorkflowDocument,
  event: Record<string, unknown>,
  options: StudioDryRunOptions = {},
): Promise<DryRunResult> {
  const stubs = new Set(options.stubs ?? []);
  const stubbed = (nodeId: string | undefined) => !options.callRealTargets || (nodeId !== undefined && stubs.has(nodeId));
  const settings = sandboxSettings(process.env);
  // Scripts never run in this process: only in a locked-down child process, and only where an administrator enabled them.
  const scripts =
    settings.MESHFLOW_SCRIPTS === 'enabled' ? new ProcessScriptRunner({ timeoutMs: settings.MESHFLOW_SCRIPT_TIMEOUT_MS, memoryMb: settings.MESHFLOW_SCRIPT_MEMORY_MB }) : undefined;
  // Each jq call has its own budget; together they may hold the studio's thread for a few budgets at most.
  const jq = withTotalBudget(await loadJqRuntime(), options.jqBudgetMs ?? settings.MESHFLOW_EXPRESSION_TIMEOUT_MS * DRY_RUN_JQ_BUDGETS, options.what ?? 'this test run');
  const brokers = new BrokerPublishPort();
  try {
    const result = await dryRun(document, event, {
      ...(options.nodeIds ? { nodeIds: options.nodeIds } : {}),
      stubbed,
      realHttp: fetchHttp,
      realAsyncApi: brokers,
      secrets: { resolve: (names) => resolveSecrets(ctx.db, ctx.secretKey, names) },
      ...(scripts ? { scripts } : {}),
      jq,
      timeoutMs: DRY_RUN_TIMEOUT_MS,
    });
    if (result.status === 'filtered') return result;
    const mask = await secretsMasker(ctx.db, ctx.secretKey);
    return { ...result, output: mask(result.output), error: mask(result.error), nodes: mask(result.nodes), requests: mask(result.requests) };
  } finally {
    await brokers.close();
  }
}
