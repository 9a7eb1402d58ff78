/**
 * The one interface every external system sits behind. A driver knows its system only: how
 * to check a connection, how to consume (a *session*, which the host reconnects with backoff
 * when it ends with an error) and how to publish. The host (runtime/worker/connectors.ts)
 * owns everything else: committing to the event log, acknowledging, status and counters.
 */
import type { z } from 'zod';
import type { CloudEventRecord } from '../events/cloudevent.ts';

export type ConnectorSystem = 'mqtt' | 'nats' | 'amqp' | 'redis' | 'kafka' | 'postgres' | 'http';

/** Connection settings every driver reads; the rest of a config is the kind's own fields. */
export interface ConnectorConfig {
  connection: string;
  [field: string]: unknown;
}

/** Secrets (passwords, tokens) kept apart from the config and stored encrypted. */
export type ConnectorSecrets = Record<string, string>;

/**
 * A consumed message turned into a CloudEvent, with what tells the broker it is done. `settle`
 * runs only after the event is committed to the event log (at-least-once end to end); a broker
 * that cannot redeliver gets a no-op.
 */
export interface Inbound {
  event: CloudEventRecord;
  settle: () => Promise<void> | void;
}

export interface SessionContext {
  config: ConnectorConfig;
  secrets: ConnectorSecrets;
  /** Aborted when the host stops the connector: the session closes its connection and resolves. */
  signal: AbortSignal;
  /** Reported once the connection is up and consuming. */
  connected: () => void;
  /**
   * Commits the events and only then settles them, in order. Rejects when the commit fails;
   * the session should then end with that error so the broker redelivers after a reconnect.
   */
  deliver: (batch: Inbound[]) => Promise<void>;
  /** A message that cannot become a CloudEvent: counted and shown as the last error, then dropped. */
  unreadable: (error: Error) => void;
  /** Broker-side backlog (pending messages) when the system can tell. */
  backlog: (count: number) => void;
  /** A worker-unique name, for consumer names within a group (Redis, Kafka). */
  consumerName: string;
  /** The same for this consumer on every worker and across restarts (an MQTT session's client id). */
  consumerKey: string;
}

export interface OutboundMessage {
  event: CloudEventRecord;
  /** Topic (MQTT, Kafka), subject (NATS), exchange (AMQP) or stream (Redis). */
  channel: string;
  /** The kind's publish options (QoS, retain, routing key, JetStream …) as its node schema parsed them. */
  options: Record<string, unknown>;
}

export interface Publisher {
  publish: (message: OutboundMessage) => Promise<void>;
  close: () => Promise<void>;
}

export interface ConnectorDriver {
  system: ConnectorSystem;
  /** Opens a connection and closes it again; throws an error saying what failed and where. */
  test: (config: ConnectorConfig, secrets: ConnectorSecrets) => Promise<void>;
  /**
   * Consumes until `signal` aborts (then resolves) or the connection fails (then rejects).
   * Absent for systems that only receive.
   */
  consume?: (ctx: SessionContext) => Promise<void>;
  publisher?: (config: ConnectorConfig, secrets: ConnectorSecrets) => Promise<Publisher>;
}

/** A connector kind as the gallery and the host see it. */
export interface ConnectorKind {
  /** The node kind (`mqtt-source`) or a connector-only kind (`postgres-source`, `http-sink`). */
  kind: string;
  title: string;
  description: string;
  direction: 'source' | 'target';
  system: ConnectorSystem;
  /** Parses and defaults a config (from the node registry where the kind is a node). */
  schema: z.ZodType;
  /** Fields stored encrypted rather than in the config. */
  secretFields: string[];
  /**
   * The config fields that say where the connector connects. Its secrets are bound to them:
   * changing one drops the stored secrets unless new ones come with the change.
   */
  connectionFields: string[];
}
