import { randomUUID } from 'node:crypto';
import amqp, { type ChannelModel, type ConfirmChannel } from 'amqplib';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { waitFor } from '@/test/helpers/databases';
import { startSink, startWorker, undeployAll, type Sink, type Worker } from '@/test/integration/events/helpers';
import { bodiesAt, deploySourceFlow, waitForConnected, withBrokerDown } from '@/test/integration/connectors/helpers';

const URL = 'amqp://guest:guest@127.0.0.1:5672';
const RABBIT = {
  stop: 'rabbitmqctl stop',
  start: 'rabbitmq-server -detached',
  ready: async () => {
    const c = await amqp.connect(URL, { timeout: 1000 });
    await c.close();
    return true;
  },
};

describe('RabbitMQ source on the real broker', () => {
  let pool: pg.Pool;
  let sink: Sink;
  let worker: Worker;
  const run = randomUUID().slice(0, 8);
  const queue = `mf-${run}`;

  beforeAll(async () => {
    pool = new pg.Pool({ connectionString: inject('databaseUrl') });
    sink = await startSink();
    await deploySourceFlow(pool, {
      kind: 'rabbitmq-source',
      connection: { connection: URL, queue, exchange: 'amq.topic', routingKey: `orders.${run}.#` },
      type: 'io.meshflow.amqp.message',
      sink,
      path: 'amqp',
    });
    worker = await startWorker(inject('databaseUrl'));
    await waitForConnected(worker.running.output, 1);
  });

  afterAll(async () => {
    await worker?.running.stop();
    await sink?.close();
    await undeployAll(pool);
    await pool.end();
    const c = await amqp.connect(URL);
    const ch = await c.createChannel();
    await ch.deleteQueue(queue);
    await c.close();
  });

  it('a broker restart in the middle of the traffic loses no persistent message of the durable queue', async () => {
    let connection: ChannelModel | undefined;
    let channel: ConfirmChannel | undefined;
    const confirmed = new Set<number>();
    const publish = async (n: number) => {
      for (;;) {
        try {
          if (!channel) {
            connection = await amqp.connect(URL, { timeout: 1000 });
            connection.on('error', () => {});
            channel = await connection.createConfirmChannel();
            channel.on('error', () => {});
          }
          const ch = channel;
          await new Promise<void>((resolve, reject) =>
            ch.publish('amq.topic', `orders.${run}.created`, Buffer.from(JSON.stringify({ n })), { persistent: true, contentType: 'application/json', messageId: `${run}-${n}` }, (error) =>
              error ? reject(new Error(String(error))) : resolve(),
            ),
          );
          confirmed.add(n);
          return;
        } catch {
          await connection?.close().catch(() => {});
          connection = undefined;
          channel = undefined;
          await new Promise((r) => setTimeout(r, 300));
        }
      }
    };
    for (let n = 0; n < 300; n++) await publish(n);
    await connection?.close().catch(() => {});
    channel = undefined;
    await withBrokerDown(RABBIT, async () => {
      await new Promise((r) => setTimeout(r, 1000));
    });
    for (let n = 300; n < 400; n++) await publish(n);
    await connection?.close().catch(() => {});
    expect(confirmed.size).toBe(400);
    await waitFor(async () => (new Set(bodiesAt(sink, 'amqp').map((b) => (b as { n: number }).n)).size === 400 ? true : undefined), 90_000, 'all 400 messages at the sink');
    // The message-id is the event id: a message redelivered after the restart is stored once.
    const ids = new Set(sink.received.filter((r) => r.url === '/amqp').map((r) => String(r.headers['ce-id'])));
    expect(ids.size).toBe(400);
    expect(worker.running.output()).toMatch(/connector session failed; reconnecting/);
  });
});
