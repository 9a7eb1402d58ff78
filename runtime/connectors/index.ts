/**
 * The connector registry: one driver per system, and the connector kinds the gallery offers.
 * Broker kinds come from the node registry (a node with a `binding` to a broker system), so a
 * gallery form and a canvas inspector edit the same fields; kinds with no node (PostgreSQL
 * table changes, the HTTP sink) are defined here. Every kind also takes a `username`, and a
 * `password` that is stored encrypted, never in the config.
 */
import { z } from 'zod';
import { nodeDefinitions } from '../nodes/index.ts';
import { amqpDriver } from './amqp.ts';
import { httpSinkDriver } from './http-sink.ts';
import { kafkaDriver } from './kafka.ts';
import { mqttDriver } from './mqtt.ts';
import { natsDriver } from './nats.ts';
import { postgresDriver } from './postgres.ts';
import { redisDriver } from './redis.ts';
import { egressPolicy, egressRefusal } from '../net/egress.ts';
import type { ConnectorConfig, ConnectorDriver, ConnectorKind, ConnectorSecrets, ConnectorSystem, SessionContext } from './types.ts';

export type { ConnectorConfig, ConnectorDriver, ConnectorKind, ConnectorSecrets, ConnectorSystem, Inbound, Publisher, SessionContext } from './types.ts';

const DEFAULT_PORTS: Record<string, number> = { mqtt: 1883, mqtts: 8883, ws: 80, wss: 443, nats: 4222, amqp: 5672, amqps: 5671, redis: 6379, rediss: 6379, kafka: 9092, postgres: 5432, postgresql: 5432 };

/** Host and port of every server a connection string names (Kafka lists several), with the scheme's default port. */
export function connectionEndpoints(system: ConnectorSystem, connection: string): { host: string; port: number }[] {
  const urls =
    system === 'kafka'
      ? connection.split(',').map((b) => b.trim()).filter(Boolean).map((b) => new URL(b.includes('://') ? b : `kafka://${b}`))
      : [new URL(connection)];
  return urls.map((url) => {
    const scheme = url.protocol.replace(/:$/, '');
    // libpq's `?host=` overrides the URL's host (pg reads it too); a socket directory is no network
    // address (the driver refuses it).
    const host = (system === 'postgres' ? url.searchParams.get('host') : null) ?? decodeURIComponent(url.hostname);
    return { host: host || 'localhost', port: url.port ? Number(url.port) : (DEFAULT_PORTS[scheme] ?? DEFAULT_PORTS[system] ?? 0) };
  }).filter((e) => !e.host.startsWith('/'));
}

/**
 * Each connection's servers are checked against the egress policy before the client starts,
 * so a refusal comes at once with the policy's reason. This is not the only check: every
 * driver also checks the address its sockets actually connect to (the policy's lookup, a
 * checked socket factory or transport, or a checked address the client is pointed at), which
 * is what stops DNS rebinding and servers a broker advertises. HTTP sinks are checked at
 * connect time by their agent. A name that cannot be resolved is left to the client, whose
 * error says more.
 */
async function checkConnection(system: ConnectorSystem, connection: string): Promise<void> {
  let endpoints: { host: string; port: number }[];
  try {
    endpoints = connectionEndpoints(system, connection);
  } catch {
    return;
  }
  for (const { host, port } of endpoints) {
    try {
      await egressPolicy().check(host, port);
    } catch (error) {
      const refusal = egressRefusal(error);
      if (refusal) throw refusal;
    }
  }
}

function checked(driver: ConnectorDriver): ConnectorDriver {
  if (driver.system === 'http') return driver;
  const { system, test, consume, publisher } = driver;
  return {
    system,
    test: async (config, secrets) => {
      await checkConnection(system, config.connection);
      return test(config, secrets);
    },
    ...(consume
      ? {
          consume: async (ctx: SessionContext) => {
            await checkConnection(system, ctx.config.connection);
            return consume(ctx);
          },
        }
      : {}),
    ...(publisher
      ? {
          publisher: async (config: ConnectorConfig, secrets: ConnectorSecrets) => {
            await checkConnection(system, config.connection);
            return publisher(config, secrets);
          },
        }
      : {}),
  };
}

export const drivers: Record<ConnectorSystem, ConnectorDriver> = {
  mqtt: checked(mqttDriver),
  nats: checked(natsDriver),
  amqp: checked(amqpDriver),
  redis: checked(redisDriver),
  kafka: checked(kafkaDriver),
  postgres: checked(postgresDriver),
  http: httpSinkDriver,
};

const credentials = {
  username: z.string().optional().describe('User name, when the system asks for one'),
};

/** Secret fields every kind accepts; the studio stores them encrypted. */
export const SECRET_FIELDS = ['password'] as const;

/** Where every kind connects: one URL (or, for Kafka, the bootstrap servers) in `connection`. */
const CONNECTION_FIELDS = ['connection'];

/** The flow-side filter fields of source nodes have no meaning for a standalone connector. */
const FLOW_ONLY = ['eventType', 'eventSource', 'payload'];

function isBrokerSystem(system: string): system is ConnectorSystem {
  return system in drivers && system !== 'http' && system !== 'postgres';
}

const fromNodes: ConnectorKind[] = nodeDefinitions.flatMap((def) => {
  if (!def.binding || !isBrokerSystem(def.binding.system) || !(def.schema instanceof z.ZodObject)) return [];
  const object = def.schema as z.ZodObject<z.ZodRawShape>;
  const shape = Object.fromEntries(Object.entries(object.shape).filter(([key]) => !FLOW_ONLY.includes(key)));
  return [
    {
      kind: def.kind,
      title: def.title,
      description: def.description,
      direction: def.binding.direction,
      system: def.binding.system,
      schema: z.object({ ...shape, ...credentials }),
      secretFields: [...SECRET_FIELDS],
      connectionFields: CONNECTION_FIELDS,
    },
  ];
});

const ownKinds: ConnectorKind[] = [
  {
    kind: 'postgres-source',
    title: 'PostgreSQL table changes',
    description: 'Turns every INSERT, UPDATE and DELETE on a table into an event, through a trigger and LISTEN/NOTIFY.',
    direction: 'source',
    system: 'postgres',
    schema: z.object({
      connection: z.string().min(1).default('postgresql://localhost:5432/postgres').describe('PostgreSQL URL'),
      table: z.string().min(1).default('public.orders').describe('Table, optionally schema-qualified'),
      ...credentials,
    }),
    secretFields: [...SECRET_FIELDS],
    connectionFields: CONNECTION_FIELDS,
  },
  {
    kind: 'http-sink',
    title: 'HTTP sink',
    description: 'POSTs each event to a URL as a CloudEvent (binary or structured) or as plain JSON.',
    direction: 'target',
    system: 'http',
    schema: z.object({
      connection: z.string().url().default('http://localhost:9000/events').describe('URL events are POSTed to'),
      format: z.enum(['binary', 'structured', 'json']).default('binary'),
    }),
    secretFields: ['authorization'],
    connectionFields: CONNECTION_FIELDS,
  },
];

export const connectorKinds: readonly ConnectorKind[] = [...fromNodes, ...ownKinds];

const byKind = new Map(connectorKinds.map((k) => [k.kind, k]));

export function connectorKind(kind: string): ConnectorKind | undefined {
  return byKind.get(kind);
}

export function driverFor(kind: string): ConnectorDriver | undefined {
  const found = byKind.get(kind);
  return found ? drivers[found.system] : undefined;
}

/** What a connector's secrets are bound to: the values of its kind's connection fields. */
export function connectionBinding(kind: string, config: unknown): string {
  const fields = byKind.get(kind)?.connectionFields ?? ['connection'];
  const values = config !== null && typeof config === 'object' ? (config as Record<string, unknown>) : {};
  return JSON.stringify([kind, ...fields.map((f) => values[f] ?? null)]);
}

/** A kind's config parsed with its defaults, or the first problem as `field: message`. */
export function parseConnectorConfig(kind: string, input: unknown): { ok: true; config: ConnectorConfig } | { ok: false; problem: string } {
  const found = byKind.get(kind);
  if (!found) return { ok: false, problem: `kind: no connector kind "${kind}"; known kinds are ${[...byKind.keys()].join(', ')}` };
  const parsed = found.schema.safeParse(input ?? {});
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    return { ok: false, problem: `${issue.path.join('.') || 'config'}: ${issue.message}` };
  }
  return { ok: true, config: parsed.data as ConnectorConfig };
}
