/**
 * On JetStream a completed delivery is acknowledged only once its outcome is in PostgreSQL:
 * a worker that dies in between has the message delivered again, instead of leaving a
 * delivered event the studio cannot see (counted as accepted, with no outcome).
 */
import { randomUUID } from 'node:crypto';
import { jetstream, jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { DeliveryMessage } from '@/runtime/events/jetstream/appender';
import { JetStreamDeliveries } from '@/runtime/events/jetstream/deliveries';
import { ensureStreams, names } from '@/runtime/events/jetstream/streams';
import { waitFor } from '@/test/helpers/databases';
import { dropStreams, NATS_URL, streamPrefix } from '@/test/integration/events/helpers';

describe('JetStream deliveries: acknowledged after their outcome is written', () => {
  const prefix = streamPrefix('outcomes');
  const n = names(prefix);
  const deploymentId = `dep-${randomUUID().slice(0, 8)}`;
  let pool: pg.Pool;
  let nc: NatsConnection;
  let jsm: JetStreamManager;
  let deliveries: JetStreamDeliveries;
  let woken = 0;
  const warnings: string[] = [];

  beforeAll(async () => {
    pool = new pg.Pool({ connectionString: inject('databaseUrl') });
    nc = await connect({ servers: NATS_URL });
    jsm = await jetstreamManager(nc);
    await ensureStreams(jsm, {
      prefix,
      storage: 'memory',
      replicas: 1,
      retentionMs: 3_600_000,
      dedupeWindowMs: 60_000,
      leaseMs: 30_000,
    });
    deliveries = new JetStreamDeliveries({
      js: jetstream(nc),
      jsm,
      pool,
      prefix,
      leaseMs: 30_000,
      concurrency: 4,
      wake: () => woken++,
      log: (level, message) => warnings.push(`${level}: ${message}`),
    });
    await deliveries.start();
  });

  afterAll(async () => {
    await deliveries?.stop();
    await nc?.close();
    await dropStreams(prefix);
    await pool?.end();
  });

  const ackPending = async () => (await jsm.consumers.info(n.deliveries, n.deliver)).num_ack_pending;

  /** Publishes one delivery message for the deployment, as the appender does; returns its event id. */
  async function publish(id: string, data: Record<string, unknown>): Promise<string> {
    const message: DeliveryMessage = {
      event: { specversion: '1.0', id, source: '/outcomes', type: 'com.example.outcomes', data },
      ingress: 'events',
      considered: 1,
      filtered: [],
      deploymentId,
      orderingKey: null,
    };
    await jetstream(nc).publish(n.unordered(deploymentId), JSON.stringify(message));
    return id;
  }

  /** The next claimable delivery. */
  async function claimOne(what: string) {
    const [claimed] = await waitFor(
      async () => {
        const got = await deliveries.claim(1);
        return got.length > 0 ? got : undefined;
      },
      15_000,
      what,
    );
    return claimed!;
  }

  it('holds the message while the outcome cannot be written, and acknowledges it once it is', async () => {
    const id = await publish(randomUUID(), { n: 1 });
    const claimed = await claimOne('the delivery message');
    expect(claimed.event.id).toBe(id);

    // The outcome table is locked: the outcome waits, and so does the acknowledgement.
    const locker = await pool.connect();
    try {
      await locker.query('BEGIN');
      await locker.query('LOCK TABLE delivery_outcome IN EXCLUSIVE MODE');
      await deliveries.complete([{ id: claimed.id, outcome: 'delivered', task: 'deliver' }]);
      await new Promise((r) => setTimeout(r, 500));
      expect(await ackPending()).toBe(1);
    } finally {
      await locker.query('COMMIT');
      locker.release();
    }
    await waitFor(async () => ((await ackPending()) === 0 ? true : undefined), 10_000, 'the acknowledgement');
    const { rows } = await pool.query(
      `SELECT o.outcome FROM delivery_outcome o JOIN event e ON e.seq = o."eventSeq" WHERE e.id = $1 AND o."deploymentId" = $2`,
      [id, deploymentId],
    );
    expect(rows).toEqual([{ outcome: 'delivered' }]);
    // Acknowledged: the work queue dropped it.
    expect((await jsm.streams.info(n.deliveries)).state.messages).toBe(0);
    expect(warnings).toEqual([]);
  });

  it('keeps taking deliveries when a pull ends early', async () => {
    // What the NATS client does on some server answers (a 409, heartbeats missed): the pull's iteration ends.
    const following = (deliveries as unknown as { consumers: Map<string, { pull?: { stop: () => void } }> })
      .consumers;
    following.get(n.deliver)!.pull!.stop();
    const id = await publish(randomUUID(), { n: 2 });
    const claimed = await claimOne('the delivery after the consume ended');
    expect(claimed.event.id).toBe(id);
    await deliveries.complete([{ id: claimed.id, outcome: 'delivered', task: 'deliver' }]);
    await waitFor(async () => ((await ackPending()) === 0 ? true : undefined), 10_000, 'the acknowledgement');
    expect(warnings).toEqual([]);
  });

  it('pulls no more than it can hold: the rest stay in JetStream, not in the client, until there is room', async () => {
    const published = 30;
    for (let i = 0; i < published; i++) await publish(`many-${i}-${randomUUID()}`, { i });
    // Concurrency 4: at most 8 held (buffered), nothing claimed yet; the others wait in the stream, unpulled.
    await waitFor(async () => ((await ackPending()) === 8 ? true : undefined), 10_000, 'eight messages held');
    await new Promise((r) => setTimeout(r, 500));
    const info = await jsm.consumers.info(n.deliveries, n.deliver);
    expect(info.num_ack_pending).toBe(8);
    expect(info.num_pending).toBe(published - 8);
    // Every held message is kept alive and comes out of claims; taking them makes room for the rest.
    const seen = new Set<string>();
    await waitFor(
      async () => {
        const got = await deliveries.claim(4);
        if (got.length > 0)
          await deliveries.complete(
            got.map((d) => ({ id: d.id, outcome: 'delivered' as const, task: 'deliver' })),
          );
        for (const d of got) seen.add(d.event.id);
        return seen.size === published ? true : undefined;
      },
      20_000,
      'every message claimed',
    );
    await waitFor(
      async () => ((await ackPending()) === 0 ? true : undefined),
      10_000,
      'every acknowledgement',
    );
    expect(warnings).toEqual([]);
  });
});
