/**
 * The `run` table as the executor uses it. A run is held by one worker at a time through a
 * lease (`leaseOwner`, `leaseUntil`), claimed with FOR UPDATE SKIP LOCKED and renewed by
 * heartbeats; a run nobody holds and whose `leaseUntil` has passed (or is unset) is free to
 * claim — which is also how a parked run (a long wait, written back with `leaseUntil` at its
 * due time and no owner) wakes up. Writes are conditional on still holding the lease, so a
 * worker that lost its run cannot overwrite the new owner's progress.
 */
import type pg from 'pg';
import type { InstanceState, InstanceStatus, Json, ProblemDetails } from '../../engine/index.ts';
import type { Masker } from '../../secrets/mask.ts';

const FINAL: ReadonlySet<string> = new Set(['completed', 'faulted', 'cancelled']);

/** A checkpoint serialized at the moment the engine handed it over (the engine keeps mutating its state). */
export interface SavedState {
  json: string;
  status: InstanceStatus;
  output: string | null;
  error: string | null;
}

/** The state stays whole (a resumed run needs it; the studio never shows it); what is shown is masked. */
export function saveState(state: InstanceState, mask: Masker): SavedState {
  return {
    json: JSON.stringify(state),
    status: state.status,
    output: state.output === undefined ? null : JSON.stringify(mask(state.output)),
    error: state.error === undefined ? null : JSON.stringify(mask(state.error)),
  };
}

export interface ClaimedRun {
  id: string;
  flowVersionId: string;
  deploymentId: string | null;
  eventSeq: string | null;
  input: Json;
  state: InstanceState | null;
}

const CLAIM = `
WITH due AS (
  SELECT id FROM run
   WHERE status IN ('pending', 'running', 'waiting') AND ("leaseUntil" IS NULL OR "leaseUntil" <= LOCALTIMESTAMP)
   ORDER BY "leaseUntil" NULLS FIRST, "startedAt"
   LIMIT $1
   FOR UPDATE SKIP LOCKED
)
UPDATE run r SET "leaseOwner" = $2, "leaseUntil" = LOCALTIMESTAMP + make_interval(secs => $3::double precision / 1000)
  FROM due WHERE r.id = due.id
RETURNING r.id, r."flowVersionId", r."deploymentId", r."eventSeq"::text AS "eventSeq", r.input, r.state`;

/** Keeps the status a control request wrote (suspended, cancelled) until the engine has acted on it. */
const CHECKPOINT = `
UPDATE run SET state = $3::jsonb,
       status = CASE WHEN status IN ('suspended', 'cancelled') AND NOT $5 THEN status ELSE $4::"RunStatus" END,
       output = $6::jsonb, error = $7::jsonb,
       "endedAt" = CASE WHEN $5 THEN now() AT TIME ZONE 'UTC' ELSE "endedAt" END
 WHERE id = $1 AND "leaseOwner" = $2
RETURNING status`;

export class RunStore {
  constructor(
    private readonly pool: pg.Pool,
    readonly owner: string,
    private readonly leaseMs: number,
  ) {}

  async claim(limit: number): Promise<ClaimedRun[]> {
    const { rows } = await this.pool.query<ClaimedRun>(CLAIM, [limit, this.owner, this.leaseMs]);
    return rows;
  }

  /**
   * Writes a checkpoint and returns the row's status — which may be a control request's
   * `suspended` or `cancelled` — or undefined when the lease is lost.
   */
  async checkpoint(id: string, saved: SavedState): Promise<string | undefined> {
    const { rows } = await this.pool.query<{ status: string }>(CHECKPOINT, [id, this.owner, saved.json, saved.status, FINAL.has(saved.status), saved.output, saved.error]);
    return rows[0]?.status;
  }

  /** Extends the leases of the runs held; returns each held run's status (missing: lost). */
  async heartbeat(ids: string[]): Promise<Map<string, string>> {
    if (ids.length === 0) return new Map();
    const { rows } = await this.pool.query<{ id: string; status: string }>(
      `UPDATE run SET "leaseUntil" = LOCALTIMESTAMP + make_interval(secs => $3::double precision / 1000)
        WHERE id = ANY($1::text[]) AND "leaseOwner" = $2 RETURNING id, status`,
      [ids, this.owner, this.leaseMs],
    );
    return new Map(rows.map((r) => [r.id, r.status]));
  }

  /**
   * Lets go of a run: nobody holds it, and it may be claimed again after `delayMs` (a parked
   * wait's due time; 0 for at once). Its last checkpoint stays, with the status given, if any.
   */
  async release(id: string, delayMs: number, status?: InstanceStatus): Promise<void> {
    await this.pool.query(
      `UPDATE run SET "leaseOwner" = NULL, "leaseUntil" = LOCALTIMESTAMP + make_interval(secs => $3::double precision / 1000),
              state = CASE WHEN $4::text IS NULL THEN state ELSE jsonb_set(state, '{status}', to_jsonb($4::text)) END
        WHERE id = $1 AND "leaseOwner" = $2`,
      [id, this.owner, Math.max(0, delayMs), status ?? null],
    );
  }

  /** Ends a run that cannot execute (its definition does not load, its state is unreadable). */
  async fail(id: string, error: ProblemDetails): Promise<void> {
    await this.pool.query(
      `UPDATE run SET status = 'faulted', error = $3::jsonb, "endedAt" = now() AT TIME ZONE 'UTC', "leaseOwner" = NULL, "leaseUntil" = NULL
        WHERE id = $1 AND "leaseOwner" = $2`,
      [id, this.owner, JSON.stringify(error)],
    );
  }
}
