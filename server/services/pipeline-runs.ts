/**
 * A pipeline run: one event through one pipeline deployment (source → filters → transforms →
 * HTTP target), which the data plane routes without the workflow engine and so without a
 * `run` row. Its per-node timeline is put together from what the worker recorded for that
 * event and deployment — the filter that dropped it and why, the transforms' output, each
 * delivery attempt with its duration and error, the dead letter — laid over the nodes of
 * the deployed version in pipeline order. Nothing is evaluated again here.
 */
import type pg from 'pg';
import { parse as parseYaml } from 'yaml';
import { toRecord, EVENT_COLUMNS, type EventRow } from '@/runtime/events/delivery-queue';
import { planFromDocument, sourceTask, PlanError } from '@/runtime/events/plan';
import { ServiceError } from './errors';
import { nodeName, nodeNames } from './flow-nodes';

const PIPELINE_RUN_ID = /^pipeline-(\d{1,18})-([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})(?:-.*)?$/;

/** The event and deployment of a pipeline run id (`pipeline-<seq>-<deployment>[-<dead letter>]`), if it is one. */
export function parsePipelineRunId(id: string): { seq: string; deploymentId: string } | undefined {
  const match = PIPELINE_RUN_ID.exec(id);
  return match ? { seq: match[1]!, deploymentId: match[2]! } : undefined;
}

export interface Attempt {
  attempt: number;
  outcome: 'delivered' | 'retried' | 'failed';
  at: Date;
  durationMs: number | null;
  error: string | null;
}

export interface PipelineNode {
  task: string;
  label: string;
  title: string | null;
  role: 'source' | 'filter' | 'transform' | 'target';
  status: 'passed' | 'filtered' | 'completed' | 'faulted' | 'skipped' | 'pending' | 'delivered' | 'retrying' | 'dead_lettered';
  reason: string | null;
  input: unknown;
  /** undefined: not recorded (only the last transform's output is kept). */
  output: unknown;
  durationMs: number | null;
  attempts: Attempt[];
}

type Obj = Record<string, unknown>;

export async function getPipelineRun(pool: pg.Pool, id: string) {
  const ref = parsePipelineRunId(id);
  if (!ref) throw new ServiceError('BAD_REQUEST', `"${id}" is not a pipeline run id (pipeline-<event seq>-<deployment id>)`);
  const { seq, deploymentId } = ref;
  const { rows: deployments } = await pool.query<{ flowId: string; flowName: string; version: number; graph: unknown; dslYaml: string; status: string }>(
    `SELECT d."flowId", f.name AS "flowName", v.version, v.graph, v."dslYaml", d.status::text AS status
       FROM deployment d JOIN flow f ON f.id = d."flowId" JOIN flow_version v ON v.id = d."flowVersionId" WHERE d.id = $1`,
    [deploymentId],
  );
  const deployment = deployments[0];
  if (!deployment) throw new ServiceError('NOT_FOUND', `deployment ${deploymentId} of run ${id} no longer exists (its flow was deleted)`);
  const { rows: events } = await pool.query<EventRow & { seq: string; receivedAt: Date; ingress: string; traceparent: string | null }>(
    `SELECT e.seq::text, e."receivedAt", e.ingress, e.extensions->>'traceparent' AS traceparent, ${EVENT_COLUMNS} FROM event e WHERE e.seq = $1`,
    [seq],
  );
  const row = events[0];
  if (!row) throw new ServiceError('NOT_FOUND', `event ${seq} of run ${id} is not in the log (it may have passed the retention window)`);
  const input = toRecord(row);

  let doc: Obj;
  let plan;
  try {
    doc = parseYaml(deployment.dslYaml) as Obj;
    plan = planFromDocument(doc);
  } catch (error) {
    if (error instanceof PlanError) throw new ServiceError('PRECONDITION_FAILED', `deployment ${deploymentId} cannot be read as a pipeline: ${error.message}`);
    throw error;
  }
  if (plan.kind !== 'pipeline') throw new ServiceError('PRECONDITION_FAILED', `flow ${deployment.flowName} v${deployment.version} runs in the workflow engine (${plan.reason}); its runs have their own ids`);

  const [{ rows: outcomes }, { rows: pending }, { rows: deadLetters }] = await Promise.all([
    pool.query<{ outcome: string; attempt: number; error: string | null; task: string | null; reason: string | null; output: unknown; durationMs: number | null; stepsMs: number | null; at: Date }>(
      `SELECT outcome, attempt, error, task, reason, output, "durationMs", "stepsMs", "at" FROM delivery_outcome
        WHERE "eventSeq" = $1 AND "deploymentId" = $2 ORDER BY "at", id`,
      [seq, deploymentId],
    ),
    pool.query<{ attempts: number; lastError: string | null; availableAt: Date }>(
      `SELECT attempts, "lastError", "availableAt" FROM delivery WHERE "eventSeq" = $1 AND "deploymentId" = $2 ORDER BY id DESC LIMIT 1`,
      [seq, deploymentId],
    ),
    pool.query<{ id: string; reason: string; attempts: number; createdAt: Date; replayedAt: Date | null }>(
      `SELECT id, reason, attempts, "createdAt", "replayedAt" FROM dead_letter WHERE "eventSeq" = $1 AND "deploymentId" = $2 ORDER BY "createdAt"`,
      [seq, deploymentId],
    ),
  ]);

  const names = nodeNames(deployment.graph);
  const filters = plan.ingressFilters ?? [];
  const source = sourceTask(doc, undefined);
  const order: { task: string; role: PipelineNode['role'] }[] = [];
  if (!filters.some((f) => f.source) && source !== 'schedule') order.push({ task: source, role: 'source' });
  for (const f of filters) order.push({ task: f.task, role: f.source ? 'source' : 'filter' });
  for (const step of plan.steps) if (!step.task.endsWith('.body')) order.push({ task: step.task, role: step.kind });
  order.push({ task: plan.target.task, role: 'target' });

  const filtered = outcomes.find((o) => o.outcome === 'filtered');
  const attempts: Attempt[] = outcomes
    .filter((o) => o.outcome === 'delivered' || o.outcome === 'retried' || o.outcome === 'failed')
    .map((o) => ({ attempt: o.attempt, outcome: o.outcome as Attempt['outcome'], at: o.at, durationMs: o.durationMs, error: o.error }));
  const last = [...outcomes].reverse().find((o) => o.output !== null || o.stepsMs !== null);
  const deadLetter = deadLetters.filter((l) => l.replayedAt === null).at(-1);
  const delivered = outcomes.some((o) => o.outcome === 'delivered');
  const waiting = pending[0];
  // A transform that failed is named in the dead letter's reason (`transform failed: jq <task>: …`).
  const transformFailure = deadLetter && /^transform /.test(deadLetter.reason) ? deadLetter.reason : undefined;
  const failedTransform = transformFailure ? (order.find((o) => o.role === 'transform' && transformFailure.includes(o.task))?.task ?? order.find((o) => o.role === 'transform')?.task) : undefined;
  const lastTransform = [...order].reverse().find((o) => o.role === 'transform')?.task;
  const postIngress = order.filter((o) => plan.steps.some((s) => s.task === o.task));

  let stopped = false;
  const nodes: PipelineNode[] = order.map(({ task, role }) => {
    const name = nodeName(names, task);
    const node: PipelineNode = { task, label: name.label, title: name.title, role, status: 'passed', reason: null, input: undefined, output: undefined, durationMs: null, attempts: [] };
    if (stopped) return { ...node, status: 'skipped' };
    if (role === 'source' || (role === 'filter' && !postIngress.some((p) => p.task === task))) node.input = input;
    if (role === 'source') node.output = input;
    if (postIngress.length === 1 && postIngress[0]!.task === task) node.durationMs = last?.stepsMs ?? null;
    if (filtered && filtered.task === task) {
      stopped = true;
      return { ...node, status: 'filtered', reason: filtered.reason };
    }
    if (failedTransform === task) {
      stopped = true;
      return { ...node, status: 'faulted', reason: transformFailure ?? null };
    }
    if (role === 'transform') {
      if (task === postIngress[0]?.task) node.input = input;
      if (task === lastTransform) node.output = last?.output ?? (delivered || attempts.length > 0 ? input : undefined);
      return { ...node, status: delivered || attempts.length > 0 || deadLetter ? 'completed' : waiting ? 'pending' : 'completed' };
    }
    if (role === 'target') {
      node.input = last?.output ?? (lastTransform ? undefined : input);
      node.attempts = attempts;
      node.durationMs = attempts.length > 0 ? attempts.reduce((sum, a) => sum + (a.durationMs ?? 0), 0) : null;
      if (delivered) return { ...node, status: 'delivered' };
      if (waiting) return { ...node, status: attempts.length > 0 ? 'retrying' : 'pending', reason: waiting.lastError };
      if (deadLetter) return { ...node, status: 'dead_lettered', reason: deadLetter.reason };
      return { ...node, status: 'pending' };
    }
    return node;
  });

  const status = filtered ? 'filtered' : delivered ? 'completed' : waiting ? 'running' : deadLetter ? 'faulted' : 'pending';
  const endedAt = status === 'running' || status === 'pending' ? null : (outcomes.at(-1)?.at ?? deadLetter?.createdAt ?? null);
  return {
    id,
    kind: 'pipeline' as const,
    flowId: deployment.flowId,
    flowName: deployment.flowName,
    version: deployment.version,
    deploymentId,
    status,
    startedAt: row.receivedAt,
    endedAt: endedAt && deadLetter && deadLetter.createdAt > endedAt ? deadLetter.createdAt : endedAt,
    event: { seq: row.seq, id: input.id, type: input.type, source: input.source, ingress: row.ingress, traceparent: row.traceparent },
    stepsMs: last?.stepsMs ?? null,
    nodes,
    deadLetterId: deadLetter?.id ?? null,
    nextAttemptAt: waiting?.availableAt ?? null,
  };
}
