/**
 * Run history for the studio: a filtered, searchable list; one run with its triggering event,
 * its task timeline and lifecycle; and the operator's actions. Re-runs go through the same
 * tables the worker reads — a delivery row for the run's deployment, which the worker turns
 * into a run — so a re-run is started exactly like the first one.
 */
import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { z } from 'zod';
import { IngressError, validateStructured, type CloudEventRecord } from '@/runtime/events/cloudevent';
import { EventLog } from '@/runtime/events/event-log';
import { cancelRun, resumeRun, suspendRun, type RunControlOutcome } from '@/runtime/runs/control';
import { ServiceError } from './errors';
import { cursorInput, decodeCursor, pageOf, type Page } from './pages';

const RUN_STATUSES = ['pending', 'running', 'waiting', 'retrying', 'suspended', 'completed', 'faulted', 'cancelled'] as const;

export const listRunsInput = z.object({
  flowId: z.string().uuid().optional(),
  version: z.number().int().min(1).optional(),
  status: z.enum(RUN_STATUSES).optional(),
  from: z.date().optional(),
  to: z.date().optional(),
  /** An event id, an event type (or its prefix), or text anywhere in the event's data. */
  search: z.string().trim().max(200).optional(),
  limit: z.number().int().min(1).max(200).default(50),
  cursor: cursorInput,
});

export interface RunSummary {
  id: string;
  /** `workflow`: an engine run; `pipeline`: one event through a routed flow (services/pipeline-runs.ts). Both open on /runs/<id>. */
  kind: 'workflow' | 'pipeline';
  flowId: string;
  flowName: string;
  version: number;
  status: string;
  eventSeq: string | null;
  eventId: string | null;
  eventType: string | null;
  startedAt: Date;
  endedAt: Date | null;
}

/**
 * Simple flows are routed by the data plane without the engine, so they leave no `run` row;
 * each event's final outcome for a deployment (delivered, filtered, dead-lettered) is listed
 * beside the engine's runs, so every flow's executions are found in one place; a delivery that
 * failed and waits for its next attempt is listed as `retrying` (it is not failed until dead-lettered).
 */
const EXECUTIONS = `
  SELECT r.id, 'workflow' AS kind, r."flowId", r."flowVersionId", r.status::text AS status, r."eventSeq",
         r."startedAt", r."endedAt", r.input
    FROM run r
  UNION ALL
  SELECT 'pipeline-' || o."eventSeq" || '-' || o."deploymentId", 'pipeline', dp."flowId", dp."flowVersionId",
         CASE o.outcome WHEN 'delivered' THEN 'completed' ELSE o.outcome END, o."eventSeq", ev."receivedAt", o."at", NULL::jsonb
    FROM delivery_outcome o JOIN deployment dp ON dp.id = o."deploymentId" JOIN event ev ON ev.seq = o."eventSeq"
   WHERE o.outcome IN ('delivered', 'filtered')
     -- An event of another type than the source accepts was never this flow's to run (the event's page says so).
     AND NOT (o.attempt = 0 AND o.reason LIKE 'accepts type %')
  UNION ALL
  SELECT 'pipeline-' || dl."eventSeq" || '-' || dl."deploymentId" || '-' || dl.id, 'pipeline', dp."flowId", dp."flowVersionId",
         'faulted', dl."eventSeq", ev."receivedAt", dl."createdAt", NULL::jsonb
    FROM dead_letter dl JOIN deployment dp ON dp.id = dl."deploymentId" JOIN event ev ON ev.seq = dl."eventSeq"
  UNION ALL
  SELECT 'pipeline-' || d."eventSeq" || '-' || d."deploymentId", 'pipeline', dp."flowId", dp."flowVersionId",
         'retrying', d."eventSeq", ev."receivedAt", NULL::timestamp, NULL::jsonb
    FROM delivery d JOIN deployment dp ON dp.id = d."deploymentId" JOIN event ev ON ev.seq = d."eventSeq"
   WHERE d."lastError" IS NOT NULL`;

/**
 * Newest first: by start time, then by event sequence number (pipeline executions of one
 * ingress batch share their event's arrival time), then by id; pages continue after the last
 * row's key, so none is skipped or repeated while new runs arrive.
 */
export async function listRuns(pool: pg.Pool, input: z.input<typeof listRunsInput>): Promise<Page<RunSummary>> {
  const q = listRunsInput.parse(input);
  const search = q.search ? q.search : null;
  const after = q.cursor ? decodeCursor(q.cursor, ['s', 's', 's'], 'run') : [null, null, null];
  const { rows } = await pool.query<RunSummary & { startedAtKey: string; seqKey: string }>(
    `SELECT x.id, x.kind, x."flowId", f.name AS "flowName", v.version, x.status, x."eventSeq"::text AS "eventSeq",
            e.id AS "eventId", e.type AS "eventType", x."startedAt", x."endedAt",
            to_char(x."startedAt", 'YYYY-MM-DD"T"HH24:MI:SS.US') AS "startedAtKey", coalesce(x."eventSeq", 0)::text AS "seqKey"
       FROM (${EXECUTIONS}) x JOIN flow f ON f.id = x."flowId" JOIN flow_version v ON v.id = x."flowVersionId"
       LEFT JOIN event e ON e.seq = x."eventSeq"
      WHERE ($1::text IS NULL OR x."flowId" = $1)
        AND ($2::int IS NULL OR v.version = $2)
        AND ($3::text IS NULL OR x.status = $3)
        AND ($4::timestamp IS NULL OR x."startedAt" >= $4)
        AND ($5::timestamp IS NULL OR x."startedAt" <= $5)
        AND ($6::text IS NULL OR e.id = $6 OR e.type LIKE $6 || '%' OR strpos(lower(coalesce(e.data::text, x.input::text, '')), lower($6)) > 0)
        AND ($8::timestamp IS NULL OR (x."startedAt", coalesce(x."eventSeq", 0), x.id) < ($8::timestamp, $9::bigint, $10::text))
      ORDER BY x."startedAt" DESC, coalesce(x."eventSeq", 0) DESC, x.id DESC
      LIMIT $7`,
    [q.flowId ?? null, q.version ?? null, q.status ?? null, q.from ?? null, q.to ?? null, search, q.limit + 1, ...after],
  );
  const page = pageOf(rows, q.limit, (r) => [r.startedAtKey, r.seqKey, r.id]);
  return { ...page, items: page.items.map(({ startedAtKey: _t, seqKey: _s, ...run }) => run) };
}

export const runIdInput = z.object({ id: z.string().min(1, 'a run id is required') });

export async function getRun(pool: pg.Pool, id: string) {
  const { rows } = await pool.query<{
    id: string;
    flowId: string;
    flowName: string;
    version: number;
    deploymentId: string | null;
    status: string;
    input: unknown;
    output: unknown;
    error: unknown;
    startedAt: Date;
    endedAt: Date | null;
    eventSeq: string | null;
  }>(
    `SELECT r.id, r."flowId", f.name AS "flowName", v.version, r."deploymentId", r.status::text AS status, r.input, r.output, r.error,
            r."startedAt", r."endedAt", r."eventSeq"::text AS "eventSeq"
       FROM run r JOIN flow f ON f.id = r."flowId" JOIN flow_version v ON v.id = r."flowVersionId" WHERE r.id = $1`,
    [id],
  );
  const run = rows[0];
  if (!run) throw new ServiceError('NOT_FOUND', `run ${id} does not exist`);
  const event =
    run.eventSeq === null
      ? null
      : ((
          await pool.query<{ seq: string; id: string; source: string; type: string; subject: string | null; receivedAt: Date; traceparent: string | null }>(
            `SELECT seq::text, id, source, type, subject, "receivedAt", extensions->>'traceparent' AS traceparent FROM event WHERE seq = $1`,
            [run.eventSeq],
          )
        ).rows[0] ?? null);
  const steps = await pool.query<{
    id: string;
    taskPath: string;
    taskName: string;
    status: string;
    attempt: number;
    input: unknown;
    output: unknown;
    error: unknown;
    startedAt: Date;
    endedAt: Date | null;
  }>(
    `SELECT id, "taskPath", "taskName", status, attempt, input, output, error, "startedAt", "endedAt"
       FROM run_step WHERE "runId" = $1 ORDER BY "startedAt", attempt, id`,
    [id],
  );
  // The lifecycle events the worker published for this run (when MESHFLOW_RUN_LIFECYCLE_EVENTS is on).
  const lifecycle = await pool.query<{ seq: string; id: string; type: string; receivedAt: Date }>(
    `SELECT seq::text, id, type, "receivedAt" FROM event WHERE source = $1 ORDER BY seq LIMIT 500`,
    [`urn:meshflow:workflow:${id}`],
  );
  return { ...run, event, steps: steps.rows, lifecycle: lifecycle.rows };
}

async function runForRerun(pool: pg.Pool, id: string): Promise<{ deploymentId: string; eventSeq: string }> {
  const { rows } = await pool.query<{ deploymentId: string | null; eventSeq: string | null }>(
    `SELECT "deploymentId", "eventSeq"::text AS "eventSeq" FROM run WHERE id = $1`,
    [id],
  );
  const run = rows[0];
  if (!run) throw new ServiceError('NOT_FOUND', `run ${id} does not exist`);
  if (run.deploymentId === null) throw new ServiceError('PRECONDITION_FAILED', `run ${id} has no deployment any more (its flow was undeployed and deleted), so it cannot run again`);
  if (run.eventSeq === null) throw new ServiceError('PRECONDITION_FAILED', `run ${id} was not started by an event (or its event left the log), so there is no event to run it with again`);
  return { deploymentId: run.deploymentId, eventSeq: run.eventSeq };
}

/** Queues the run's own event for its deployment again; the worker starts the new run. */
export async function rerunWithSameEvent(pool: pg.Pool, id: string): Promise<{ eventSeq: string }> {
  const run = await runForRerun(pool, id);
  await pool.query(`INSERT INTO delivery ("eventSeq", "deploymentId") VALUES ($1, $2)`, [run.eventSeq, run.deploymentId]);
  return { eventSeq: run.eventSeq };
}

export const rerunWithEventInput = z.object({ id: z.string().min(1), event: z.record(z.string(), z.unknown()) });

/**
 * Logs the edited event as a new event (a fresh id, so the log keeps both) routed to the
 * run's deployment only, and returns its id: the new run is found by searching for it.
 */
export async function rerunWithEditedEvent(pool: pg.Pool, id: string, edited: Record<string, unknown>): Promise<{ eventId: string }> {
  const run = await runForRerun(pool, id);
  let event: CloudEventRecord;
  try {
    event = validateStructured({ specversion: '1.0', ...edited, id: randomUUID() });
  } catch (error) {
    if (error instanceof IngressError) throw new ServiceError('BAD_REQUEST', `the edited event is not a valid CloudEvent: ${error.message}`);
    throw error;
  }
  await new EventLog(pool).append([{ event, ingress: 'studio', routes: [{ deploymentId: run.deploymentId, orderingKey: null }] }]);
  return { eventId: event.id };
}

export const runControlInput = z.object({ id: z.string().min(1), action: z.enum(['suspend', 'resume', 'cancel']) });

export async function controlRun(pool: pg.Pool, id: string, action: 'suspend' | 'resume' | 'cancel'): Promise<RunControlOutcome & { ok: true }> {
  const outcome = await (action === 'suspend' ? suspendRun : action === 'resume' ? resumeRun : cancelRun)(pool, id);
  if (!outcome.ok) throw new ServiceError(outcome.status === undefined ? 'NOT_FOUND' : 'CONFLICT', outcome.reason);
  return outcome;
}

/** Flows and their versions that have runs, for the list's filters. */
export async function runFilterOptions(pool: pg.Pool) {
  const { rows } = await pool.query<{ id: string; name: string; versions: number[] }>(
    `SELECT f.id, f.name, array_agg(DISTINCT v.version ORDER BY v.version) AS versions
       FROM flow f JOIN flow_version v ON v."flowId" = f.id GROUP BY f.id, f.name ORDER BY f.name`,
  );
  return rows;
}
