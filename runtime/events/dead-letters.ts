/**
 * Dead letters: deliveries that failed their last retry (or could never succeed), kept with
 * the reason, listable, and replayable.
 *
 * A replay means "send it again to the flow as it is now": the logged event (same CloudEvent
 * `id`, so targets can drop repeats) is queued for the flow's live deployment, which the
 * worker delivers like any other — so a target fixed and redeployed since is the one that
 * gets it. The original deployment is used only when asked for. Choosing the deployment,
 * queueing the delivery and marking the letter happen in one statement, so a letter is
 * replayed at most once; a letter with nowhere to go (its flow undeployed or deleted) stays
 * pending, untouched, with the reason given back.
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
  /** The version of the flow the failed delivery ran. */
  version: number | null;
  target: string;
  reason: string;
  attempts: number;
  createdAt: string;
  replayedAt: string | null;
  /** The version a replay sent the event to. */
  replayedToVersion: number | null;
}

/** Where a listing continues: strictly after this letter, in the list's order. */
export interface DeadLetterKey {
  createdAt: string;
  eventSeq: string;
  id: string;
}

export interface DeadLetterQuery {
  deploymentId?: string;
  flowId?: string;
  target?: string;
  /** Replayed and discarded letters too; by default only those waiting for a decision. */
  all?: boolean;
  limit?: number;
  after?: DeadLetterKey;
}

const ISO = (column: string) => `to_char(${column}, 'YYYY-MM-DD"T"HH24:MI:SS.MS')`;

const WHERE = `($1::text IS NULL OR l."deploymentId" = $1)
        AND ($2::text IS NULL OR coalesce(l."flowId", od."flowId") = $2)
        AND ($3 OR (l."replayedAt" IS NULL AND l."discardedAt" IS NULL))
        AND ($4::text IS NULL OR l.target = $4)`;

/** Newest first (by when they failed, then event sequence, then id): the key pages continue by. */
export async function listDeadLetters(pool: pg.Pool, query: DeadLetterQuery = {}): Promise<DeadLetterView[]> {
  const { rows } = await pool.query<DeadLetterView>(
    `SELECT l.id, l."eventSeq"::text AS "eventSeq", e.id AS "eventId", e.source AS "eventSource", e.type AS "eventType",
            coalesce(l."flowId", od."flowId") AS "flowId", l."deploymentId", ov.version, l.target, l.reason, l.attempts,
            ${ISO('l."createdAt"')} AS "createdAt", ${ISO('l."replayedAt"')} AS "replayedAt", rv.version AS "replayedToVersion"
       FROM dead_letter l JOIN event e ON e.seq = l."eventSeq"
       LEFT JOIN deployment od ON od.id = l."deploymentId" LEFT JOIN flow_version ov ON ov.id = od."flowVersionId"
       LEFT JOIN deployment rd ON rd.id = l."replayedToDeploymentId" LEFT JOIN flow_version rv ON rv.id = rd."flowVersionId"
      WHERE ${WHERE}
        AND ($6::timestamp IS NULL OR (l."createdAt", l."eventSeq", l.id) < ($6::timestamp, $7::bigint, $8::text))
      ORDER BY l."createdAt" DESC, l."eventSeq" DESC, l.id DESC
      LIMIT $5`,
    [
      query.deploymentId ?? null,
      query.flowId ?? null,
      query.all ?? false,
      query.target ?? null,
      query.limit ?? 100,
      query.after?.createdAt ?? null,
      query.after?.eventSeq ?? null,
      query.after?.id ?? null,
    ],
  );
  return rows;
}

/** How many letters the query matches in all (its limit and position aside). */
export async function countDeadLetters(pool: pg.Pool, query: Omit<DeadLetterQuery, 'limit' | 'after'> = {}): Promise<number> {
  const { rows } = await pool.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM dead_letter l LEFT JOIN deployment od ON od.id = l."deploymentId" WHERE ${WHERE}`,
    [query.deploymentId ?? null, query.flowId ?? null, query.all ?? false, query.target ?? null],
  );
  return rows[0]?.n ?? 0;
}

/** `live`: the flow's deployment now active (the default); `original`: the deployment that failed. */
export type ReplayTo = 'live' | 'original';

export interface ReplayOutcome {
  /** The letters queued again, each with the deployment and version it went to. */
  replayed: { id: string; flowId: string; flowName: string; deploymentId: string; version: number }[];
  /** The letters left as they were, and why. */
  refused: { id: string; reason: string }[];
}

export async function replayDeadLetters(pool: pg.Pool, ids: string[], to: ReplayTo = 'live'): Promise<ReplayOutcome> {
  if (ids.length === 0) return { replayed: [], refused: [] };
  const { rows } = await pool.query<ReplayOutcome['replayed'][number]>(
    `WITH chosen AS (
       SELECT l.id, l."eventSeq", CASE WHEN $2 = 'original' THEN od.id ELSE live.id END AS "toDeployment"
         FROM dead_letter l
         LEFT JOIN deployment od ON od.id = l."deploymentId"
         LEFT JOIN LATERAL (
           SELECT d.id FROM deployment d
            WHERE d."flowId" = coalesce(l."flowId", od."flowId") AND d.status = 'active'
            ORDER BY d."createdAt" DESC LIMIT 1
         ) live ON true
        WHERE l.id = ANY($1::text[]) AND l."replayedAt" IS NULL AND l."discardedAt" IS NULL
        FOR UPDATE OF l
     ), replayed AS (
       UPDATE dead_letter SET "replayedAt" = LOCALTIMESTAMP, "replayedToDeploymentId" = c."toDeployment"
         FROM chosen c
        WHERE dead_letter.id = c.id AND c."toDeployment" IS NOT NULL AND dead_letter."replayedAt" IS NULL AND dead_letter."discardedAt" IS NULL
       RETURNING dead_letter.id, dead_letter."eventSeq", c."toDeployment"
     ), queued AS (
       INSERT INTO delivery ("eventSeq", "deploymentId") SELECT "eventSeq", "toDeployment" FROM replayed RETURNING 1
     )
     SELECT r.id, d."flowId", f.name AS "flowName", d.id AS "deploymentId", v.version
       FROM replayed r JOIN deployment d ON d.id = r."toDeployment" JOIN flow f ON f.id = d."flowId" JOIN flow_version v ON v.id = d."flowVersionId"`,
    [ids, to],
  );
  const done = new Set(rows.map((r) => r.id));
  const left = ids.filter((id) => !done.has(id));
  return { replayed: rows, refused: left.length === 0 ? [] : await whyNotReplayed(pool, left, to) };
}

/** For letters a replay left alone: what stopped each, and what would let it go. */
async function whyNotReplayed(pool: pg.Pool, ids: string[], to: ReplayTo): Promise<ReplayOutcome['refused']> {
  const { rows } = await pool.query<{ id: string; replayed: boolean; discarded: boolean; flowName: string | null; original: number | null }>(
    `SELECT l.id, l."replayedAt" IS NOT NULL AS replayed, l."discardedAt" IS NOT NULL AS discarded, f.name AS "flowName", ov.version AS original
       FROM dead_letter l
       LEFT JOIN deployment od ON od.id = l."deploymentId" LEFT JOIN flow_version ov ON ov.id = od."flowVersionId"
       LEFT JOIN flow f ON f.id = coalesce(l."flowId", od."flowId")
      WHERE l.id = ANY($1::text[])`,
    [ids],
  );
  const found = new Map(rows.map((r) => [r.id, r]));
  return ids.map((id) => {
    const r = found.get(id);
    if (!r) return { id, reason: `dead letter ${id} does not exist` };
    if (r.replayed) return { id, reason: 'it was replayed already' };
    if (r.discarded) return { id, reason: 'it was discarded' };
    if (r.flowName === null) return { id, reason: 'its flow was deleted, so there is nothing to replay it to; discard it' };
    if (to === 'live') {
      return {
        id,
        reason: `flow “${r.flowName}” is not deployed: deploy it and replay again${r.original !== null ? `, or replay to the original version v${r.original}` : ''} (the letter stays here)`,
      };
    }
    return { id, reason: `the original deployment of flow “${r.flowName}” no longer exists; replay to the live version instead` };
  });
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
