/**
 * Handing work back on shutdown: the deliveries a stopping worker still holds leases on go
 * back to the queue at once (due now, the interrupted attempt not counted), so another worker
 * sends them without waiting for the lease to run out. Rows another worker has taken over
 * since are left alone; deliveries handed over to it at ingress (delivery_handoff) that have
 * no record yet get their row.
 */
import type pg from 'pg';
import { recoverHandoffs } from '../events/delivery-queue.ts';

export async function releaseDeliveryLeases(pool: pg.Pool, owner: string): Promise<number> {
  // Deliveries the event log handed over to this worker: those not recorded yet become rows, due now.
  const handedBack = await recoverHandoffs(pool, { owner, attempts: 0 });
  const { rowCount } = await pool.query(
    `UPDATE delivery SET "availableAt" = LOCALTIMESTAMP, "leaseOwner" = NULL, attempts = GREATEST(attempts - 1, 0)
      WHERE "leaseOwner" = $1 AND "availableAt" > LOCALTIMESTAMP`,
    [owner],
  );
  return handedBack + (rowCount ?? 0);
}

/** Resolves true when `work` settles within `ms`, false when the deadline comes first. */
export async function within(work: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([work.then(() => true as const), deadline]);
  } finally {
    clearTimeout(timer);
  }
}
