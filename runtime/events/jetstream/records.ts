/**
 * What the JetStream backend writes to PostgreSQL for the studio, off the ingress path: the
 * events (and the deployments that filtered them out at ingress), delivery outcomes, and
 * dead letters. Every write is idempotent on `(source, id)`: the recorder and the delivery
 * side may both record an event (whichever comes first), and a redelivered batch adds nothing.
 */
import type pg from 'pg';
import type { CloudEventRecord } from '../cloudevent.ts';
import { eventColumns } from '../event-log.ts';
import type { AttemptRecord } from '../delivery-queue.ts';
import type { FilteredRoute } from '../subscriptions.ts';

/** An event as the JetStream messages carry it. */
export interface LoggedEvent {
  event: CloudEventRecord;
  ingress: string;
  /** Deployments that considered it (routed or filtered). */
  considered: number;
  filtered: Pick<FilteredRoute, 'deploymentId' | 'task' | 'reason'>[];
}

const RECORD = `
WITH input AS (
  SELECT * FROM jsonb_to_recordset($1::jsonb) AS x(
    i int, id text, source text, type text, subject text, "time" timestamptz, datacontenttype text,
    dataschema text, data jsonb, has_data boolean, data_base64 text, extensions jsonb, ingress text, considered int, filtered jsonb)
), ins AS (
  INSERT INTO event (id, source, type, subject, "time", specversion, datacontenttype, dataschema, data, "dataBase64", extensions, ingress, considered)
  SELECT id, source, type, subject, "time" AT TIME ZONE 'UTC', '1.0', datacontenttype, dataschema,
         CASE WHEN has_data THEN coalesce(data, 'null'::jsonb) END, data_base64, extensions, ingress, considered
    FROM input ORDER BY i
  ON CONFLICT (source, id) DO NOTHING
  RETURNING seq, source, id
), dropped AS (
  INSERT INTO delivery_outcome ("eventSeq", "deploymentId", outcome, attempt, task, reason, "at")
  SELECT ins.seq, f."deploymentId", 'filtered', 0, f.task, f.reason, LOCALTIMESTAMP
    FROM ins JOIN input ON input.source = ins.source AND input.id = ins.id
    CROSS JOIN LATERAL jsonb_to_recordset(input.filtered) AS f("deploymentId" text, task text, reason text)
)
SELECT count(*)::int AS n FROM ins`;

/** Writes the events not yet in the table; returns how many were new. */
export async function recordEvents(pool: pg.Pool, logged: LoggedEvent[]): Promise<number> {
  if (logged.length === 0) return 0;
  const seen = new Set<string>();
  const rows = [];
  for (const l of logged) {
    const e = l.event;
    const key = `${e.source}\u0000${e.id}`;
    if (seen.has(key)) continue;
    seen.add(key);
    rows.push({
      i: rows.length,
      ...eventColumns(e),
      ingress: l.ingress,
      considered: l.considered,
      filtered: l.filtered,
    });
  }
  const { rows: result } = await pool.query<{ n: number }>({ name: 'meshflow-js-record-events', text: RECORD, values: [JSON.stringify(rows)] });
  return result[0]?.n ?? 0;
}

export interface OutcomeRecord {
  logged: LoggedEvent;
  deploymentId: string;
  outcome: 'delivered' | 'filtered' | 'retried' | 'failed';
  attempt: number;
  error?: string;
  task?: string;
  reason?: string;
  output?: unknown;
  durationMs?: number;
  stepsMs?: number;
}

const OUTCOMES = `
WITH x AS (
  SELECT * FROM jsonb_to_recordset($1::jsonb) AS x(i int, source text, id text, "deploymentId" text, outcome text, attempt int, error text, task text,
                                                   reason text, output jsonb, duration float8, steps float8)
), found AS (
  SELECT x.*, e.seq FROM x JOIN event e ON e.source = x.source AND e.id = x.id
), ins AS (
  INSERT INTO delivery_outcome ("eventSeq", "deploymentId", outcome, attempt, error, task, reason, output, "durationMs", "stepsMs", "at")
  SELECT seq, "deploymentId", outcome, attempt, error, task, reason, output, duration, steps, LOCALTIMESTAMP FROM found
)
SELECT i FROM x WHERE NOT EXISTS (SELECT 1 FROM found WHERE found.i = x.i)`;

function outcomeRow(o: OutcomeRecord, i: number) {
  return {
    i,
    source: o.logged.event.source,
    id: o.logged.event.id,
    deploymentId: o.deploymentId,
    outcome: o.outcome,
    attempt: o.attempt,
    error: o.error ?? null,
    task: o.task ?? null,
    reason: o.reason ?? null,
    output: o.output === undefined ? null : o.output,
    duration: o.durationMs ?? null,
    steps: o.stepsMs ?? null,
  };
}

/** Records outcomes; those whose event the recorder has not written yet get it written first, then go in. */
export async function recordOutcomes(pool: pg.Pool, outcomes: OutcomeRecord[]): Promise<void> {
  if (outcomes.length === 0) return;
  const insert = (batch: OutcomeRecord[]) =>
    pool.query<{ i: number }>({ name: 'meshflow-js-record-outcomes', text: OUTCOMES, values: [JSON.stringify(batch.map(outcomeRow))] });
  const { rows: missing } = await insert(outcomes);
  if (missing.length === 0) return;
  const rest = missing.map((m) => outcomes[m.i]!);
  await recordEvents(pool, rest.map((o) => o.logged));
  await insert(rest);
}

/** A dead letter (and the failed attempt, when there was one), in one transaction once the event is recorded. */
export async function recordDeadLetter(
  pool: pg.Pool,
  letter: { logged: LoggedEvent; deploymentId: string; flowId: string | null; target: string; reason: string; attempts: number; attempt?: AttemptRecord },
): Promise<void> {
  await recordEvents(pool, [letter.logged]);
  const { event } = letter.logged;
  const a = letter.attempt;
  await pool.query(
    `WITH e AS (SELECT seq FROM event WHERE source = $1 AND id = $2),
          failed AS (
            INSERT INTO delivery_outcome ("eventSeq", "deploymentId", outcome, attempt, error, task, output, "durationMs", "stepsMs", "at")
            SELECT seq, $3, 'failed', $7, $6, $8, $9::jsonb, $10, $11, LOCALTIMESTAMP FROM e WHERE $8::text IS NOT NULL)
     INSERT INTO dead_letter (id, "eventSeq", "flowId", "deploymentId", target, reason, attempts)
     SELECT gen_random_uuid()::text, seq, $4, $3, $5, $6, $7 FROM e`,
    [
      event.source,
      event.id,
      letter.deploymentId,
      letter.flowId,
      letter.target,
      letter.reason,
      letter.attempts,
      a?.task ?? null,
      a?.output === undefined ? null : JSON.stringify(a.output),
      a?.durationMs ?? null,
      a?.stepsMs ?? null,
    ],
  );
}
