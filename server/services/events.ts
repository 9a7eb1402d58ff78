/**
 * The event log for the studio: a filtered list, a live tail, and one event with what became
 * of it. The studio is not the worker, so the tail polls the log by `seq` (its primary key:
 * one cheap index range scan per tick) rather than sharing the worker's memory.
 */
import type pg from 'pg';
import { z } from 'zod';
import { ServiceError } from './errors';

export const eventFilterInput = z.object({
  type: z.string().trim().max(200).optional(),
  source: z.string().trim().max(500).optional(),
  subject: z.string().trim().max(500).optional(),
});

export const listEventsInput = eventFilterInput.extend({
  limit: z.number().int().min(1).max(200).default(50),
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
const COLUMNS = `seq::text, id, source, type, subject, "receivedAt"`;

function filterValues(filter: EventFilter): (string | null)[] {
  return [filter.type || null, filter.source || null, filter.subject || null];
}

export async function listEvents(pool: pg.Pool, input: z.input<typeof listEventsInput>): Promise<EventSummary[]> {
  const q = listEventsInput.parse(input);
  const { rows } = await pool.query<EventSummary>(`SELECT ${COLUMNS} FROM event WHERE ${FILTER} ORDER BY seq DESC LIMIT $4`, [...filterValues(q), q.limit]);
  return rows;
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
    const { rows } = await pool.query<EventSummary>(`SELECT ${COLUMNS} FROM event WHERE ${FILTER} ORDER BY seq DESC LIMIT $4`, [...values, TAIL_BACKLOG]);
    const { rows: top } = await pool.query<{ seq: string | null }>(`SELECT max(seq)::text AS seq FROM event`);
    for (const row of rows.reverse()) yield row;
    last = top[0]?.seq ?? '0';
  }
  while (!signal?.aborted) {
    const { rows } = await pool.query<EventSummary>(`SELECT ${COLUMNS} FROM event WHERE seq > $4 AND ${FILTER} ORDER BY seq LIMIT 500`, [...values, last]);
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
    kind: 'pending' | 'delivered' | 'filtered' | 'retried' | 'dead_lettered' | 'run';
    attempt: number | null;
    detail: string | null;
    ref: string | null;
    at: Date;
  }>(
    `SELECT x."deploymentId", f.id AS "flowId", f.name AS "flowName", x.kind, x.attempt, x.detail, x.ref, x.at
       FROM (
         SELECT "deploymentId", 'pending' AS kind, attempts AS attempt, "lastError" AS detail, NULL::text AS ref, "availableAt" AS at FROM delivery WHERE "eventSeq" = $1
         UNION ALL
         SELECT "deploymentId", outcome, attempt, error, NULL, "at" FROM delivery_outcome WHERE "eventSeq" = $1
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
  for (const d of deliveries) if (d.deploymentId) matched.set(d.deploymentId, { deploymentId: d.deploymentId, flowId: d.flowId, flowName: d.flowName });
  return { event, subscriptions: [...matched.values()], deliveries };
}
