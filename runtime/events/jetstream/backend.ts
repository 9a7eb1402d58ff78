/**
 * The JetStream event backend, assembled: the connection, the streams, the appender, the
 * delivery work and the recorder, which copies the events stream into PostgreSQL's `event`
 * table (what the studio lists) in batches, behind the ingress acknowledgements.
 */
import { jetstream, jetstreamManager, type ConsumerMessages, type JsMsg } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import type pg from 'pg';
import { natsConnectEventBackend } from '../../connectors/nats.ts';
import type { EventAppender } from '../backend.ts';
import type { AppendEntry } from '../event-log.ts';
import { JetStreamAppender } from './appender.ts';
import { JetStreamDeliveries } from './deliveries.ts';
import { recordEvents, type LoggedEvent } from './records.ts';
import { ensureStreams, names, type JetStreamSettings } from './streams.ts';

/** SQLSTATE classes 22 (data exception) and 54 (limits): what one event holds, not an outage. */
function isDataError(error: unknown): boolean {
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' && (code.startsWith('22') || code.startsWith('54'));
}

type Log = (level: 'info' | 'warn' | 'error', message: string, fields?: Record<string, unknown>) => void;

export interface JetStreamBackendOptions extends JetStreamSettings {
  servers: string[];
  pool: pg.Pool;
  concurrency: number;
  postgres: EventAppender;
  isPipeline: (deploymentId: string) => boolean;
  wake: () => void;
  onCommit?: (batchSize: number) => void;
  onStored?: (entries: AppendEntry[]) => void;
  log: Log;
}

export interface JetStreamBackend {
  appender: JetStreamAppender;
  deliveries: JetStreamDeliveries;
  /** Hands back what this worker holds; returns how many deliveries went back. */
  release: () => Promise<number>;
  close: () => Promise<void>;
}

export async function startJetStreamBackend(options: JetStreamBackendOptions): Promise<JetStreamBackend> {
  let nc: NatsConnection;
  try {
    nc = await natsConnectEventBackend(options.servers, { reconnect: true, maxReconnectAttempts: -1, timeout: 5_000 });
  } catch (error) {
    throw new Error(`MESHFLOW_EVENT_BACKEND=jetstream: cannot reach NATS at ${options.servers.join(', ')} (${(error as Error).message}); start NATS with JetStream (nats-server -js) or set MESHFLOW_NATS_URL`);
  }
  const jsm = await jetstreamManager(nc);
  await ensureStreams(jsm, options);
  const js = jetstream(nc);
  const deliveries = new JetStreamDeliveries({ js, jsm, pool: options.pool, prefix: options.prefix, leaseMs: options.leaseMs, concurrency: options.concurrency, wake: options.wake, log: options.log });
  await deliveries.start();
  const appender = new JetStreamAppender({
    js,
    prefix: options.prefix,
    postgres: options.postgres,
    isPipeline: options.isPipeline,
    ordered: (deploymentId) => deliveries.ordered(deploymentId),
    ...(options.onCommit ? { onCommit: options.onCommit } : {}),
    ...(options.onStored ? { onStored: options.onStored } : {}),
  });

  // The recorder: every worker takes a share of the events stream and writes it to PostgreSQL.
  const n = names(options.prefix);
  const recorder: ConsumerMessages = await (await js.consumers.get(n.events, n.recorder)).consume({ max_messages: 1_000, expires: 5_000 });
  const decoder = new TextDecoder();
  let pending: JsMsg[] = [];
  let writing: Promise<void> | undefined;
  const write = async () => {
    while (pending.length > 0) {
      const batch = pending.splice(0, 1_000);
      const read: { msg: JsMsg; logged: LoggedEvent }[] = [];
      for (const msg of batch) {
        try {
          read.push({ msg, logged: JSON.parse(decoder.decode(msg.data)) as LoggedEvent });
        } catch {
          msg.term();
        }
      }
      const logged = read.map((r) => r.logged);
      try {
        await recordEvents(options.pool, logged);
        for (const r of read) r.msg.ack();
      } catch (error) {
        if (!isDataError(error)) {
          options.log('warn', 'recording events in PostgreSQL failed; retrying', { count: batch.length, error: (error as Error).message });
          for (const r of read) r.msg.nak(1_000);
          continue;
        }
        // One event PostgreSQL refuses (ingress validation should have) must not hold up the rest: one at a time.
        for (const r of read) {
          await recordEvents(options.pool, [r.logged]).catch((refused: Error) =>
            options.log('error', 'an event PostgreSQL refuses is kept in JetStream only (delivered, not listed in the studio)', { error: refused.message }),
          );
          r.msg.ack();
        }
      }
    }
  };
  const kick = (): void => {
    writing ??= write().finally(() => {
      writing = undefined;
      if (pending.length > 0) kick();
    });
  };
  const recording = (async () => {
    for await (const msg of recorder) {
      pending.push(msg);
      kick();
    }
  })().catch((error: Error) => options.log('warn', 'the event recorder stopped', { error: error.message }));

  return {
    appender,
    deliveries,
    release: () => deliveries.stop(),
    close: async () => {
      await deliveries.stop();
      recorder.stop();
      await recording;
      await writing;
      await write();
      pending = [];
      await nc.drain().catch(() => {});
    },
  };
}
