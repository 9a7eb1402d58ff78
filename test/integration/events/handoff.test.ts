/**
 * Deliveries handed over at ingress have no `delivery` row of their own, only a share of the
 * commit's `delivery_handoff` row. When the worker holding it is gone, what it had not recorded
 * must come back as queued rows (and nothing it had recorded); and the retention sweep, with no
 * foreign key to cascade, must take an event's outcomes with it while keeping events still owed
 * a delivery. The event's page lists a delivery being sent as pending until it is recorded.
 */
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { recoverHandoffs } from '@/runtime/events/delivery-queue';
import { sweepEventLog } from '@/runtime/events/event-log';
import { getEvent } from '@/server/services/events';

describe('delivery handoffs and retention', () => {
  const pool = new pg.Pool({ connectionString: inject('databaseUrl') });
  afterAll(() => pool.end());

  async function logEvent(source: string, receivedAt = 'LOCALTIMESTAMP'): Promise<string> {
    const { rows } = await pool.query<{ seq: string }>(
      `INSERT INTO event (id, source, type, "receivedAt") VALUES ($1, $2, 'com.example.handoff', ${receivedAt}) RETURNING seq::text`,
      [randomUUID(), source],
    );
    return rows[0]!.seq;
  }

  it("queues the handed-over deliveries a vanished worker left unrecorded, and only those", async () => {
    const owner = `gone-${randomUUID()}`;
    const source = `/handoff/${randomUUID()}`;
    const [delivered, retrying, dead, open] = [await logEvent(source), await logEvent(source), await logEvent(source), await logEvent(source)];
    const dep = `dep-${randomUUID()}`;
    await pool.query(`INSERT INTO delivery_handoff ("leaseOwner", "availableAt", items) VALUES ($1, LOCALTIMESTAMP + interval '1 hour', $2)`, [
      owner,
      JSON.stringify([delivered, retrying, dead, open].map((seq) => [Number(seq), dep])),
    ]);
    // What the worker recorded before it went: an outcome, a row waiting for its retry, a dead letter.
    await pool.query(`INSERT INTO delivery_outcome ("eventSeq", "deploymentId", outcome, attempt) VALUES ($1, $2, 'delivered', 1)`, [delivered, dep]);
    await pool.query(`INSERT INTO delivery ("eventSeq", "deploymentId", attempts, "lastError") VALUES ($1, $2, 1, 'HTTP 503')`, [retrying, dep]);
    await pool.query(`INSERT INTO dead_letter (id, "eventSeq", "deploymentId", target, reason, attempts) VALUES ($1, $2, $3, 'http://x', 'HTTP 400', 1)`, [
      randomUUID(),
      dead,
      dep,
    ]);

    expect(await recoverHandoffs(pool, { owner, attempts: 1 })).toBe(1);
    const { rows } = await pool.query<{ eventSeq: string; attempts: number; leaseOwner: string | null }>(
      `SELECT "eventSeq"::text AS "eventSeq", attempts, "leaseOwner" FROM delivery WHERE "deploymentId" = $1 ORDER BY "eventSeq"`,
      [dep],
    );
    expect(rows).toEqual([
      { eventSeq: retrying, attempts: 1, leaseOwner: null },
      { eventSeq: open, attempts: 1, leaseOwner: null },
    ]);
    expect((await pool.query(`SELECT 1 FROM delivery_handoff WHERE "leaseOwner" = $1`, [owner])).rowCount).toBe(0);
    // Recovered once: a second pass finds nothing left.
    expect(await recoverHandoffs(pool, { owner, attempts: 1 })).toBe(0);
  });

  it("shows a handed-over delivery as pending on the event's page until its outcome is recorded", async () => {
    const seq = await logEvent(`/handoff/${randomUUID()}`);
    const dep = `dep-${randomUUID()}`;
    await pool.query(`INSERT INTO delivery_handoff ("leaseOwner", "availableAt", items) VALUES ($1, LOCALTIMESTAMP + interval '1 hour', $2)`, [
      `w-${randomUUID()}`,
      JSON.stringify([[Number(seq), dep]]),
    ]);
    const kinds = async () => (await getEvent(pool, seq)).deliveries.filter((d) => d.deploymentId === dep).map((d) => d.kind);
    expect(await kinds()).toEqual(['pending']);
    expect((await getEvent(pool, seq)).explanation.decisions.map((d) => [d.deploymentId, d.outcome])).toEqual([[dep, 'pending']]);
    await pool.query(`INSERT INTO delivery_outcome ("eventSeq", "deploymentId", outcome, attempt) VALUES ($1, $2, 'delivered', 1)`, [seq, dep]);
    expect(await kinds()).toEqual(['delivered']);
  });

  it('sweeps expired events with their outcomes, and keeps those a delivery still needs', async () => {
    const source = `/retention/${randomUUID()}`;
    const old = `LOCALTIMESTAMP - interval '3 days'`;
    const [done, owed] = [await logEvent(source, old), await logEvent(source, old)];
    const fresh = await logEvent(source);
    const dep = `dep-${randomUUID()}`;
    for (const seq of [done, owed, fresh]) {
      await pool.query(`INSERT INTO delivery_outcome ("eventSeq", "deploymentId", outcome, attempt) VALUES ($1, $2, 'retried', 1)`, [seq, dep]);
    }
    await pool.query(`INSERT INTO delivery ("eventSeq", "deploymentId", attempts) VALUES ($1, $2, 1)`, [owed, dep]);

    expect(await sweepEventLog(pool, 2 * 24 * 3_600_000)).toBeGreaterThanOrEqual(1);
    const left = await pool.query<{ seq: string }>(`SELECT seq::text FROM event WHERE source = $1 ORDER BY seq`, [source]);
    expect(left.rows.map((r) => r.seq)).toEqual([owed, fresh]);
    const outcomes = await pool.query<{ eventSeq: string }>(`SELECT "eventSeq"::text AS "eventSeq" FROM delivery_outcome WHERE "deploymentId" = $1 ORDER BY "eventSeq"`, [dep]);
    expect(outcomes.rows.map((r) => r.eventSeq)).toEqual([owed, fresh]);
    await pool.query(`DELETE FROM delivery WHERE "deploymentId" = $1`, [dep]);
  });
});
