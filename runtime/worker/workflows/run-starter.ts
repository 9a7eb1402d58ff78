/**
 * Turns delivery rows of workflow deployments into runs. The delivery row is the outbox: it
 * is committed with the event, and one statement deletes it and inserts the run, so every
 * accepted event that matched a workflow starts exactly one run, even across crashes (a row
 * whose claim was lost stays in the queue and is claimed again after its lease).
 */
import type pg from 'pg';
import { DeliveryQueue, EVENT_COLUMNS, toRecord, type ClaimedDelivery, type EventRow } from '../../events/delivery-queue.ts';
import type { Logger } from '../log.ts';
import type { EventTest } from '../../runs/triggers.ts';

/** How long a `schedule.on.all` event waits unclaimed for the rest of its set; a new matching event wakes it sooner. */
const PARK_MS = 60 * 60 * 1000;

const START = `
WITH input AS (
  SELECT (x->>'delivery')::bigint AS delivery, x->'input' AS input FROM jsonb_array_elements($1::jsonb) AS x
), gone AS (
  DELETE FROM delivery d USING input WHERE d.id = input.delivery AND d."leaseOwner" = $2
  RETURNING d.id, d."eventSeq", d."deploymentId"
)
INSERT INTO run (id, "flowId", "flowVersionId", "deploymentId", "eventSeq", status, input)
SELECT gen_random_uuid()::text, dep."flowId", dep."flowVersionId", gone."deploymentId", gone."eventSeq", 'pending', input.input
  FROM gone JOIN input ON input.delivery = gone.id JOIN deployment dep ON dep.id = gone."deploymentId"
RETURNING id`;

export interface RunStartingHooks {
  /** Whether a deployment's events start runs (rather than go to a pipeline target). */
  isWorkflow: (deploymentId: string) => Promise<boolean>;
  /** Runs were created: the executor can claim them. */
  started: (count: number) => void;
  /** The `schedule.on.all` predicates of a deployment, when that is its trigger. */
  allOf?: (deploymentId: string) => Promise<EventTest[] | undefined>;
  log: Logger;
}

/** A delivery queue whose claims hand workflow rows to the run table and return only pipeline rows. */
export class RunStartingQueue extends DeliveryQueue {
  constructor(
    private readonly db: pg.Pool,
    private readonly owner: string,
    leaseMs: number,
    private readonly hooks: RunStartingHooks,
  ) {
    super(db, owner, leaseMs);
  }

  override async claim(limit: number): Promise<ClaimedDelivery[]> {
    const claimed = await super.claim(limit);
    const runs: ClaimedDelivery[] = [];
    const rest: ClaimedDelivery[] = [];
    const gather = new Map<string, EventTest[]>();
    for (const delivery of claimed) {
      const all = await this.hooks.allOf?.(delivery.deploymentId);
      if (all) gather.set(delivery.deploymentId, all);
      else ((await this.hooks.isWorkflow(delivery.deploymentId)) ? runs : rest).push(delivery);
    }
    for (const [deploymentId, predicates] of gather) {
      try {
        const started = await this.gather(deploymentId, predicates);
        if (started) this.hooks.started(started);
      } catch (error) {
        this.hooks.log('warn', 'gathering schedule.on.all events failed; they stay queued', { deployment: deploymentId, error: (error as Error).message });
      }
    }
    if (runs.length > 0) {
      try {
        // The run's input is the event in its structured form; the DSL's `input.from` shapes it from there.
        const { rowCount } = await this.db.query(START, [JSON.stringify(runs.map((d) => ({ delivery: d.id, input: d.event }))), this.owner]);
        if (rowCount) this.hooks.started(rowCount);
      } catch (error) {
        this.hooks.log('warn', 'starting runs failed; their events stay queued and are claimed again after the lease', { count: runs.length, error: (error as Error).message });
      }
    }
    return rest;
  }

  /**
   * `schedule.on.all`: under a lock per deployment, take the oldest waiting event for each
   * filter; each complete set becomes one run whose input is those events, in filter order,
   * and its rows go in the same transaction. Events still short of a set are parked.
   */
  private async gather(deploymentId: string, predicates: EventTest[]): Promise<number> {
    const client = await this.db.connect();
    try {
      await client.query('BEGIN');
      await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`meshflow.all.${deploymentId}`]);
      const { rows } = await client.query<EventRow & { deliveryId: string; eventSeq: string }>(
        `SELECT d.id::text AS "deliveryId", d."eventSeq"::text AS "eventSeq", ${EVENT_COLUMNS}
           FROM delivery d JOIN event e ON e.seq = d."eventSeq"
          WHERE d."deploymentId" = $1 ORDER BY d."eventSeq" FOR UPDATE OF d`,
        [deploymentId],
      );
      const waiting = rows.map((row) => ({ id: row.deliveryId, seq: row.eventSeq, event: toRecord(row) }));
      let started = 0;
      for (;;) {
        const set: typeof waiting = [];
        for (const predicate of predicates) {
          let match: (typeof waiting)[number] | undefined;
          for (const w of waiting) {
            if (set.includes(w)) continue;
            const passed = predicate(w.event);
            if (passed instanceof Promise ? await passed : passed) {
              match = w;
              break;
            }
          }
          if (!match) break;
          set.push(match);
        }
        if (set.length < predicates.length) break;
        const last = set.reduce((a, b) => (BigInt(a.seq) > BigInt(b.seq) ? a : b));
        await client.query('DELETE FROM delivery WHERE id = ANY($1::bigint[])', [set.map((w) => w.id)]);
        await client.query(
          `INSERT INTO run (id, "flowId", "flowVersionId", "deploymentId", "eventSeq", status, input)
           SELECT gen_random_uuid()::text, dep."flowId", dep."flowVersionId", dep.id, $2, 'pending', $3::jsonb
             FROM deployment dep WHERE dep.id = $1`,
          [deploymentId, last.seq, JSON.stringify(set.map((w) => w.event))],
        );
        for (const w of set) waiting.splice(waiting.indexOf(w), 1);
        started += 1;
      }
      if (waiting.length > 0) {
        await client.query(
          `UPDATE delivery SET "leaseOwner" = NULL, "availableAt" = LOCALTIMESTAMP + make_interval(secs => $2::double precision / 1000)
            WHERE id = ANY($1::bigint[])`,
          [waiting.map((w) => w.id), PARK_MS],
        );
      }
      await client.query('COMMIT');
      return started;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => {});
      throw error;
    } finally {
      client.release();
    }
  }
}
