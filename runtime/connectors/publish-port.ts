/**
 * The engine's `call: asyncapi` publish, carried out by the connector publishers. The broker
 * target nodes write the broker URL and channel as server variables and the payload under
 * `message.payload.data` (runtime/nodes/shared.ts `brokerTarget`); the protocol picks the
 * driver. One publisher per broker URL is kept open and reused.
 *
 * A payload that is itself a CloudEvent is sent as that event; anything else becomes the data
 * of a new `io.meshflow.<system>.message` event.
 */
import { randomUUID } from 'node:crypto';
import type { AsyncApiPort, AsyncApiRequest } from '../engine/ports.ts';
import type { Json } from '../engine/types.ts';
import { validateStructured, type CloudEventRecord } from '../events/cloudevent.ts';
import { drivers } from './index.ts';
import type { ConnectorSecrets, ConnectorSystem, Publisher } from './types.ts';

const PROTOCOLS: Record<string, ConnectorSystem> = { mqtt: 'mqtt', mqtt5: 'mqtt', nats: 'nats', amqp: 'amqp', amqps: 'amqp', redis: 'redis', kafka: 'kafka', http: 'http', https: 'http' };

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

function eventOf(data: unknown, system: ConnectorSystem): CloudEventRecord {
  if (isObj(data) && data.specversion === '1.0') return validateStructured(data);
  return { specversion: '1.0', id: randomUUID(), source: 'meshflow://flows', type: `io.meshflow.${system}.message`, time: new Date().toISOString(), datacontenttype: 'application/json', data };
}

export class BrokerPublishPort implements AsyncApiPort {
  private readonly publishers = new Map<string, Promise<Publisher>>();

  /** `secretsFor` gives the credentials of a broker URL (e.g. of a configured connector). */
  constructor(private readonly secretsFor: (system: ConnectorSystem, url: string) => ConnectorSecrets = () => ({})) {}

  /** The `meshflow://connectors/<system>` documents the broker target nodes point at. */
  document(reference: Json): Json | undefined {
    const ref = isObj(reference) ? (isObj(reference.endpoint) ? reference.endpoint.uri : reference.endpoint) : undefined;
    const match = typeof ref === 'string' ? /^meshflow:\/\/connectors\/([a-z]+)$/.exec(ref) : null;
    if (!match) return undefined;
    return {
      asyncapi: '3.0.0',
      info: { title: `Meshflow ${match[1]} connector`, version: '1.0.0' },
      operations: { publish: { action: 'send' } },
    };
  }

  async publish(request: AsyncApiRequest): Promise<void> {
    const system = PROTOCOLS[String(request.protocol ?? '').toLowerCase()];
    if (!system) throw new Error(`asyncapi publish: protocol "${String(request.protocol)}" has no connector; use one of ${Object.keys(PROTOCOLS).join(', ')}`);
    const variables = isObj(request.server) && isObj(request.server.variables) ? request.server.variables : {};
    const url = typeof variables.url === 'string' ? variables.url : undefined;
    const channel = request.channel ?? (typeof variables.channel === 'string' ? variables.channel : undefined);
    if (!url || !channel) throw new Error(`asyncapi publish: server.variables must give the broker url and the channel (got url=${String(url)}, channel=${String(channel)})`);
    const message = isObj(request.message) ? request.message : {};
    const payload = isObj(message.payload) ? message.payload : {};
    const options = isObj(message.headers) ? message.headers : {};
    const key = `${system} ${url}`;
    const publisher = await this.publisher(key, system, url);
    try {
      await publisher.publish({ event: eventOf(payload.data, system), channel, options });
    } catch (error) {
      // The connection may be gone (a broker restart): the next publish opens a new one.
      this.publishers.delete(key);
      void publisher.close().catch(() => {});
      throw error;
    }
  }

  async *subscribe(request: AsyncApiRequest): AsyncIterable<Json> {
    throw new Error(`asyncapi subscribe (${String(request.protocol)}): consume with a source node; flows receive broker messages as events`);
  }

  async close(): Promise<void> {
    const open = [...this.publishers.values()];
    this.publishers.clear();
    await Promise.all(open.map(async (p) => (await p.catch(() => undefined))?.close()));
  }

  private publisher(key: string, system: ConnectorSystem, url: string): Promise<Publisher> {
    let entry = this.publishers.get(key);
    if (!entry) {
      const driver = drivers[system];
      if (!driver.publisher) throw new Error(`asyncapi publish: ${system} connectors cannot publish`);
      entry = driver.publisher({ connection: url }, this.secretsFor(system, url));
      // A failed connection is not kept: the next publish tries again.
      entry.catch(() => this.publishers.delete(key));
      this.publishers.set(key, entry);
    }
    return entry;
  }
}
