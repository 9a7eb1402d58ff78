/**
 * A delivery's outcome rides on the event log's next append: one transaction records both, so
 * a busy worker spends one commit where it spent two. And nothing an ingress request sends can
 * be failed by completions riding on its commit, nor the completions by the request: when the
 * append fails, they go back and are recorded in a statement of their own.
 */
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { IngressError, type CloudEventRecord } from '@/runtime/events/cloudevent';
import { DeliveryQueue } from '@/runtime/events/delivery-queue';
import { EventLog, type AppendEntry } from '@/runtime/events/event-log';
import { HttpDeliverer } from '@/runtime/events/http-delivery';
import { createMetrics } from '@/runtime/events/metrics';
import { planFromDocument } from '@/runtime/events/plan';
import { Subscription } from '@/runtime/events/subscriptions';
import { DeliveryLoop } from '@/runtime/worker/delivery';
import { waitFor } from '@/test/helpers/databases';
import { pipeline, startSink, type Sink } from '@/test/integration/events/helpers';

describe('delivery outcomes ride on the next append', () => {
  const pool = new pg.Pool({ connectionString: inject('databaseUrl') });
  const owner = `ride-${randomUUID()}`;
  const deploymentId = `dep-${randomUUID()}`;
  const source = `/ride/${randomUUID()}`;
  let sink: Sink;
  let loop: DeliveryLoop;
  let log: EventLog;
  const deliverer = new HttpDeliverer();

  beforeAll(async () => {
    sink = await startSink();
    const plan = planFromDocument(pipeline({ name: 'ride', url: `${sink.url}/ride` }));
    if (plan.kind !== 'pipeline') throw new Error(`not a pipeline: ${plan.reason}`);
    const subscription = await Subscription.compile({ id: deploymentId, flowId: 'flow-ride' }, plan);
    loop = new DeliveryLoop({
      queue: new DeliveryQueue(pool, owner, 60_000),
      deliverer,
      subscriptionFor: async () => subscription,
      metrics: createMetrics(async () => new Map()),
      log: () => {},
      concurrency: 8,
      pollMs: 60_000,
      // Recorded only by riding (or by stopping): what these tests look at.
      completeGatherMs: 60_000,
    });
    log = new EventLog(pool, {
      lease: { owner, ms: 60_000, direct: () => true, reserve: (n) => loop.reserve(n), adopt: (d, r) => loop.adopt(d, r) },
      completions: () => loop.takeCompletions(),
    });
  });

  afterAll(async () => {
    await loop.stop(5_000);
    deliverer.close();
    await sink.close();
    await pool.end();
  });

  const entry = (data: unknown, routed = true): AppendEntry => {
    const event: CloudEventRecord = { specversion: '1.0', id: randomUUID(), source, type: 'com.example.ride', data };
    return { event, ingress: 'events', routes: routed ? [{ deploymentId, orderingKey: null }] : [] };
  };
  const seqOf = async (id: string) => (await pool.query<{ seq: string }>(`SELECT seq::text FROM event WHERE source = $1 AND id = $2`, [source, id])).rows[0]?.seq;
  const outcomes = (seq: string) =>
    pool.query<{ outcome: string; tx: string }>(`SELECT outcome, xmin::text AS tx FROM delivery_outcome WHERE "eventSeq" = $1 AND "deploymentId" = $2`, [seq, deploymentId]);
  /** Sends an event through the log and the loop and waits until the sink has it (its outcome then waits for a ride). */
  async function delivered(): Promise<string> {
    const first = entry({ n: 1 });
    await log.append([first]);
    await waitFor(async () => (sink.received.some((r) => r.headers['ce-id'] === first.event.id) ? true : undefined), 10_000, 'the delivery');
    // The answer is read within a turn or two of the sink sending it.
    await new Promise((r) => setTimeout(r, 100));
    const seq = (await seqOf(first.event.id))!;
    expect((await outcomes(seq)).rows).toEqual([]);
    return seq;
  }

  it('records an outcome in the same transaction as the next events appended', async () => {
    const seq = await delivered();
    const next = entry({ n: 2 }, false);
    await log.append([next]);
    const { rows } = await pool.query<{ tx: string }>(`SELECT xmin::text AS tx FROM event WHERE source = $1 AND id = $2`, [source, next.event.id]);
    expect((await outcomes(seq)).rows).toEqual([{ outcome: 'delivered', tx: rows[0]!.tx }]);
  });

  it('records riding outcomes on their own when the append fails, and the append refuses only the request at fault', async () => {
    const seq = await delivered();
    // The first request's commit takes the waiting outcome along; PostgreSQL refuses its data.
    const bad = entry({ text: 'nul \u0000 byte' }, false);
    const good = entry({ n: 4 }, false);
    const [badResult, goodResult] = await Promise.allSettled([log.append([bad]), log.append([good])]);
    expect(badResult.status).toBe('rejected');
    expect((badResult as PromiseRejectedResult).reason).toBeInstanceOf(IngressError);
    expect((badResult as PromiseRejectedResult).reason.status).toBe(400);
    expect(goodResult).toEqual({ status: 'fulfilled', value: [{ stored: true }] });
    expect(await seqOf(bad.event.id)).toBeUndefined();
    // Handed back, the outcome is recorded once, by a statement of its own.
    const recorded = await waitFor(async () => ((await outcomes(seq)).rows.length > 0 ? (await outcomes(seq)).rows : undefined), 10_000, 'the outcome');
    const { rows } = await pool.query<{ tx: string }>(`SELECT xmin::text AS tx FROM event WHERE source = $1 AND id = $2`, [source, good.event.id]);
    expect(recorded).toHaveLength(1);
    expect(recorded[0]!.outcome).toBe('delivered');
    expect(recorded[0]!.tx).not.toBe(rows[0]!.tx);
  });
});
