/**
 * Turns delivery rows of workflow deployments into runs. The delivery row is the outbox: it
 * is committed with the event, and one statement deletes it and inserts the run, so every
 * accepted event that matched a workflow starts exactly one run, even across crashes (a row
 * whose claim was lost stays in the queue and is claimed again after its lease).
 */
import type pg from 'pg';
import { DeliveryQueue, type ClaimedDelivery } from '../../events/delivery-queue.ts';
import type { Logger } from '../log.ts';

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
    for (const delivery of claimed) ((await this.hooks.isWorkflow(delivery.deploymentId)) ? runs : rest).push(delivery);
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
}
