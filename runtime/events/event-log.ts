/**
 * The durable event log in PostgreSQL, with group commit: appends from concurrent requests
 * queue up while a write is in flight and go out together as one statement — a multi-row
 * INSERT of the events plus the delivery rows of their subscriptions, one transaction, one
 * WAL flush — so every caller's promise resolves only after its events are committed, and
 * durability costs one commit per batch rather than per request.
 *
 * A repeat of a `(source, id)` already in the log is acknowledged but neither stored nor
 * routed again: ON CONFLICT DO NOTHING makes that race-free across workers.
 *
 * One request must never fail the others it was committed with. Ingress validation refuses
 * what PostgreSQL would (runtime/events/cloudevent.ts), but should a value still be refused
 * by the database (a data exception, not an outage), the batch is split in halves and each
 * half committed again, until the request at fault stands alone: it alone is refused, with a
 * 400 that quotes the database, and every other request is committed as if it had never met it.
 */
import type pg from 'pg';
import { IngressError, extensionsOf, type CloudEventRecord } from './cloudevent.ts';
import { NO_COMPLETIONS, completionCtes, handoffDeliveryId, type ClaimedDelivery, type PreparedCompletion } from './delivery-queue.ts';
import type { FilteredRoute, Route } from './subscriptions.ts';

export interface AppendEntry {
  event: CloudEventRecord;
  ingress: string;
  routes: Route[];
  /** Deployments that considered the event and dropped it: recorded with it, so the studio can say why. */
  filtered?: FilteredRoute[];
}

export interface AppendOutcome {
  /** False when the log already held this `(source, id)`. */
  stored: boolean;
}

interface Pending {
  entries: AppendEntry[];
  resolve: (outcomes: AppendOutcome[]) => void;
  reject: (error: Error) => void;
}

export interface EventLogOptions {
  /** Most events in one statement. */
  maxBatch?: number;
  /**
   * Statements in flight at once; more overlap commits, fewer batch better. One by default:
   * a second slot mostly carried a request or two while the first committed, which doubled the
   * statements (and the database's CPU per event) without a better p99 (docs/performance.md).
   */
  maxInFlight?: number;
  /** Told after each commit how many deliveries it queued. */
  onCommit?: (batchSize: number, queued: number) => void;
  /** Told after each commit which entries were stored (not repeats), to count where they went. */
  onStored?: (entries: AppendEntry[]) => void;
  /**
   * Deliveries this worker sends itself: instead of a `delivery` row each, the commit records
   * them in one `delivery_handoff` row leased to `owner`, and they are handed to `adopt` after
   * the commit, which saves the claim's round trip, its read of the event back, and the row's
   * insert and delete. A crash loses nothing: the lease runs out and any worker turns those
   * without a record into `delivery` rows (DeliveryQueue). `reserve` says how many the loop can
   * take (at most `wanted`); `adopt` gets them with what was reserved, also when fewer (or none)
   * were stored.
   */
  lease?: {
    owner: string;
    ms: number;
    /** Whether a route's deliveries may be handed over directly (not ordered, not a workflow's). */
    direct: (route: Route) => boolean;
    reserve: (wanted: number) => number;
    adopt: (deliveries: ClaimedDelivery[], reserved: number) => void;
  };
  /**
   * Delivery completions waiting for a statement (the delivery loop's `takeCompletions`): each
   * append records them in its own transaction, so that they cost no commit of their own.
   * Should the append fail they are handed back (`returned`) and the append is tried again
   * without them: they can never be what fails an ingress request.
   */
  completions?: () => PreparedCompletion | undefined;
}

const APPEND = `
WITH ${completionCtes(4, false)},
input AS (
  SELECT * FROM jsonb_to_recordset($1::jsonb) AS x(
    i int, id text, source text, type text, subject text, "time" timestamptz, datacontenttype text,
    dataschema text, data jsonb, has_data boolean, data_base64 text, extensions jsonb, ingress text, routes jsonb, filtered jsonb)
), ins AS (
  INSERT INTO event (id, source, type, subject, "time", specversion, datacontenttype, dataschema, data, "dataBase64", extensions, ingress, considered)
  SELECT id, source, type, subject, "time" AT TIME ZONE 'UTC', '1.0', datacontenttype, dataschema,
         CASE WHEN has_data THEN coalesce(data, 'null'::jsonb) END, data_base64, extensions, ingress,
         jsonb_array_length(routes) + jsonb_array_length(filtered)
    FROM input ORDER BY i
  ON CONFLICT (source, id) DO NOTHING
  RETURNING seq, source, id
), dropped AS (
  INSERT INTO delivery_outcome ("eventSeq", "deploymentId", outcome, attempt, task, reason, "at")
  SELECT ins.seq, f."deploymentId", 'filtered', 0, f.task, f.reason, LOCALTIMESTAMP
    FROM ins JOIN input ON input.source = ins.source AND input.id = ins.id
    CROSS JOIN LATERAL jsonb_to_recordset(input.filtered) AS f("deploymentId" text, task text, reason text)
), routed AS (
  SELECT ins.seq, r."deploymentId", r."orderingKey", r.lease
    FROM ins JOIN input ON input.source = ins.source AND input.id = ins.id
    CROSS JOIN LATERAL jsonb_to_recordset(input.routes) AS r("deploymentId" text, "orderingKey" text, lease boolean)
), queued AS (
  INSERT INTO delivery ("eventSeq", "deploymentId", "orderingKey", "availableAt", attempts)
  SELECT seq, "deploymentId", "orderingKey", LOCALTIMESTAMP, 0 FROM routed WHERE NOT lease ORDER BY seq
  RETURNING 1
), handed AS (
  INSERT INTO delivery_handoff ("leaseOwner", "availableAt", items)
  SELECT $2, LOCALTIMESTAMP + make_interval(secs => $3::double precision / 1000), jsonb_agg(jsonb_build_array(seq, "deploymentId"))
    FROM routed WHERE lease HAVING count(*) > 0
  RETURNING id
), stored AS (
  SELECT input.i, ins.seq, array_agg(r."deploymentId") FILTER (WHERE r.lease) AS leased
    FROM ins JOIN input ON input.source = ins.source AND input.id = ins.id
    LEFT JOIN routed r ON r.seq = ins.seq
   GROUP BY input.i, ins.seq
)
SELECT (SELECT count(*) FROM queued)::int AS queued, (SELECT id::text FROM handed) AS handoff,
       (SELECT coalesce(jsonb_agg(jsonb_build_array(i, seq::text, leased)), '[]'::jsonb) FROM stored) AS stored`;

interface AppendResult {
  queued: number;
  handoff: string | null;
  stored: [i: number, seq: string, leased: string[] | null][];
}

/** An event's columns as the append statements read them from `jsonb_to_recordset` (here and in jetstream/records.ts). */
export function eventColumns(e: CloudEventRecord) {
  return {
    id: e.id,
    source: e.source,
    type: e.type,
    subject: e.subject ?? null,
    time: e.time ?? null,
    datacontenttype: e.datacontenttype ?? null,
    dataschema: e.dataschema ?? null,
    data: 'data' in e ? e.data : null,
    has_data: 'data' in e,
    data_base64: e.data_base64 ?? null,
    extensions: extensionsOf(e),
  };
}

function toRow(entry: AppendEntry, i: number, routes: (Route & { lease: boolean })[]): Record<string, unknown> {
  return {
    i,
    ...eventColumns(entry.event),
    ingress: entry.ingress,
    routes,
    filtered: (entry.filtered ?? []).map((f) => ({ deploymentId: f.deploymentId, task: f.task, reason: f.reason })),
  };
}

/**
 * Whether an append failed because of what it holds rather than the database's state: SQLSTATE
 * classes 22 (data exception: bad text, jsonb, timestamps) and 54 (limits such as stack
 * depth), or the rows not even serialising. Anything else (connection lost, shutdown,
 * serialisation failure…) is an outage the whole batch shares.
 */
function isDataError(error: unknown): boolean {
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string') return code.startsWith('22') || code.startsWith('54');
  return error instanceof RangeError || error instanceof TypeError;
}

export class EventLog {
  private queue: Pending[] = [];
  private inFlight = 0;
  private readonly maxBatch: number;
  private readonly maxInFlight: number;

  constructor(
    private readonly pool: pg.Pool,
    private readonly options: EventLogOptions = {},
  ) {
    this.maxBatch = options.maxBatch ?? 1000;
    this.maxInFlight = options.maxInFlight ?? 1;
  }

  /** Resolves once the entries are committed (or found to be duplicates), in order. */
  append(entries: AppendEntry[]): Promise<AppendOutcome[]> {
    if (entries.length === 0) return Promise.resolve([]);
    return new Promise((resolve, reject) => {
      this.queue.push({ entries, resolve, reject });
      this.flush();
    });
  }

  private flush(): void {
    while (this.inFlight < this.maxInFlight && this.queue.length > 0) {
      const batch: Pending[] = [];
      let size = 0;
      while (this.queue.length > 0 && (size === 0 || size + this.queue[0]!.entries.length <= this.maxBatch)) {
        const next = this.queue.shift()!;
        batch.push(next);
        size += next.entries.length;
      }
      this.inFlight += 1;
      this.write(batch)
        .catch(() => {})
        .finally(() => {
          this.inFlight -= 1;
          this.flush();
        });
    }
  }

  /** Commits the batch; on a data error, the halves apart, down to the one request at fault. */
  private async write(batch: Pending[]): Promise<void> {
    try {
      await this.commit(batch);
    } catch (error) {
      if (!isDataError(error)) {
        for (const pending of batch) pending.reject(error as Error);
        throw error;
      }
      if (batch.length === 1) {
        const reason = (error as Error).message;
        batch[0]!.reject(new IngressError(400, 'Event not storable', `the event log refused this request's events: ${reason}`));
        return;
      }
      const half = Math.ceil(batch.length / 2);
      await this.write(batch.slice(0, half)).catch(() => {});
      await this.write(batch.slice(half)).catch(() => {});
    }
  }

  /** One statement for the whole batch; throws without settling anyone when it fails. */
  private async commit(batch: Pending[]): Promise<void> {
    // Within a batch the first of a repeated (source, id) is the one stored.
    const lease = this.options.lease;
    const firstIndex = new Map<string, number>();
    const entries: AppendEntry[] = [];
    const slots: number[][] = [];
    for (const pending of batch) {
      slots.push(
        pending.entries.map((entry) => {
          const key = `${entry.event.source}\u0000${entry.event.id}`;
          if (firstIndex.has(key)) return -1;
          firstIndex.set(key, entries.length);
          entries.push(entry);
          return entries.length - 1;
        }),
      );
    }
    let direct = 0;
    if (lease) for (const entry of entries) for (const route of entry.routes) if (lease.direct(route)) direct += 1;
    const reserved = direct > 0 ? lease!.reserve(direct) : 0;
    let leasing = reserved;
    const rows = entries.map((entry, i) =>
      toRow(
        entry,
        i,
        entry.routes.map((route) => {
          const leased = leasing > 0 && lease!.direct(route);
          if (leased) leasing -= 1;
          return { ...route, lease: leased };
        }),
      ),
    );
    const text = JSON.stringify(rows);
    // Named: each connection parses and plans the statement once, not once per batch.
    const run = (completions: readonly unknown[]) =>
      this.pool.query<AppendResult>({
        name: 'meshflow-event-append',
        text: APPEND,
        values: [text, lease?.owner ?? null, lease?.ms ?? 0, ...completions],
      });
    const ride = this.options.completions?.();
    let result: pg.QueryResult<AppendResult>;
    try {
      try {
        result = await run(ride?.values ?? NO_COMPLETIONS);
      } catch (error) {
        if (!ride) throw error;
        // The completions go back to their own statement; the events are tried alone, so that
        // only what they hold decides whether they are refused.
        ride.settle('returned');
        if (!isDataError(error)) throw error;
        result = await run(NO_COMPLETIONS);
      }
    } catch (error) {
      if (reserved > 0) lease!.adopt([], reserved);
      throw error;
    }
    // One row: what was queued, the handoff, and [entry index, seq, leased deployments] per stored event.
    const { queued, handoff, stored: storedRows } = result.rows[0]!;
    const stored = new Set(storedRows.map(([i]) => i));
    const adopted: ClaimedDelivery[] = [];
    for (const [i, seq, leased] of storedRows) {
      const event = entries[i]!.event;
      for (const deploymentId of leased ?? []) {
        adopted.push({ id: handoffDeliveryId(handoff!, seq, deploymentId), deploymentId, attempts: 1, event, ageMs: 0 });
      }
    }
    // The acknowledgements first: what follows (metrics, starting deliveries) need not delay them.
    batch.forEach((pending, b) => pending.resolve(slots[b]!.map((slot) => ({ stored: slot >= 0 && stored.has(slot) }))));
    // Only the deliveries nobody holds yet (the `delivery` rows) are news for the claiming loop.
    this.options.onCommit?.(rows.length, queued);
    this.options.onStored?.(storedRows.map(([i]) => entries[i]!));
    if (reserved > 0) lease!.adopt(adopted, reserved);
    ride?.settle('recorded');
  }
}

/**
 * Deletes events older than the retention window that nothing still needs: no pending
 * delivery and no dead letter waiting for a decision; their outcomes go with them (no foreign
 * key does it: it would lock the event row for every outcome inserted). Returns how many went.
 */
export async function sweepEventLog(pool: pg.Pool, retentionMs: number, limit = 10_000): Promise<number> {
  const { rows } = await pool.query<{ n: number }>(
    `WITH swept AS (
       DELETE FROM event WHERE seq IN (
         SELECT e.seq FROM event e
          WHERE e."receivedAt" < LOCALTIMESTAMP - make_interval(secs => $1::double precision / 1000)
            AND NOT EXISTS (SELECT 1 FROM delivery d WHERE d."eventSeq" = e.seq)
            AND NOT EXISTS (SELECT 1 FROM dead_letter l WHERE l."eventSeq" = e.seq AND l."replayedAt" IS NULL AND l."discardedAt" IS NULL)
          ORDER BY e.seq LIMIT $2)
       RETURNING seq
     ), outcomes AS (
       DELETE FROM delivery_outcome o USING swept WHERE o."eventSeq" = swept.seq
     )
     SELECT count(*)::int AS n FROM swept`,
    [retentionMs, limit],
  );
  return rows[0]?.n ?? 0;
}
