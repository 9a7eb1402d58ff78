/**
 * The JetStream layout of the event backend, every name under one prefix (so installations,
 * and tests, can share a server):
 * - stream `<P>_EVENTS`, subject `<P>.events`: the durable event log, kept for the retention
 *   window; `Nats-Msg-Id` is a hash of `(source, id)`, so a repeat within the duplicate window
 *   is acknowledged as a duplicate and not stored;
 * - stream `<P>_DELIVERIES` (work-queue retention: a message goes once acknowledged), one
 *   message per event and deployment: `<P>.deliver.u.<deployment>` for deliveries without an
 *   ordering key, `<P>.deliver.o.<deployment>` for those with one;
 * - consumers: `<P>_recorder` (writes the events into PostgreSQL for the studio),
 *   `<P>_deliver` (every unordered delivery, shared by all workers), and one
 *   `<P>_ordered_<deployment>` per deployment with ordered deliveries, which hands out one
 *   message at a time (max_ack_pending 1), so its deliveries go out in order, retries included.
 * A consumer's ack wait is the delivery lease; workers keep the messages they hold alive
 * (`working`), so only a dead worker's messages come back when it runs out.
 */
import { createHash } from 'node:crypto';
import { AckPolicy, DeliverPolicy, JetStreamApiError, RetentionPolicy, StorageType, type ConsumerConfig, type JetStreamManager } from '@nats-io/jetstream';

export interface JetStreamSettings {
  prefix: string;
  storage: 'file' | 'memory';
  replicas: number;
  /** How long the events stream keeps events. */
  retentionMs: number;
  dedupeWindowMs: number;
  /** The consumers' ack wait. */
  leaseMs: number;
}

const nanos = (ms: number) => Math.round(ms) * 1_000_000;

export function names(prefix: string) {
  return {
    events: `${prefix}_EVENTS`,
    deliveries: `${prefix}_DELIVERIES`,
    eventSubject: `${prefix}.events`,
    unordered: (deploymentId: string) => `${prefix}.deliver.u.${deploymentId}`,
    ordered: (deploymentId: string) => `${prefix}.deliver.o.${deploymentId}`,
    recorder: `${prefix}_recorder`,
    deliver: `${prefix}_deliver`,
    orderedConsumer: (deploymentId: string) => `${prefix}_ordered_${deploymentId}`,
    orderedPrefix: `${prefix}_ordered_`,
  };
}

/** The message id of an event: its `(source, id)`, hashed to a fixed length. */
export function eventMsgId(source: string, id: string): string {
  return createHash('sha256').update(source).update('\u0000').update(id).digest('base64url');
}

function isNotFound(error: unknown): boolean {
  return error instanceof JetStreamApiError && (error.code === 10059 || error.code === 10014);
}

async function ensureStream(jsm: JetStreamManager, config: Parameters<JetStreamManager['streams']['add']>[0] & { name: string }): Promise<void> {
  try {
    const info = await jsm.streams.info(config.name);
    const c = info.config;
    if (c.max_age !== config.max_age || c.duplicate_window !== config.duplicate_window || c.num_replicas !== config.num_replicas) {
      await jsm.streams.update(config.name, { max_age: config.max_age, duplicate_window: config.duplicate_window, num_replicas: config.num_replicas });
    }
  } catch (error) {
    if (!isNotFound(error)) throw error;
    try {
      await jsm.streams.add(config);
    } catch (added) {
      // Another worker created it meanwhile.
      if (!(added instanceof JetStreamApiError && added.code === 10058)) throw added;
    }
  }
}

export async function ensureStreams(jsm: JetStreamManager, s: JetStreamSettings): Promise<void> {
  const n = names(s.prefix);
  const storage = s.storage === 'memory' ? StorageType.Memory : StorageType.File;
  const dedupe = nanos(Math.min(s.dedupeWindowMs, s.retentionMs));
  await ensureStream(jsm, {
    name: n.events,
    subjects: [n.eventSubject],
    retention: RetentionPolicy.Limits,
    storage,
    num_replicas: s.replicas,
    max_age: nanos(s.retentionMs),
    duplicate_window: dedupe,
  });
  await ensureStream(jsm, {
    name: n.deliveries,
    subjects: [`${s.prefix}.deliver.>`],
    retention: RetentionPolicy.Workqueue,
    storage,
    num_replicas: s.replicas,
    max_age: 0,
    duplicate_window: dedupe,
  });
  await ensureConsumer(jsm, n.events, { durable_name: n.recorder, filter_subject: n.eventSubject, ack_wait: nanos(s.leaseMs), max_ack_pending: 10_000 });
  await ensureConsumer(jsm, n.deliveries, { durable_name: n.deliver, filter_subject: `${s.prefix}.deliver.u.>`, ack_wait: nanos(s.leaseMs), max_ack_pending: 20_000 });
}

export async function ensureConsumer(jsm: JetStreamManager, stream: string, config: Partial<ConsumerConfig> & { durable_name: string }): Promise<void> {
  const full: Partial<ConsumerConfig> = { ack_policy: AckPolicy.Explicit, deliver_policy: DeliverPolicy.All, max_deliver: -1, ...config };
  try {
    const info = await jsm.consumers.info(stream, config.durable_name);
    if (info.config.ack_wait !== full.ack_wait || info.config.max_ack_pending !== full.max_ack_pending) {
      await jsm.consumers.update(stream, config.durable_name, { ack_wait: full.ack_wait, max_ack_pending: full.max_ack_pending });
    }
  } catch (error) {
    if (!isNotFound(error)) throw error;
    await jsm.consumers.add(stream, full);
  }
}

/** Removes every stream of a prefix (tests). */
export async function deleteStreams(jsm: JetStreamManager, prefix: string): Promise<void> {
  const n = names(prefix);
  for (const stream of [n.events, n.deliveries]) await jsm.streams.delete(stream).catch(() => false);
}
