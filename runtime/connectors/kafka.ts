/**
 * Kafka through kafkajs: a consumer group reads a topic batch by batch; a batch's offsets are
 * committed to Kafka only after its events are committed to the event log (autoCommit off,
 * offsets resolved and committed by hand), so a crash replays at most the uncommitted batch.
 * Records map to CloudEvents by the Kafka binding (`ce_` headers, key ↔ `partitionkey`); a
 * record key computed by the flow arrives as the event's `partitionkey`.
 *
 * No Kafka-protocol broker is installable on these machines (none on npm or in Debian), so
 * this driver is tested for its mapping only; consuming and producing are untested here.
 */
import { Kafka, logLevel, type ISocketFactory, type KafkaConfig } from 'kafkajs';
import { egressPolicy, egressRefusal, type EgressRefused } from '../net/egress.ts';
import { fromKafka, toKafka } from './mapping.ts';
import type { ConnectorConfig, ConnectorDriver, ConnectorSecrets, Inbound, Publisher } from './types.ts';

/**
 * kafkajs opens every broker connection through its socket factory: the bootstrap servers and
 * each broker the cluster's metadata names later. Each socket is checked by the egress policy
 * at the address it connects to, before it connects; a refused broker fails with the refusal,
 * which is handed to `refused` too (kafkajs rewraps socket errors without their cause).
 */
export function kafkaSocketFactory(refused: (refusal: EgressRefused) => void = () => {}): ISocketFactory {
  return ({ host, port, ssl, onConnect }) => {
    const socket = egressPolicy().socket(host, port, ssl ? (typeof ssl === 'object' ? ssl : {}) : undefined, onConnect);
    socket.once('error', (error) => {
      const refusal = egressRefusal(error);
      if (refusal) refused(refusal);
    });
    socket.setKeepAlive(true, 60_000);
    return socket;
  };
}

/** A kafkajs client whose sockets pass the egress policy; `refusal` is the one that stopped a socket, if any. */
function client(config: ConnectorConfig, secrets: ConnectorSecrets, clientId: string): Kafka & { refusal?: EgressRefused } {
  const brokers = config.connection.split(',').map((b) => b.trim().replace(/^kafka:\/\//, '')).filter(Boolean);
  const options: KafkaConfig = { clientId, brokers, logLevel: logLevel.NOTHING, connectionTimeout: 5_000, retry: { retries: 0 } };
  if (typeof config.username === 'string' && config.username && secrets.password) {
    options.sasl = { mechanism: 'plain', username: config.username, password: secrets.password };
    options.ssl = config.ssl === true;
  }
  const kafka: Kafka & { refusal?: EgressRefused } = new Kafka({ ...options, socketFactory: kafkaSocketFactory((refusal) => (kafka.refusal ??= refusal)) });
  return kafka;
}

export const kafkaDriver: ConnectorDriver = {
  system: 'kafka',
  async test(config, secrets) {
    const kafka = client(config, secrets, 'meshflow-test');
    const admin = kafka.admin();
    try {
      await admin.connect();
      await admin.listTopics();
    } catch (error) {
      throw kafka.refusal ?? new Error(`Kafka brokers ${config.connection}: ${(error as Error).message}`);
    } finally {
      await admin.disconnect().catch(() => {});
    }
  },
  async consume(ctx) {
    const topic = String(ctx.config.topic);
    const kafka = client(ctx.config, ctx.secrets, ctx.consumerName);
    const consumer = kafka.consumer({ groupId: String(ctx.config.groupId) });
    let crashed: (error: Error) => void = () => {};
    const crash = new Promise<never>((_, reject) => (crashed = reject));
    consumer.on(consumer.events.CRASH, (event) => crashed(event.payload.error));
    const source = `kafka://${ctx.config.connection.split(',')[0]!.trim()}/${encodeURIComponent(topic)}`;
    try {
      await consumer.connect();
      await consumer.subscribe({ topics: [topic] });
      await consumer.run({
        autoCommit: false,
        eachBatchAutoResolve: false,
        eachBatch: async ({ batch, resolveOffset, commitOffsetsIfNecessary, heartbeat }) => {
          const inbound: Inbound[] = [];
          for (const message of batch.messages) {
            try {
              inbound.push({
                event: fromKafka(
                  { topic: batch.topic, partition: batch.partition, offset: message.offset, key: message.key, value: message.value, headers: message.headers ?? {}, timestamp: message.timestamp },
                  { system: 'kafka', source },
                ),
                settle: () => {},
              });
            } catch (error) {
              ctx.unreadable(error as Error);
            }
          }
          await ctx.deliver(inbound);
          for (const message of batch.messages) resolveOffset(message.offset);
          await commitOffsetsIfNecessary();
          ctx.backlog(Number(batch.offsetLag()));
          await heartbeat();
        },
      });
      ctx.connected();
      await Promise.race([crash, new Promise<void>((resolve) => ctx.signal.addEventListener('abort', () => resolve(), { once: true }))]);
    } catch (error) {
      // A refused broker is the policy's answer, for the host to mark the connector failed.
      throw kafka.refusal ?? error;
    } finally {
      await consumer.disconnect().catch(() => {});
    }
  },
  async publisher(config, secrets): Promise<Publisher> {
    const kafka = client(config, secrets, 'meshflow-producer');
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect().catch((error: Error) => Promise.reject(kafka.refusal ?? error));
    return {
      async publish({ event, channel }) {
        const { key, value, headers } = toKafka(event);
        await producer.send({ topic: channel, acks: -1, messages: [{ key, value, headers }] }).catch((error: Error) => Promise.reject(kafka.refusal ?? error));
      },
      close: () => producer.disconnect(),
    };
  },
};
