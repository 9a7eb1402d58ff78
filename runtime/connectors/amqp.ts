/**
 * RabbitMQ over AMQP 0-9-1. The consumer declares a durable queue (bound to the exchange with
 * the routing key when one is given), takes messages with manual acknowledgement and acks
 * each only after its event is committed, so what a restart or crash interrupts is redelivered.
 * The publisher sends persistent messages on a confirm channel: publish resolves once the
 * broker has taken responsibility for the message.
 */
import amqp, { type ChannelModel, type ConsumeMessage } from 'amqplib';
import { egressPolicy, egressRefusal } from '../net/egress.ts';
import { binaryHeaders, dataBytes, fromHeaders, sourceUri } from './mapping.ts';
import type { ConnectorConfig, ConnectorDriver, ConnectorSecrets, Publisher } from './types.ts';

const PREFIXES = ['cloudEvents:', 'cloudEvents_', 'ce-', 'ce_'];

/** The URL with the stored credentials put in (they are kept out of the config). */
function brokerUrl(config: ConnectorConfig, secrets: ConnectorSecrets): string {
  const url = new URL(config.connection);
  if (typeof config.username === 'string' && config.username) url.username = config.username;
  if (secrets.password) url.password = secrets.password;
  return url.toString();
}

async function open(config: ConnectorConfig, secrets: ConnectorSecrets): Promise<ChannelModel> {
  try {
    const url = new URL(config.connection);
    const port = Number(url.port) || (url.protocol === 'amqps:' ? 5671 : 5672);
    // amqplib hands its socket options to net/tls.connect: the name is resolved and checked by the
    // egress policy when the socket connects (an address literal was checked by the registry).
    return await amqp.connect(brokerUrl(config, secrets), { timeout: 5_000, lookup: egressPolicy().lookupFor(port) });
  } catch (error) {
    throw egressRefusal(error) ?? new Error(`AMQP broker ${sourceUri(config.connection, '').replace(/\/$/, '')}: ${(error as Error).message}`);
  }
}

function headerBag(message: ConsumeMessage): Record<string, unknown> {
  return { ...(message.properties.headers ?? {}) };
}

export const amqpDriver: ConnectorDriver = {
  system: 'amqp',
  async test(config, secrets) {
    const connection = await open(config, secrets);
    await connection.close();
  },
  async consume(ctx) {
    const connection = await open(ctx.config, ctx.secrets);
    const ended = new Promise<Error | undefined>((resolve) => {
      connection.on('error', (error: Error) => resolve(error));
      connection.on('close', () => resolve(undefined));
    });
    try {
      const channel = await connection.createChannel();
      const queue = String(ctx.config.queue);
      await channel.assertQueue(queue, { durable: true });
      const exchange = typeof ctx.config.exchange === 'string' && ctx.config.exchange ? ctx.config.exchange : undefined;
      const routingKey = typeof ctx.config.routingKey === 'string' ? ctx.config.routingKey : '#';
      if (exchange) {
        if (!exchange.startsWith('amq.')) await channel.assertExchange(exchange, 'topic', { durable: true });
        await channel.bindQueue(queue, exchange, routingKey);
      }
      await channel.prefetch(256);
      const source = sourceUri(ctx.config.connection, exchange ?? queue);
      // Messages are committed in arrival order, one chain per channel.
      let chain = Promise.resolve();
      let failure: Error | undefined;
      await channel.consume(
        queue,
        (message) => {
          if (!message) return;
          chain = chain.then(async () => {
            if (failure) return;
            let event;
            try {
              event = fromHeaders(message.content, headerBag(message), message.properties.contentType as string | undefined, PREFIXES, {
                system: 'amqp',
                source,
                subject: message.fields.routingKey,
                ...(message.properties.messageId ? { id: String(message.properties.messageId) } : {}),
                ...(message.properties.timestamp ? { time: new Date(Number(message.properties.timestamp) * 1000) } : {}),
              });
            } catch (error) {
              ctx.unreadable(error as Error);
              channel.nack(message, false, false);
              return;
            }
            try {
              await ctx.deliver([{ event, settle: () => channel.ack(message) }]);
            } catch (error) {
              // Unacknowledged, the message returns to the queue when the connection closes.
              failure = error as Error;
              await connection.close().catch(() => {});
            }
          });
        },
        { noAck: false },
      );
      ctx.connected();
      const stop = () => void connection.close().catch(() => {});
      ctx.signal.addEventListener('abort', stop, { once: true });
      const error = await ended;
      ctx.signal.removeEventListener('abort', stop);
      if (!ctx.signal.aborted) throw failure ?? error ?? new Error(`AMQP broker closed the connection`);
    } catch (error) {
      await connection.close().catch(() => {});
      throw error;
    }
  },
  async publisher(config, secrets): Promise<Publisher> {
    const connection = await open(config, secrets);
    connection.on('error', () => {});
    const channel = await connection.createConfirmChannel();
    return {
      async publish({ event, channel: exchange, options }) {
        const routingKey = String(options.routingKey ?? '');
        const { 'content-type': contentType, ...headers } = binaryHeaders(event, 'cloudEvents:');
        await new Promise<void>((resolve, reject) => {
          channel.publish(
            exchange,
            routingKey,
            dataBytes(event),
            { persistent: true, messageId: event.id, headers, ...(contentType ? { contentType } : {}) },
            (error) => (error ? reject(new Error(`AMQP publish to ${exchange || '(default)'}/${routingKey}: ${String(error)}`)) : resolve()),
          );
        });
      },
      close: async () => {
        await connection.close().catch(() => {});
      },
    };
  },
};
