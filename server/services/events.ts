/**
 * The event log for the studio: a filtered list, a live tail, and one event with what became
 * of it. The studio is not the worker, so the tail polls the log by `seq` (its primary key:
 * one cheap index range scan per tick) rather than sharing the worker's memory.
 */
import type pg from 'pg';
import { z } from 'zod';
import { ServiceError } from './errors';
import { cursorInput, decodeCursor, pageOf, type Page } from './pages';
import { nodeName, nodeNames, type NodeName } from './flow-nodes';

export const eventFilterInput = z.object({
  type: z.string().trim().max(200).optional(),
  source: z.string().trim().max(500).optional(),
  subject: z.string().trim().max(500).optional(),
});

export const listEventsInput = eventFilterInput.extend({
  limit: z.number().int().min(1).max(200).default(50),
  cursor: cursorInput,
  /** Start below this sequence number (the live tail's oldest row) instead of at the newest event. */
  beforeSeq: z.string().regex(/^\d+$/, 'beforeSeq is an event sequence number').optional(),
});

export interface EventSummary {
  seq: string;
  id: string;
  source: string;
  type: string;
  subject: string | null;
  receivedAt: Date;
}

type EventFilter = z.infer<typeof eventFilterInput>;

// Type and source match by prefix (families of types, sources under a path); subject exactly or by prefix.
const FILTER = `($1::text IS NULL OR type LIKE $1 || '%') AND ($2::text IS NULL OR source LIKE $2 || '%') AND ($3::text IS NULL OR subject LIKE $3 || '%')`;
// `event.seq`, qualified: a bare `seq` in ORDER BY would name the text output column and sort 10 before 9.
const COLUMNS = `event.seq::text AS seq, id, source, type, subject, "receivedAt"`;

function filterValues(filter: EventFilter): (string | null)[] {
  return [filter.type || null, filter.source || null, filter.subject || null];
}

/** Newest first, by sequence number; each page continues below the last one's lowest `seq`. */
export async function listEvents(pool: pg.Pool, input: z.input<typeof listEventsInput>): Promise<Page<EventSummary>> {
  const q = listEventsInput.parse(input);
  const before = q.cursor ? String(decodeCursor(q.cursor, ['s'], 'event')[0]) : (q.beforeSeq ?? null);
  if (before !== null && !/^\d+$/.test(before)) throw new ServiceError('BAD_REQUEST', 'the cursor is not one this event list handed out; start again from the first page');
  const { rows } = await pool.query<EventSummary>(
    `SELECT ${COLUMNS} FROM event WHERE ${FILTER} AND ($5::bigint IS NULL OR event.seq < $5::bigint) ORDER BY event.seq DESC LIMIT $4`,
    [...filterValues(q), q.limit + 1, before],
  );
  return pageOf(rows, q.limit, (row) => [row.seq]);
}

export const tailInput = eventFilterInput.extend({
  /** The `seq` of the last event the client saw; after a reconnect the tail goes on from there. */
  lastEventId: z.string().regex(/^\d+$/).nullish(),
});

const TAIL_POLL_MS = 200;
const TAIL_BACKLOG = 20;

/**
 * New events matching the filter, oldest first, as they are logged: the last few at once
 * (so the tail never opens empty), then each as it arrives, until `signal` aborts.
 */
export async function* tailEvents(pool: pg.Pool, input: z.infer<typeof tailInput>, signal: AbortSignal | undefined): AsyncGenerator<EventSummary> {
  const values = filterValues(input);
  let last: string;
  if (input.lastEventId) last = input.lastEventId;
  else {
    const { rows } = await pool.query<EventSummary>(`SELECT ${COLUMNS} FROM event WHERE ${FILTER} ORDER BY event.seq DESC LIMIT $4`, [...values, TAIL_BACKLOG]);
    const { rows: top } = await pool.query<{ seq: string | null }>(`SELECT max(seq)::text AS seq FROM event`);
    for (const row of rows.reverse()) yield row;
    last = top[0]?.seq ?? '0';
  }
  while (!signal?.aborted) {
    const { rows } = await pool.query<EventSummary>(`SELECT ${COLUMNS} FROM event WHERE event.seq > $4 AND ${FILTER} ORDER BY event.seq LIMIT 500`, [...values, last]);
    for (const row of rows) {
      last = row.seq;
      yield row;
    }
    if (rows.length < 500) {
      // One abort listener per wait, removed again when the wait ends by itself: a listener
      // left behind per poll piles up on the subscription's signal (MaxListenersExceededWarning).
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          signal?.removeEventListener('abort', done);
          resolve();
        };
        const timer = setTimeout(done, TAIL_POLL_MS);
        signal?.addEventListener('abort', done, { once: true });
      });
    }
  }
}

export const eventRefInput = z.object({ seq: z.string().regex(/^\d+$/, 'an event sequence number is required') });

/**
 * Deliveries of event `$1` that the accepting worker is sending itself have no `delivery` row,
 * only a place in a `delivery_handoff` row until their outcome (or retry, or dead letter) is recorded.
 */
const HANDED_OVER = `SELECT it->>1 AS "deploymentId",`;
const HANDED_OVER_FROM = `FROM delivery_handoff h CROSS JOIN LATERAL jsonb_array_elements(h.items) AS it
          WHERE h.items @> jsonb_build_array(jsonb_build_array($1::bigint)) AND (it->>0)::bigint = $1::bigint
            AND NOT EXISTS (SELECT 1 FROM delivery_outcome o WHERE o."eventSeq" = $1::bigint AND o."deploymentId" = it->>1)
            AND NOT EXISTS (SELECT 1 FROM delivery d WHERE d."eventSeq" = $1::bigint AND d."deploymentId" = it->>1)
            AND NOT EXISTS (SELECT 1 FROM dead_letter l WHERE l."eventSeq" = $1::bigint AND l."deploymentId" = it->>1)`;

/** One event: attributes and data, the deployments it matched, and each delivery's outcome. */
export async function getEvent(pool: pg.Pool, seq: string) {
  const { rows } = await pool.query<{
    seq: string;
    id: string;
    source: string;
    type: string;
    subject: string | null;
    time: Date | null;
    datacontenttype: string | null;
    dataschema: string | null;
    data: unknown;
    dataBase64: string | null;
    extensions: Record<string, unknown>;
    ingress: string;
    receivedAt: Date;
  }>(
    `SELECT seq::text, id, source, type, subject, "time", datacontenttype, dataschema, data, "dataBase64", extensions, ingress, "receivedAt"
       FROM event WHERE seq = $1`,
    [seq],
  );
  const event = rows[0];
  if (!event) throw new ServiceError('NOT_FOUND', `event ${seq} is not in the log (it may have passed the retention window)`);
  // Every trace the event left: queued or retrying deliveries, recorded outcomes, dead letters and runs.
  const { rows: deliveries } = await pool.query<{
    deploymentId: string | null;
    flowId: string | null;
    flowName: string | null;
    kind: 'pending' | 'retrying' | 'delivered' | 'filtered' | 'retried' | 'dead_lettered' | 'run';
    attempt: number | null;
    detail: string | null;
    ref: string | null;
    at: Date;
  }>(
    `SELECT x."deploymentId", f.id AS "flowId", f.name AS "flowName", x.kind, x.attempt, x.detail, x.ref, x.at
       FROM (
         -- A queued delivery that already failed waits for its next attempt: retrying, not failed.
         SELECT "deploymentId", CASE WHEN "lastError" IS NULL THEN 'pending' ELSE 'retrying' END AS kind, attempts AS attempt, "lastError" AS detail,
                NULL::text AS ref, "availableAt" AS at FROM delivery WHERE "eventSeq" = $1
         UNION ALL
         -- Being sent by the worker that accepted it (delivery_handoff), nothing recorded yet.
         ${HANDED_OVER} 'pending', 1, NULL, NULL, h."availableAt" ${HANDED_OVER_FROM}
         UNION ALL
         SELECT "deploymentId", outcome, attempt, coalesce(error, reason), NULL, "at" FROM delivery_outcome WHERE "eventSeq" = $1
         UNION ALL
         SELECT "deploymentId", 'dead_lettered', attempts, reason, id, "createdAt" FROM dead_letter WHERE "eventSeq" = $1
         UNION ALL
         SELECT "deploymentId", 'run', NULL, status::text, id, "startedAt" FROM run WHERE "eventSeq" = $1
       ) x
       LEFT JOIN deployment d ON d.id = x."deploymentId" LEFT JOIN flow f ON f.id = d."flowId"
      ORDER BY x.at, x.kind`,
    [seq],
  );
  const matched = new Map<string, { deploymentId: string; flowId: string | null; flowName: string | null }>();
  // An event filtered out at ingress (attempt 0) was considered, not matched: the explanation lists those.
  for (const d of deliveries) if (d.deploymentId && !(d.kind === 'filtered' && d.attempt === 0)) matched.set(d.deploymentId, { deploymentId: d.deploymentId, flowId: d.flowId, flowName: d.flowName });
  return { event, subscriptions: [...matched.values()], deliveries, explanation: await explainEvent(pool, seq) };
}

export interface Decision {
  deploymentId: string;
  flowId: string | null;
  flowName: string | null;
  version: number | null;
  /** What became of the event in this deployment, as of now. */
  outcome: 'filtered' | 'pending' | 'delivered' | 'dead_lettered' | 'run';
  /** The node it ended at: the filter that dropped it, or the target. */
  node: NodeName | null;
  /** Why, in words: the filter's reason, the last error, or the run's status. */
  reason: string | null;
  /** The run page of this execution: the engine's run, or the pipeline run of this event and deployment. */
  runId: string | null;
  /** One sentence saying all of the above, the same in the studio and the CLI. */
  summary: string;
}

/** The id of the run page of one event through one pipeline deployment. */
export const pipelineRunId = (seq: string, deploymentId: string) => `pipeline-${seq}-${deploymentId}`;

function sentence(d: Omit<Decision, 'summary'>, attempts: number | null): string {
  const flow = d.flowName ?? 'a deleted flow';
  const at = d.node?.label ?? 'an unknown node';
  switch (d.outcome) {
    case 'filtered': {
      const source = d.node?.kind === 'http-webhook' ? 'webhook' : 'source';
      const reason = d.reason?.startsWith('accepts type') ? `${source} ${d.reason}` : (d.reason ?? 'no reason recorded');
      return `filtered by ${flow} at ${at}: ${reason}`;
    }
    case 'delivered':
      return `delivered by ${flow} to ${at}${attempts && attempts > 1 ? ` on attempt ${attempts}` : ''}`;
    case 'pending':
      return `waiting in ${flow}${attempts ? ` after ${attempts} attempt${attempts === 1 ? '' : 's'}` : ''}${d.reason ? `; last error: ${d.reason}` : ''}`;
    case 'dead_lettered':
      return `dead-lettered by ${flow}${d.node ? ` at ${at}` : ''}: ${d.reason ?? 'no reason recorded'}`;
    case 'run':
      return `started a run of ${flow} (${d.reason ?? 'unknown status'})`;
  }
}

/**
 * Every deployment that considered an event and what became of it there, from what the
 * worker recorded while routing and delivering it (nothing is re-evaluated here): the
 * filter node and reason for a filtered event, the queue for a waiting one, the outcome of
 * its delivery, or the run it started.
 */
export async function explainEvent(pool: pg.Pool, seq: string): Promise<{ considered: number; ingress: string; decisions: Decision[]; summary: string }> {
  const { rows: head } = await pool.query<{ considered: number; ingress: string }>(`SELECT considered, ingress FROM event WHERE seq = $1`, [seq]);
  if (!head[0]) throw new ServiceError('NOT_FOUND', `event ${seq} is not in the log (it may have passed the retention window)`);
  const { rows } = await pool.query<{
    deploymentId: string;
    rank: number;
    outcome: Decision['outcome'];
    task: string | null;
    reason: string | null;
    attempt: number | null;
    ref: string | null;
    flowId: string | null;
    flowName: string | null;
    version: number | null;
    graph: unknown;
  }>(
    // The latest of each deployment's traces decides; waiting beats everything (a replay or re-run is under way).
    `SELECT DISTINCT ON (x."deploymentId") x."deploymentId", x.rank, x.outcome, x.task, x.reason, x.attempt, x.ref,
            f.id AS "flowId", f.name AS "flowName", v.version, v.graph
       FROM (
         SELECT "deploymentId", 5 AS rank, 'pending' AS outcome, NULL::text AS task, "lastError" AS reason, attempts AS attempt, NULL::text AS ref, "createdAt" AS at
           FROM delivery WHERE "eventSeq" = $1
         UNION ALL
         ${HANDED_OVER} 5, 'pending', NULL, NULL, 1, NULL, LOCALTIMESTAMP ${HANDED_OVER_FROM}
         UNION ALL
         SELECT "deploymentId", 4, 'run', NULL, status::text, NULL, id, "startedAt" FROM run WHERE "eventSeq" = $1 AND "deploymentId" IS NOT NULL
         UNION ALL
         SELECT "deploymentId", CASE outcome WHEN 'delivered' THEN 3 ELSE 1 END, outcome, task, reason, attempt, NULL, "at"
           FROM delivery_outcome WHERE "eventSeq" = $1 AND outcome IN ('delivered', 'filtered')
         UNION ALL
         SELECT l."deploymentId", 2, 'dead_lettered', NULL, l.reason, l.attempts, l.id, l."createdAt"
           FROM dead_letter l WHERE l."eventSeq" = $1 AND l."deploymentId" IS NOT NULL AND l."replayedAt" IS NULL
       ) x
       LEFT JOIN deployment d ON d.id = x."deploymentId" LEFT JOIN flow f ON f.id = d."flowId" LEFT JOIN flow_version v ON v.id = d."flowVersionId"
      ORDER BY x."deploymentId", x.rank DESC, x.at DESC`,
    [seq],
  );
  const decisions = rows.map((r): Decision => {
    const names = nodeNames(r.graph);
    const decision = {
      deploymentId: r.deploymentId,
      flowId: r.flowId,
      flowName: r.flowName,
      version: r.version,
      outcome: r.outcome,
      node: r.task === null ? null : nodeName(names, r.task),
      reason: r.reason,
      runId: r.outcome === 'run' ? r.ref : pipelineRunId(seq, r.deploymentId),
    };
    return { ...decision, summary: sentence(decision, r.attempt) };
  });
  decisions.sort((a, b) => (a.flowName ?? '').localeCompare(b.flowName ?? '') || a.deploymentId.localeCompare(b.deploymentId));
  const { considered, ingress } = head[0];
  const where = ingress.startsWith('hook:') ? `webhook ${ingress.slice(5)}` : ingress;
  const summary =
    decisions.length === 0
      ? considered === 0
        ? `no deployed flow listened on ${where} when this event arrived`
        : `${considered} ${deployments(considered)} considered this event but left no record (they may have been deleted)`
      : `${decisions.length} ${deployments(decisions.length)} considered this event on ${where}`;
  return { considered, ingress, decisions, summary };
}

const deployments = (n: number) => (n === 1 ? 'deployment' : 'deployments');

export const explainInput = z.object({
  /** The event's CloudEvents id, or its sequence number in the log. */
  ref: z.string().trim().min(1, 'an event id or sequence number is required').max(500),
});

/** The explanation of the newest logged event with this CloudEvents id (or, failing that, this seq). */
export async function explainEventByRef(pool: pg.Pool, ref: string) {
  const { rows } = await pool.query<{ seq: string; id: string; source: string; type: string; receivedAt: Date }>(
    `SELECT seq::text, id, source, type, "receivedAt" FROM event WHERE id = $1 OR ($1 ~ '^[0-9]{1,18}$' AND seq = $1::bigint) ORDER BY (id = $1) DESC, seq DESC LIMIT 1`,
    [ref],
  );
  const event = rows[0];
  if (!event) throw new ServiceError('NOT_FOUND', `no event with id or sequence number "${ref}" is in the log (it may have passed the retention window)`);
  return { event, ...(await explainEvent(pool, event.seq)) };
}
