/**
 * The delivery queue in PostgreSQL, shared by every worker. A claim takes due rows with
 * FOR UPDATE SKIP LOCKED (so workers never wait on each other) and leases them by pushing
 * `availableAt` to the end of the lease: a worker killed mid-delivery loses nothing, its
 * rows simply fall due again. Rows with an ordering key are claimable only while no earlier
 * row of the same deployment and key remains, which delivers each key strictly in order.
 *
 * Deliveries the accepting worker sends itself have no `delivery` row: the event log records
 * them in one `delivery_handoff` row per commit, leased to that worker (event-log.ts), and
 * their ids say so (`handoffDeliveryId`). Each ends with a record of its own in the same
 * statement as always (an outcome, a dead letter, or a `delivery` row when it must wait for a
 * retry); once every delivery of a handoff has one, a later statement deletes the handoff. A
 * handoff whose lease ran out (its worker died) is recovered by whichever worker claims next:
 * its deliveries that have no record yet become `delivery` rows, claimed like any other.
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

/**
 * The part of a statement that records completions, its values at `$<at>` (the completions
 * as JSON) and `$<at+1>` (finished handoffs)
 * (`DeliveryQueue.prepareCompletion`): queued rows go (their outcome recorded); handed-over
 * deliveries (`id` null, `seq` and `dep` set) have no row and record their outcome as
 * attempt 1; handoffs whose every delivery was recorded by earlier statements are deleted
 * along the way. Common table expressions ending in `recorded`, for a `WITH` list: they run
 * whatever the statement's main query reads. The event log's append carries them (the
 * completions ride on the next commit); COMPLETE is them alone.
 *
 * `asyncCommit`: the statement's commit does not wait for the WAL flush (`synchronous_commit`
 * off for this transaction alone). Only for a statement that records completions and nothing
 * else: should PostgreSQL itself crash within that moment, the statement is lost with every
 * later one (WAL is replayed in order, so no later handoff deletion survives it either) and
 * its deliveries are simply sent again. At-least-once holds; the acknowledged events (the
 * appends) still commit synchronously, and so do retries and dead letters.
 */
export function completionCtes(at: number, asyncCommit: boolean): string {
  return `done AS (SELECT x.id, x.outcome, x.task, x.reason, x.output -> 'v' AS output, x.duration, x.steps, x.seq, x.dep
                  FROM jsonb_to_recordset($${at}::jsonb)
                    AS x(id bigint, outcome text, task text, reason text, output jsonb, duration float8, steps float8, seq bigint, dep text)${asyncCommit ? `,
                (SELECT set_config('synchronous_commit', 'off', true)) AS async_commit` : ''}),
     gone AS (DELETE FROM delivery d USING done WHERE d.id = done.id
              RETURNING d."eventSeq", d."deploymentId", d.attempts, done.outcome, done.task, done.reason, done.output, done.duration, done.steps),
     finished AS (DELETE FROM delivery_handoff WHERE id = ANY($${at + 1}::bigint[])),
     recorded AS (
       INSERT INTO delivery_outcome ("eventSeq", "deploymentId", outcome, attempt, task, reason, output, "durationMs", "stepsMs", "at")
       SELECT "eventSeq", "deploymentId", outcome, attempts, task, reason, output, duration, steps, LOCALTIMESTAMP FROM gone
       UNION ALL
       SELECT seq, dep, outcome, 1, task, reason, output, duration, steps, LOCALTIMESTAMP FROM done WHERE id IS NULL)`;
}

/** The values of `completionCtes` when there is nothing to record. */
export const NO_COMPLETIONS: readonly unknown[] = ['[]', []];

const COMPLETE = `WITH ${completionCtes(1, true)} SELECT 1`;

/**
 * Completions prepared for a statement: its values (for `completionCtes`), and `settle`, told
 * what came of it: `recorded` (committed), `failed` (not recorded; the handoffs are left to
 * lapse and be recovered, their deliveries sent again) or `returned` (not recorded, and the
 * caller records them again in another statement).
 */
export interface PreparedCompletion {
  values: unknown[];
  settle: (result: 'recorded' | 'failed' | 'returned') => void;
}

/**
 * Deletes the handoffs `$1` (finished) and those whose lease ran out (all of `$2`'s when set,
 * a worker handing its work back); a delivery of theirs with no record yet (no outcome, no
 * queued row, no dead letter) becomes a `delivery` row, due now, with `$3` attempts counted.
 */
const RECOVER = `
WITH finished AS (DELETE FROM delivery_handoff WHERE id = ANY($1::bigint[])),
     lapsed AS (
       DELETE FROM delivery_handoff h WHERE h.id IN (
         SELECT id FROM delivery_handoff
          WHERE CASE WHEN $2::text IS NULL THEN "availableAt" <= LOCALTIMESTAMP ELSE "leaseOwner" = $2 END
            AND NOT (id = ANY($1::bigint[]))
          ORDER BY "availableAt" LIMIT 500 FOR UPDATE SKIP LOCKED)
       RETURNING h.items),
     items AS (SELECT DISTINCT (it->>0)::bigint AS seq, it->>1 AS dep FROM lapsed CROSS JOIN LATERAL jsonb_array_elements(lapsed.items) AS it)
INSERT INTO delivery ("eventSeq", "deploymentId", attempts, "availableAt")
SELECT seq, dep, $3, LOCALTIMESTAMP FROM items
 WHERE NOT EXISTS (SELECT 1 FROM delivery_outcome o WHERE o."eventSeq" = items.seq AND o."deploymentId" = items.dep)
   AND NOT EXISTS (SELECT 1 FROM delivery d WHERE d."eventSeq" = items.seq AND d."deploymentId" = items.dep)
   AND NOT EXISTS (SELECT 1 FROM dead_letter l WHERE l."eventSeq" = items.seq AND l."deploymentId" = items.dep)`;

const HANDOFF = /^h:(\d+):(\d+):(.+)$/s;

/** The id of a delivery handed over by the event log: its handoff, event and deployment, as no `delivery` row exists. */
export function handoffDeliveryId(handoff: string, eventSeq: string, deploymentId: string): string {
  return `h:${handoff}:${eventSeq}:${deploymentId}`;
}

function parseHandoff(id: string): { handoff: string; seq: string; dep: string } | undefined {
  const m = HANDOFF.exec(id);
  return m ? { handoff: m[1]!, seq: m[2]!, dep: m[3]! } : undefined;
}

/**
 * Deliveries of lapsed handoffs (all of `owner`'s, when given) that have no record yet become
 * `delivery` rows with `attempts` counted. Returns how many.
 */
export async function recoverHandoffs(pool: pg.Pool, options: { owner?: string; attempts: number; finished?: string[] }): Promise<number> {
  const { rowCount } = await pool.query(RECOVER, [options.finished ?? [], options.owner ?? null, options.attempts]);
  return rowCount ?? 0;
}

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

/** How often a worker looks for lapsed handoffs at most (and deletes finished ones when no completion did). */
const RECOVER_EVERY_MS = 1_000;

export class DeliveryQueue {
  /** Handed-over deliveries not yet recorded, per handoff. */
  private readonly handoffs = new Map<string, number>();
  /** Handoffs whose every delivery is recorded: deleted by the next completion or recovery. */
  private finished: string[] = [];
  private nextRecovery = 0;
  private readonly recoverEveryMs: number;

  constructor(
    private readonly pool: pg.Pool,
    private readonly workerId: string,
    private readonly leaseMs: number,
  ) {
    this.recoverEveryMs = Math.min(RECOVER_EVERY_MS, Math.max(50, leaseMs / 4));
  }

  async claim(limit: number): Promise<ClaimedDelivery[]> {
    if (Date.now() >= this.nextRecovery) {
      this.nextRecovery = Date.now() + this.recoverEveryMs;
      const finished = this.finished;
      this.finished = [];
      try {
        await recoverHandoffs(this.pool, { attempts: 1, finished });
      } catch (error) {
        this.finished.push(...finished);
        throw error;
      }
    }
    // Named statements are parsed and planned once per connection: these two run for every batch.
    const { rows } = await this.pool.query<ClaimRow>({ name: 'meshflow-delivery-claim', text: CLAIM, values: [limit, this.leaseMs, this.workerId] });
    return rows.map((row) => ({ id: row.id, deploymentId: row.deploymentId, attempts: row.attempts, event: toRecord(row), ageMs: row.ageMs }));
  }

  /** Deliveries the event log handed over (their ids from `handoffDeliveryId`): counted, so their handoff goes once all are recorded. */
  handedOver(deliveries: ClaimedDelivery[]): void {
    for (const delivery of deliveries) {
      const h = parseHandoff(delivery.id);
      if (h) this.handoffs.set(h.handoff, (this.handoffs.get(h.handoff) ?? 0) + 1);
    }
  }

  /**
   * After a statement recorded what became of `ids`: a handoff with every delivery recorded
   * can go. When the statement failed, the handoff is left to lapse and be recovered.
   */
  private recorded(ids: string[], ok: boolean): void {
    for (const id of ids) {
      const h = parseHandoff(id);
      if (!h) continue;
      const left = this.handoffs.get(h.handoff);
      if (left === undefined) continue;
      if (!ok) this.handoffs.delete(h.handoff);
      else if (left <= 1) {
        this.handoffs.delete(h.handoff);
        this.finished.push(h.handoff);
      } else this.handoffs.set(h.handoff, left - 1);
    }
  }

  private async recording(ids: string[], work: Promise<unknown>): Promise<void> {
    try {
      await work;
    } catch (error) {
      this.recorded(ids, false);
      throw error;
    }
    this.recorded(ids, true);
  }

  /** Delivered (or dropped by a later filter): the rows go, leaving their outcome on record, one statement for all. */
  async complete(done: CompletedDelivery[]): Promise<void> {
    if (done.length === 0) return;
    const prepared = this.prepareCompletion(done);
    try {
      await this.pool.query({ name: 'meshflow-delivery-complete', text: COMPLETE, values: prepared.values });
    } catch (error) {
      prepared.settle('failed');
      throw error;
    }
    prepared.settle('recorded');
  }

  /**
   * `done` as the values of `completionCtes`, for this queue's own statement (`complete`) or
   * another one they ride on (the event log's append); the handoffs finished so far go with them.
   */
  prepareCompletion(done: CompletedDelivery[]): PreparedCompletion {
    const handed = done.map((d) => parseHandoff(d.id));
    const finished = this.finished;
    this.finished = [];
    let settled = false;
    return {
      values: [
        // One JSON text rather than an array per column: the driver escapes every array element in JavaScript.
        JSON.stringify(
          done.map((d, i) => {
            const h = handed[i];
            return {
              id: h ? null : d.id,
              outcome: d.outcome,
              task: d.task,
              reason: d.reason ?? null,
              // Wrapped, so that an output of JSON null stays one (SQL NULL is no output).
              output: d.output === undefined ? null : { v: d.output },
              duration: d.durationMs ?? null,
              steps: d.stepsMs ?? null,
              seq: h?.seq ?? null,
              dep: h?.dep ?? null,
            };
          }),
        ),
        finished,
      ],
      settle: (result) => {
        if (settled) return;
        settled = true;
        if (result !== 'recorded') this.finished.push(...finished);
        if (result !== 'returned') this.recorded(done.map((d) => d.id), result === 'recorded');
      },
    };
  }

  /** Not sent yet (a rate limit): back in the queue after `delayMs`, the claim not counted as an attempt. */
  async postpone(id: string, delayMs: number): Promise<void> {
    const h = parseHandoff(id);
    if (h) {
      await this.recording(
        [id],
        this.pool.query(
          `INSERT INTO delivery ("eventSeq", "deploymentId", attempts, "availableAt")
           VALUES ($1::bigint, $2::text, 0, LOCALTIMESTAMP + make_interval(secs => $3::double precision / 1000))`,
          [h.seq, h.dep, delayMs],
        ),
      );
      return;
    }
    await this.pool.query(
      `UPDATE delivery SET "availableAt" = LOCALTIMESTAMP + make_interval(secs => $2::double precision / 1000), "leaseOwner" = NULL, attempts = attempts - 1
        WHERE id = $1 AND "leaseOwner" = $3`,
      [id, delayMs, this.workerId],
    );
  }

  /** Back in the queue after `delayMs`, unless another worker took the row over meanwhile. */
  async retry(id: string, delayMs: number, error: string, attempt?: AttemptRecord): Promise<void> {
    const h = parseHandoff(id);
    if (h) {
      // A handed-over delivery gets its row now, with the attempt it made.
      await this.recording(
        [id],
        this.pool.query(
          `WITH retried AS (
             INSERT INTO delivery ("eventSeq", "deploymentId", attempts, "availableAt", "lastError")
             VALUES ($1::bigint, $2::text, 1, LOCALTIMESTAMP + make_interval(secs => $3::double precision / 1000), $4::text) RETURNING "eventSeq", "deploymentId", attempts)
           INSERT INTO delivery_outcome ("eventSeq", "deploymentId", outcome, attempt, error, task, output, "durationMs", "stepsMs", "at")
           SELECT "eventSeq", "deploymentId", 'retried', attempts, $4::text, $5::text, $6::jsonb, $7::float8, $8::float8, LOCALTIMESTAMP FROM retried`,
          [h.seq, h.dep, delayMs, error, attempt?.task ?? null, jsonOrNull(attempt?.output), attempt?.durationMs ?? null, attempt?.stepsMs ?? null],
        ),
      );
      return;
    }
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
    const h = parseHandoff(id);
    if (h) {
      await this.recording(
        [id],
        this.pool.query(
          `WITH failed AS (
             INSERT INTO delivery_outcome ("eventSeq", "deploymentId", outcome, attempt, error, task, output, "durationMs", "stepsMs", "at")
             SELECT $1::bigint, $2::text, 'failed', 1, $5::text, $6::text, $7::jsonb, $8::float8, $9::float8, LOCALTIMESTAMP WHERE $6::text IS NOT NULL)
           INSERT INTO dead_letter (id, "eventSeq", "flowId", "deploymentId", target, reason, attempts)
           VALUES (gen_random_uuid()::text, $1::bigint, $3::text, $2::text, $4::text, $5::text, 1)`,
          [h.seq, h.dep, flowId, target, reason, attempt?.task ?? null, jsonOrNull(attempt?.output), attempt?.durationMs ?? null, attempt?.stepsMs ?? null],
        ),
      );
      return;
    }
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
