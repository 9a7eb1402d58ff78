/**
 * Dead letters: deliveries that failed their last retry (or could never succeed), kept with
 * the reason, listable, and replayable — a replay queues the event for its deployment again
 * and marks the letter replayed, in one statement, so a letter is replayed at most once.
 */
import type pg from 'pg';

export interface DeadLetterView {
  id: string;
  eventSeq: string;
  eventId: string;
  eventSource: string;
  eventType: string;
  flowId: string | null;
  deploymentId: string | null;
  target: string;
  reason: string;
  attempts: number;
  createdAt: string;
  replayedAt: string | null;
}

export interface DeadLetterQuery {
  deploymentId?: string;
  flowId?: string;
  /** Replayed and discarded letters too; by default only those waiting for a decision. */
  all?: boolean;
  limit?: number;
}

const ISO = (column: string) => `to_char(${column}, 'YYYY-MM-DD"T"HH24:MI:SS.MS')`;

export async function listDeadLetters(pool: pg.Pool, query: DeadLetterQuery = {}): Promise<DeadLetterView[]> {
  const { rows } = await pool.query<DeadLetterView>(
    `SELECT l.id, l."eventSeq"::text AS "eventSeq", e.id AS "eventId", e.source AS "eventSource", e.type AS "eventType",
            l."flowId", l."deploymentId", l.target, l.reason, l.attempts,
            ${ISO('l."createdAt"')} AS "createdAt", ${ISO('l."replayedAt"')} AS "replayedAt"
       FROM dead_letter l JOIN event e ON e.seq = l."eventSeq"
      WHERE ($1::text IS NULL OR l."deploymentId" = $1)
        AND ($2::text IS NULL OR l."flowId" = $2)
        AND ($3 OR (l."replayedAt" IS NULL AND l."discardedAt" IS NULL))
      ORDER BY l."createdAt", l.id
      LIMIT $4`,
    [query.deploymentId ?? null, query.flowId ?? null, query.all ?? false, query.limit ?? 100],
  );
  return rows;
}

/** Queues the letters' events again; returns the ids actually replayed (pending ones only). */
export async function replayDeadLetters(pool: pg.Pool, ids: string[]): Promise<string[]> {
  const { rows } = await pool.query<{ id: string }>(
    `WITH replayed AS (
       UPDATE dead_letter SET "replayedAt" = LOCALTIMESTAMP
        WHERE id = ANY($1::text[]) AND "replayedAt" IS NULL AND "discardedAt" IS NULL AND "deploymentId" IS NOT NULL
       RETURNING id, "eventSeq", "deploymentId"
     ), queued AS (
       INSERT INTO delivery ("eventSeq", "deploymentId") SELECT "eventSeq", "deploymentId" FROM replayed RETURNING 1
     )
     SELECT id FROM replayed`,
    [ids],
  );
  return rows.map((r) => r.id);
}

/** Marks letters as given up on, with why; they stay for the record. */
export async function discardDeadLetters(pool: pg.Pool, ids: string[], reason: string): Promise<number> {
  const result = await pool.query(
    `UPDATE dead_letter SET "discardedAt" = LOCALTIMESTAMP, "discardReason" = $2
      WHERE id = ANY($1::text[]) AND "replayedAt" IS NULL AND "discardedAt" IS NULL`,
    [ids, reason],
  );
  return result.rowCount ?? 0;
}
