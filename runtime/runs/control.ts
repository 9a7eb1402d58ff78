/**
 * Suspend, resume and cancel a run: service functions for the studio (or any process with
 * the database). They write the request to the `run` row, so they work whoever holds the run
 * — a worker notices at its next checkpoint or lease heartbeat and acts (a suspended run is
 * let go with its checkpoint; a cancelled one ends with `workflow.cancelled`); a run nobody
 * holds (parked, queued, its worker dead) is changed right here.
 */
import { z } from 'zod';

/** Anything that runs SQL like a `pg` Pool or Client. */
export interface Queryable {
  query<R extends Record<string, unknown> = Record<string, unknown>>(text: string, values?: unknown[]): Promise<{ rows: R[]; rowCount: number | null }>;
}

export type RunControlOutcome = { ok: true; status: 'suspended' | 'running' | 'cancelled' } | { ok: false; status: string | undefined; reason: string };

const runId = z.string().min(1, 'a run id is required');

async function statusOf(db: Queryable, id: string): Promise<string | undefined> {
  const { rows } = await db.query<{ status: string }>('SELECT status FROM run WHERE id = $1', [id]);
  return rows[0]?.status;
}

async function refused(db: Queryable, id: string, action: string, allowed: string): Promise<RunControlOutcome> {
  const status = await statusOf(db, id);
  if (status === undefined) return { ok: false, status, reason: `run ${id} does not exist` };
  return { ok: false, status, reason: `run ${id} is ${status}; only a run that is ${allowed} can be ${action}` };
}

/** Pauses a pending, running or waiting run at its next checkpoint. */
export async function suspendRun(db: Queryable, id: string): Promise<RunControlOutcome> {
  runId.parse(id);
  const { rowCount } = await db.query(
    `UPDATE run SET status = 'suspended', state = CASE WHEN state IS NULL THEN NULL ELSE jsonb_set(state, '{status}', '"suspended"') END
      WHERE id = $1 AND status IN ('pending', 'running', 'waiting')`,
    [id],
  );
  return rowCount ? { ok: true, status: 'suspended' } : refused(db, id, 'suspended', 'pending, running or waiting');
}

/** Lets a suspended run continue: the next free worker claims it (a parked wait still waits for its due time). */
export async function resumeRun(db: Queryable, id: string): Promise<RunControlOutcome> {
  runId.parse(id);
  const { rowCount } = await db.query(
    `UPDATE run SET status = 'running', state = CASE WHEN state IS NULL THEN NULL ELSE jsonb_set(state, '{status}', '"running"') END
      WHERE id = $1 AND status = 'suspended'`,
    [id],
  );
  return rowCount ? { ok: true, status: 'running' } : refused(db, id, 'resumed', 'suspended');
}

/** Ends a run that has not ended yet as cancelled; its holder, if any, stops it. */
export async function cancelRun(db: Queryable, id: string): Promise<RunControlOutcome> {
  runId.parse(id);
  const { rowCount } = await db.query(
    `UPDATE run SET status = 'cancelled', "endedAt" = now() AT TIME ZONE 'UTC',
            state = CASE WHEN state IS NULL THEN NULL ELSE jsonb_set(state, '{status}', '"cancelled"') END
      WHERE id = $1 AND status IN ('pending', 'running', 'waiting', 'suspended')`,
    [id],
  );
  return rowCount ? { ok: true, status: 'cancelled' } : refused(db, id, 'cancelled', 'pending, running, waiting or suspended');
}
