/**
 * MQTT v3.1.1 and v5 (`protocolVersion` 4 or 5). The consumer keeps a persistent session
 * (fixed client id, `clean: false`) and answers QoS 1/2 messages only after their event is
 * committed — `handleMessage` holds the PUBACK until its callback — so the broker resends what
 * a crash left unanswered. Reconnecting is the host's job: the client's own is turned off.
 */
import { createHash } from 'node:crypto';
import net from 'node:net';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { EgressRefused, egressPolicy, egressRefusal } from '../net/egress.ts';
import { fromMqtt, sourceUri, toMqtt } from './mapping.ts';
import type { ConnectorConfig, ConnectorDriver, ConnectorSecrets, Publisher, SessionContext } from './types.ts';

function options(config: ConnectorConfig, secrets: ConnectorSecrets, clientId: string, clean: boolean): IClientOptions {
  return {
    protocolVersion: config.protocolVersion === 4 ? 4 : 5,
    clientId,
    clean,
    reconnectPeriod: 0,
    connectTimeout: 5_000,
    ...(typeof config.username === 'string' && config.username ? { username: config.username } : {}),
    ...(secrets.password ? { password: secrets.password } : {}),
  };
}

const MQTT_PORTS: Record<string, number> = { 'mqtt:': 1883, 'tcp:': 1883, 'mqtts:': 8883, 'ssl:': 8883, 'tls:': 8883, 'ws:': 80, 'wss:': 443 };

/**
 * Where the client connects, through the egress policy. mqtt.js hands net.connect only host
 * and port, so for TCP and TLS the name is resolved and checked here, once, and the client
 * connects to the checked address (TLS keeps the name for SNI and the certificate). Over
 * WebSocket the Host header needs the name: the socket's lookup checks it when it connects.
 * The client's own reconnecting is off, so it opens no other socket.
 */
async function egressOptions(connection: string): Promise<IClientOptions> {
  const url = new URL(connection);
  if (url.protocol.includes('+unix')) throw new EgressRefused(connection, 'a Unix socket; the egress policy allows TCP connections only');
  const host = decodeURIComponent(url.hostname).replace(/^\[|\]$/g, '') || 'localhost';
  const port = Number(url.port) || MQTT_PORTS[url.protocol] || 1883;
  if (url.protocol === 'ws:' || url.protocol === 'wss:') {
    if (net.isIP(host)) await egressPolicy().check(host, port);
    return { wsOptions: { lookup: egressPolicy().lookupFor(port) } };
  }
  const [address] = await egressPolicy().check(host, port);
  return { host: address!, ...(net.isIP(host) ? {} : { servername: host }) };
}

async function connect(config: ConnectorConfig, secrets: ConnectorSecrets, clientId: string, clean: boolean): Promise<MqttClient> {
  let where: IClientOptions;
  try {
    where = await egressOptions(config.connection);
  } catch (error) {
    throw egressRefusal(error) ?? new Error(`MQTT broker ${config.connection}: ${(error as Error).message}`);
  }
  return new Promise((resolve, reject) => {
    const client = mqtt.connect(config.connection, { ...options(config, secrets, clientId, clean), ...where });
    const fail = (error: Error) => {
      client.end(true);
      reject(egressRefusal(error) ?? new Error(`MQTT broker ${config.connection}: ${error.message}`));
    };
    client.once('connect', () => {
      client.off('error', fail);
      resolve(client);
    });
    client.once('error', fail);
    client.once('close', () => fail(new Error('connection closed before CONNACK')));
  });
}

function end(client: MqttClient): Promise<void> {
  return new Promise((resolve) => client.end(false, {}, () => resolve()));
}

/**
 * A stable client id per consumer, so the broker keeps its session (and unanswered messages)
 * across reconnects and worker restarts. Two workers running one MQTT source would take the
 * id from each other: MQTT sources belong on one worker.
 */
function consumerId(ctx: SessionContext): string {
  const explicit = ctx.config.clientId;
  if (typeof explicit === 'string' && explicit) return explicit;
  const digest = createHash('sha256').update(`${ctx.config.connection}\u0000${String(ctx.config.topic)}\u0000${ctx.consumerKey}`).digest('hex');
  return `meshflow-${digest.slice(0, 16)}`;
}

export const mqttDriver: ConnectorDriver = {
  system: 'mqtt',
  async test(config, secrets) {
    const client = await connect(config, secrets, `meshflow-test-${Date.now()}`, true);
    await end(client);
  },
  async consume(ctx) {
    const topic = String(ctx.config.topic);
    const qos = ctx.config.qos === 0 || ctx.config.qos === 2 ? ctx.config.qos : 1;
    const client = await connect(ctx.config, ctx.secrets, consumerId(ctx), qos === 0);
    const source = sourceUri(ctx.config.connection, topic);
    let failure: Error | undefined;
    const closed = new Promise<void>((resolve) => client.once('close', () => resolve()));
    client.on('error', (error) => (failure ??= error));
    client.handleMessage = (packet, callback) => {
      let inbound;
      try {
        inbound = fromMqtt(
          {
            topic: packet.topic,
            payload: Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload),
            ...(packet.properties?.contentType ? { contentType: packet.properties.contentType } : {}),
            ...(packet.properties?.userProperties ? { userProperties: packet.properties.userProperties } : {}),
          },
          { system: 'mqtt', source },
        );
      } catch (error) {
        // A message that cannot become an event will not improve on redelivery: drop it, say why.
        ctx.unreadable(error as Error);
        callback();
        return;
      }
      ctx.deliver([{ event: inbound, settle: () => {} }]).then(
        () => callback(),
        (error: Error) => {
          // Unanswered, the message comes back when the session resumes.
          failure ??= error;
          client.end(true);
        },
      );
    };
    await new Promise<void>((resolve, reject) => {
      client.subscribe(topic, { qos }, (error, granted) => {
        if (error) reject(new Error(`MQTT subscribe ${topic}: ${error.message}`));
        else if (granted?.some((g) => g.qos === 128)) reject(new Error(`MQTT broker refused the subscription to ${topic}`));
        else resolve();
      });
    }).catch(async (error: Error) => {
      await end(client);
      throw error;
    });
    ctx.connected();
    const abort = () => void end(client);
    ctx.signal.addEventListener('abort', abort, { once: true });
    await closed;
    ctx.signal.removeEventListener('abort', abort);
    if (!ctx.signal.aborted) throw failure ?? new Error(`MQTT broker ${ctx.config.connection} closed the connection`);
  },
  async publisher(config, secrets): Promise<Publisher> {
    const client = await connect(config, secrets, `meshflow-pub-${Math.random().toString(36).slice(2, 10)}`, true);
    client.on('error', () => {});
    const v5 = config.protocolVersion !== 4;
    return {
      async publish({ event, channel: topic, options }) {
        const qos = options.qos === 0 || options.qos === 2 ? options.qos : 1;
        const { payload, contentType, userProperties } = toMqtt(event);
        // v3.1.1 has no properties: structured mode is its only mode.
        const body = v5 ? payload : Buffer.from(JSON.stringify(event));
        await client.publishAsync(topic, body, {
          qos,
          retain: options.retain === true,
          ...(v5 ? { properties: { userProperties, ...(contentType ? { contentType } : {}) } } : {}),
        });
      },
      close: () => end(client),
    };
  },
};
