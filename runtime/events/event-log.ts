/**
 * The durable event log in PostgreSQL, with group commit: appends from concurrent requests
 * queue up while a write is in flight and go out together as one statement — a multi-row
 * INSERT of the events plus the delivery rows of their subscriptions, one transaction, one
 * WAL flush — so every caller's promise resolves only after its events are committed, and
 * durability costs one commit per batch rather than per request.
 *
 * A repeat of a `(source, id)` already in the log is acknowledged but neither stored nor
 * routed again: ON CONFLICT DO NOTHING makes that race-free across workers.
 */
import type pg from 'pg';
import { extensionsOf, type CloudEventRecord } from './cloudevent.ts';
import type { Route } from './subscriptions.ts';

export interface AppendEntry {
  event: CloudEventRecord;
  ingress: string;
  routes: Route[];
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
  /** Statements in flight at once; more overlap commits, fewer batch better. */
  maxInFlight?: number;
  /** Told after each commit how many deliveries it queued. */
  onCommit?: (batchSize: number, queued: number) => void;
}

const APPEND = `
WITH input AS (
  SELECT * FROM jsonb_to_recordset($1::jsonb) AS x(
    i int, id text, source text, type text, subject text, "time" timestamptz, datacontenttype text,
    dataschema text, data jsonb, has_data boolean, data_base64 text, extensions jsonb, ingress text, routes jsonb)
), ins AS (
  INSERT INTO event (id, source, type, subject, "time", specversion, datacontenttype, dataschema, data, "dataBase64", extensions, ingress)
  SELECT id, source, type, subject, "time" AT TIME ZONE 'UTC', '1.0', datacontenttype, dataschema,
         CASE WHEN has_data THEN coalesce(data, 'null'::jsonb) END, data_base64, extensions, ingress
    FROM input ORDER BY i
  ON CONFLICT (source, id) DO NOTHING
  RETURNING seq, source, id
), queued AS (
  INSERT INTO delivery ("eventSeq", "deploymentId", "orderingKey")
  SELECT ins.seq, r."deploymentId", r."orderingKey"
    FROM ins JOIN input ON input.source = ins.source AND input.id = ins.id
    CROSS JOIN LATERAL jsonb_to_recordset(input.routes) AS r("deploymentId" text, "orderingKey" text)
   ORDER BY ins.seq
  RETURNING 1
)
SELECT input.i, (SELECT count(*) FROM queued)::int AS queued FROM ins JOIN input ON input.source = ins.source AND input.id = ins.id`;

function toRow(entry: AppendEntry, i: number): Record<string, unknown> {
  const e = entry.event;
  return {
    i,
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
    ingress: entry.ingress,
    routes: entry.routes,
  };
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
    this.maxInFlight = options.maxInFlight ?? 2;
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

  private async write(batch: Pending[]): Promise<void> {
    // Within a batch the first of a repeated (source, id) is the one stored.
    const firstIndex = new Map<string, number>();
    const rows: Record<string, unknown>[] = [];
    const slots: number[][] = [];
    for (const pending of batch) {
      slots.push(
        pending.entries.map((entry) => {
          const key = `${entry.event.source}\u0000${entry.event.id}`;
          if (firstIndex.has(key)) return -1;
          firstIndex.set(key, rows.length);
          rows.push(toRow(entry, rows.length));
          return rows.length - 1;
        }),
      );
    }
    try {
      const result = await this.pool.query<{ i: number; queued: number }>(APPEND, [JSON.stringify(rows)]);
      const stored = new Set(result.rows.map((r) => r.i));
      this.options.onCommit?.(rows.length, result.rows[0]?.queued ?? 0);
      batch.forEach((pending, b) => pending.resolve(slots[b]!.map((slot) => ({ stored: slot >= 0 && stored.has(slot) }))));
    } catch (error) {
      for (const pending of batch) pending.reject(error as Error);
      throw error;
    }
  }
}

/**
 * Deletes events older than the retention window that nothing still needs: no pending
 * delivery and no dead letter waiting for a decision. Returns how many went.
 */
export async function sweepEventLog(pool: pg.Pool, retentionMs: number, limit = 10_000): Promise<number> {
  const result = await pool.query(
    `DELETE FROM event WHERE seq IN (
       SELECT e.seq FROM event e
        WHERE e."receivedAt" < LOCALTIMESTAMP - make_interval(secs => $1::double precision / 1000)
          AND NOT EXISTS (SELECT 1 FROM delivery d WHERE d."eventSeq" = e.seq)
          AND NOT EXISTS (SELECT 1 FROM dead_letter l WHERE l."eventSeq" = e.seq AND l."replayedAt" IS NULL AND l."discardedAt" IS NULL)
        ORDER BY e.seq LIMIT $2)`,
    [retentionMs, limit],
  );
  return result.rowCount ?? 0;
}
