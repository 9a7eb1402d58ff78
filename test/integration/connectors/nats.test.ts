import { randomUUID } from 'node:crypto';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect, headers, type NatsConnection } from '@nats-io/transport-node';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { waitFor } from '@/test/helpers/databases';
import { startSink, startWorker, undeployAll, type Sink, type Worker } from '@/test/integration/events/helpers';
import { bodiesAt, deploySourceFlow, receivedIds, waitForConnected, waitForSink, withBrokerDown } from '@/test/integration/connectors/helpers';

const URL = 'nats://127.0.0.1:4222';
const NATS = {
  stop: 'start-stop-daemon --stop --oknodo --retry 10 --exec /usr/sbin/nats-server',
  start: 'start-stop-daemon --start --oknodo --background --exec /usr/sbin/nats-server -- -a 127.0.0.1 -p 4222 -js -sd /var/lib/nats-server -l /var/log/nats-server.log',
  ready: async () => {
    const nc = await connect({ servers: '127.0.0.1:4222', reconnect: false, timeout: 1000 });
    await (await jetstreamManager(nc)).getAccountInfo();
    await nc.close();
    return true;
  },
};

describe('NATS sources on the real nats-server', () => {
  let pool: pg.Pool;
  let sink: Sink;
  let worker: Worker;
  const run = randomUUID().slice(0, 8);
  const stream = `MF_${run}`;

  beforeAll(async () => {
    pool = new pg.Pool({ connectionString: inject('databaseUrl') });
    sink = await startSink();
    await deploySourceFlow(pool, { kind: 'nats-source', connection: { connection: URL, subject: `core.${run}.>` }, type: 'io.meshflow.nats.message', sink, path: 'nats-core' });
    await deploySourceFlow(pool, {
      kind: 'nats-source',
      connection: { connection: URL, subject: `js.${run}.>`, stream, durable: `mf-${run}` },
      type: 'io.meshflow.nats.message',
      sink,
      path: 'nats-js',
    });
    worker = await startWorker(inject('databaseUrl'));
    await waitForConnected(worker.running.output, 2);
  });

  afterAll(async () => {
    await worker?.running.stop();
    await sink?.close();
    await undeployAll(pool);
    await pool.end();
    const nc = await connect({ servers: '127.0.0.1:4222' });
    await (await jetstreamManager(nc)).streams.delete(stream).catch(() => {});
    await nc.close();
  });

  it('core NATS: a message with ce- headers arrives at the HTTP sink as that CloudEvent', async () => {
    const nc = await connect({ servers: '127.0.0.1:4222' });
    const h = headers();
    for (const [k, v] of Object.entries({ 'ce-specversion': '1.0', 'ce-id': `core-${run}`, 'ce-source': '/orders', 'ce-type': 'io.meshflow.nats.message', 'content-type': 'application/json' })) h.set(k, v);
    nc.publish(`core.${run}.orders`, JSON.stringify({ total: 12 }), { headers: h });
    await nc.flush();
    await nc.close();
    await waitForSink(sink, 'nats-core', 1);
    expect([...receivedIds(sink, 'nats-core')]).toEqual([`core-${run}`]);
    expect(bodiesAt(sink, 'nats-core')).toEqual([{ total: 12 }]);
  });

  it('JetStream: a server restart in the middle of a stream of messages loses none', async () => {
    let nc: NatsConnection | undefined = await connect({ servers: '127.0.0.1:4222', reconnect: false });
    const acked = new Set<number>();
    const publish = async (n: number) => {
      for (;;) {
        try {
          nc ??= await connect({ servers: '127.0.0.1:4222', reconnect: false, timeout: 1000 });
          await jetstream(nc).publish(`js.${run}.n`, JSON.stringify({ n }), { timeout: 2000 });
          acked.add(n);
          return;
        } catch {
          await nc?.close().catch(() => {});
          nc = undefined;
          await new Promise((r) => setTimeout(r, 200));
        }
      }
    };
    // A burst right before the stop leaves messages stored but not yet consumed or acknowledged.
    for (let n = 0; n < 300; n++) await publish(n);
    await withBrokerDown(NATS, async () => {
      await new Promise((r) => setTimeout(r, 1500));
    });
    for (let n = 300; n < 400; n++) await publish(n);
    await nc?.close();
    expect(acked.size).toBe(400);
    await waitFor(async () => (new Set(bodiesAt(sink, 'nats-js').map((b) => (b as { n: number }).n)).size === 400 ? true : undefined), 60_000, 'all 400 JetStream messages at the sink');
    // Ids are stream sequences, so a redelivered message is the same event, stored once.
    const ids = receivedIds(sink, 'nats-js');
    expect(ids.size).toBe(400);
    expect([...ids].every((id) => id.startsWith(`${stream}/`))).toBe(true);
  });
});
