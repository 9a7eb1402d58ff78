/**
 * The delivery queue in PostgreSQL, shared by every worker. A claim takes due rows with
 * FOR UPDATE SKIP LOCKED (so workers never wait on each other) and leases them by pushing
 * `availableAt` to the end of the lease: a worker killed mid-delivery loses nothing, its
 * rows simply fall due again. Rows with an ordering key are claimable only while no earlier
 * row of the same deployment and key remains, which delivers each key strictly in order.
 */
import type pg from 'pg';
import type { CloudEventRecord } from './cloudevent.ts';

export interface ClaimedDelivery {
  id: string;
  deploymentId: string;
  /** Including the one this claim starts. */
  attempts: number;
  event: CloudEventRecord;
  /** How long the event had been in the log when claimed. */
  ageMs: number;
}

/** An event row as the claim (and the workflow listen port) reads it back. */
export interface EventRow {
  eventId: string;
  source: string;
  type: string;
  subject: string | null;
  time: string | null;
  datacontenttype: string | null;
  dataschema: string | null;
  data: unknown;
  hasData: boolean;
  dataBase64: string | null;
  extensions: Record<string, unknown>;
}

interface ClaimRow extends EventRow {
  id: string;
  deploymentId: string;
  attempts: number;
  ageMs: number;
}

/** The columns of `event e` that `toRecord` reads, as an EventRow. */
export const EVENT_COLUMNS = `e.id AS "eventId", e.source, e.type, e.subject,
          to_char(e."time", 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS "time", e.datacontenttype, e.dataschema,
          e.data, e.data IS NOT NULL AS "hasData", e."dataBase64", e.extensions`;

const CLAIM = `
WITH due AS (
  SELECT d.id FROM delivery d
   WHERE d."availableAt" <= LOCALTIMESTAMP
     AND (d."orderingKey" IS NULL OR NOT EXISTS (
           SELECT 1 FROM delivery p
            WHERE p."deploymentId" = d."deploymentId" AND p."orderingKey" = d."orderingKey" AND p.id < d.id))
   ORDER BY d."availableAt", d.id
   LIMIT $1
   FOR UPDATE SKIP LOCKED
)
UPDATE delivery d
   SET "availableAt" = LOCALTIMESTAMP + make_interval(secs => $2::double precision / 1000), "leaseOwner" = $3, attempts = d.attempts + 1
  FROM due, event e
 WHERE d.id = due.id AND e.seq = d."eventSeq"
RETURNING d.id::text AS id, d."deploymentId", d.attempts, ${EVENT_COLUMNS},
          extract(epoch FROM LOCALTIMESTAMP - e."receivedAt")::float8 * 1000 AS "ageMs"`;

const COMPLETE = `
WITH done AS (SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::jsonb[], $6::float8[], $7::float8[])
                AS x(id, outcome, task, reason, output, duration, steps)),
     gone AS (DELETE FROM delivery d USING done WHERE d.id = done.id
              RETURNING d."eventSeq", d."deploymentId", d.attempts, done.outcome, done.task, done.reason, done.output, done.duration, done.steps)
INSERT INTO delivery_outcome ("eventSeq", "deploymentId", outcome, attempt, task, reason, output, "durationMs", "stepsMs", "at")
SELECT "eventSeq", "deploymentId", outcome, attempts, task, reason, output, duration, steps, LOCALTIMESTAMP FROM gone`;

/** A logged event back in its structured form. */
export function toRecord(row: EventRow): CloudEventRecord {
  const event: CloudEventRecord = { specversion: '1.0', id: row.eventId, source: row.source, type: row.type, ...row.extensions };
  if (row.subject !== null) event.subject = row.subject;
  if (row.time !== null) event.time = row.time;
  if (row.datacontenttype !== null) event.datacontenttype = row.datacontenttype;
  if (row.dataschema !== null) event.dataschema = row.dataschema;
  if (row.dataBase64 !== null) event.data_base64 = row.dataBase64;
  else if (row.hasData) event.data = row.data;
  return event;
}

/** What the worker records of a delivery that ended (delivered, or dropped by a filter after a transform). */
export interface CompletedDelivery {
  id: string;
  outcome: 'delivered' | 'filtered';
  /** The filter that dropped it, or the target task. */
  task: string;
  reason?: string;
  /** The transforms' output, when they changed the event. */
  output?: unknown;
  durationMs?: number;
  stepsMs?: number;
}

/** One HTTP attempt, for the run timeline: which task sent it, what it sent when transformed, how long it took. */
export interface AttemptRecord {
  task: string;
  output?: unknown;
  durationMs: number;
  stepsMs?: number;
}

const jsonOrNull = (value: unknown): string | null => (value === undefined ? null : JSON.stringify(value));

export class DeliveryQueue {
  constructor(
    private readonly pool: pg.Pool,
    private readonly workerId: string,
    private readonly leaseMs: number,
  ) {}

  async claim(limit: number): Promise<ClaimedDelivery[]> {
    // Named statements are parsed and planned once per connection: these two run for every batch.
    const { rows } = await this.pool.query<ClaimRow>({ name: 'meshflow-delivery-claim', text: CLAIM, values: [limit, this.leaseMs, this.workerId] });
    return rows.map((row) => ({ id: row.id, deploymentId: row.deploymentId, attempts: row.attempts, event: toRecord(row), ageMs: row.ageMs }));
  }

  /** Delivered (or dropped by a later filter): the rows go, leaving their outcome on record, one statement for all. */
  async complete(done: CompletedDelivery[]): Promise<void> {
    if (done.length === 0) return;
    await this.pool.query({
      name: 'meshflow-delivery-complete',
      text: COMPLETE,
      values: [
        done.map((d) => d.id),
        done.map((d) => d.outcome),
        done.map((d) => d.task),
        done.map((d) => d.reason ?? null),
        done.map((d) => jsonOrNull(d.output)),
        done.map((d) => d.durationMs ?? null),
        done.map((d) => d.stepsMs ?? null),
      ],
    });
  }

  /** Not sent yet (a rate limit): back in the queue after `delayMs`, the claim not counted as an attempt. */
  async postpone(id: string, delayMs: number): Promise<void> {
    await this.pool.query(
      `UPDATE delivery SET "availableAt" = LOCALTIMESTAMP + make_interval(secs => $2::double precision / 1000), "leaseOwner" = NULL, attempts = attempts - 1
        WHERE id = $1 AND "leaseOwner" = $3`,
      [id, delayMs, this.workerId],
    );
  }

  /** Back in the queue after `delayMs`, unless another worker took the row over meanwhile. */
  async retry(id: string, delayMs: number, error: string, attempt?: AttemptRecord): Promise<void> {
    await this.pool.query(
      `WITH retried AS (
         UPDATE delivery SET "availableAt" = LOCALTIMESTAMP + make_interval(secs => $2::double precision / 1000), "leaseOwner" = NULL, "lastError" = $3
          WHERE id = $1 AND "leaseOwner" = $4 RETURNING "eventSeq", "deploymentId", attempts)
       INSERT INTO delivery_outcome ("eventSeq", "deploymentId", outcome, attempt, error, task, output, "durationMs", "stepsMs", "at")
       SELECT "eventSeq", "deploymentId", 'retried', attempts, $3, $5, $6::jsonb, $7, $8, LOCALTIMESTAMP FROM retried`,
      [id, delayMs, error, this.workerId, attempt?.task ?? null, jsonOrNull(attempt?.output), attempt?.durationMs ?? null, attempt?.stepsMs ?? null],
    );
  }

  /** Moves the row to dead_letter in one statement; the last HTTP attempt, when there was one, is recorded as `failed`. */
  async deadLetter(id: string, flowId: string | null, target: string, reason: string, attempt?: AttemptRecord): Promise<void> {
    await this.pool.query(
      `WITH gone AS (DELETE FROM delivery WHERE id = $1 AND "leaseOwner" = $2 RETURNING "eventSeq", "deploymentId", attempts),
            failed AS (
              INSERT INTO delivery_outcome ("eventSeq", "deploymentId", outcome, attempt, error, task, output, "durationMs", "stepsMs", "at")
              SELECT "eventSeq", "deploymentId", 'failed', attempts, $5, $6, $7::jsonb, $8, $9, LOCALTIMESTAMP FROM gone WHERE $6::text IS NOT NULL)
       INSERT INTO dead_letter (id, "eventSeq", "flowId", "deploymentId", target, reason, attempts)
       SELECT gen_random_uuid()::text, "eventSeq", $3, "deploymentId", $4, $5, attempts FROM gone`,
      [id, this.workerId, flowId, target, reason, attempt?.task ?? null, jsonOrNull(attempt?.output), attempt?.durationMs ?? null, attempt?.stepsMs ?? null],
    );
  }
}

/** Pending deliveries per deployment: the backlog an autoscaler scales workers on. */
export async function backlogByDeployment(pool: pg.Pool): Promise<Map<string, number>> {
  const { rows } = await pool.query<{ deploymentId: string; n: number }>(
    'SELECT "deploymentId", count(*)::int AS n FROM delivery GROUP BY "deploymentId"',
  );
  return new Map(rows.map((r) => [r.deploymentId, r.n]));
}
