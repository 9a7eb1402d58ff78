/**
 * Ingress onto JetStream: each event is published to the events stream with its `(source, id)`
 * hash as `Nats-Msg-Id`, and one delivery message per deployment it is routed to; `append`
 * resolves once JetStream has acknowledged every publish, so a 2xx means the event is stored
 * (on the configured replicas). A publish JetStream reports as a duplicate means the event
 * was already in the log. The delivery messages are published whether or not the event was a
 * repeat: after a crash between publishes, the sender's retry completes what is missing, and
 * the duplicate window drops what is not.
 *
 * Events routed to a workflow deployment (whose runs start from PostgreSQL) go to the
 * PostgreSQL log instead, whole. A JetStream failure is an outage (the caller answers 503),
 * never a silent switch of logs.
 */
import type { JetStreamClient, PubAck } from '@nats-io/jetstream';
import type { EventAppender } from '../backend.ts';
import type { AppendEntry, AppendOutcome } from '../event-log.ts';
import type { LoggedEvent } from './records.ts';
import { eventMsgId, names } from './streams.ts';

/** An event message's body. */
export interface EventMessage extends LoggedEvent {
  routes: { deploymentId: string; orderingKey: string | null }[];
}

/** A delivery message's body. */
export interface DeliveryMessage extends LoggedEvent {
  deploymentId: string;
  orderingKey: string | null;
}

export interface JetStreamAppenderOptions {
  js: JetStreamClient;
  prefix: string;
  /** Where events routed to workflow deployments go: the PostgreSQL log. */
  postgres: EventAppender;
  /** Whether a deployment is a pipeline (its deliveries go through JetStream). */
  isPipeline: (deploymentId: string) => boolean;
  /** Called before the first ordered delivery of a deployment is published: its consumer must exist. */
  ordered: (deploymentId: string) => Promise<void>;
  /** Told how many events a call published. */
  onCommit?: (batchSize: number) => void;
  onStored?: (entries: AppendEntry[]) => void;
}

export function loggedOf(entry: AppendEntry): LoggedEvent {
  const filtered = (entry.filtered ?? []).map((f) => ({ deploymentId: f.deploymentId, task: f.task, reason: f.reason }));
  return { event: entry.event, ingress: entry.ingress, considered: entry.routes.length + filtered.length, filtered };
}

export class JetStreamAppender implements EventAppender {
  private readonly names;
  private readonly encoder = new TextEncoder();

  constructor(private readonly options: JetStreamAppenderOptions) {
    this.names = names(options.prefix);
  }

  async append(entries: AppendEntry[]): Promise<AppendOutcome[]> {
    const outcomes: AppendOutcome[] = entries.map(() => ({ stored: false }));
    const toPostgres: number[] = [];
    const toJetStream: number[] = [];
    const first = new Set<string>();
    entries.forEach((entry, i) => {
      // Within one call the first of a repeated (source, id) is the one stored.
      const key = `${entry.event.source}\u0000${entry.event.id}`;
      if (first.has(key)) return;
      first.add(key);
      (entry.routes.every((r) => this.options.isPipeline(r.deploymentId)) ? toJetStream : toPostgres).push(i);
    });
    const published = Promise.all(toJetStream.map((i) => this.publish(entries[i]!)));
    const logged = toPostgres.length > 0 ? this.options.postgres.append(toPostgres.map((i) => entries[i]!)) : Promise.resolve([]);
    const [acks, pgOutcomes] = await Promise.all([published, logged]);
    toJetStream.forEach((i, k) => (outcomes[i] = { stored: !acks[k]!.duplicate }));
    toPostgres.forEach((i, k) => (outcomes[i] = pgOutcomes[k] ?? { stored: false }));
    if (toJetStream.length > 0) {
      this.options.onCommit?.(toJetStream.length);
      this.options.onStored?.(toJetStream.filter((i) => outcomes[i]!.stored).map((i) => entries[i]!));
    }
    return outcomes;
  }

  /** The event and its deliveries, published side by side; the event's acknowledgement says whether it is new. */
  private async publish(entry: AppendEntry): Promise<PubAck> {
    const logged = loggedOf(entry);
    const msgID = eventMsgId(entry.event.source, entry.event.id);
    const body: EventMessage = { ...logged, routes: entry.routes };
    const deliveries = entry.routes.map(async (route) => {
      const ordered = route.orderingKey !== null;
      if (ordered) await this.options.ordered(route.deploymentId);
      const message: DeliveryMessage = { ...logged, deploymentId: route.deploymentId, orderingKey: route.orderingKey };
      const subject = ordered ? this.names.ordered(route.deploymentId) : this.names.unordered(route.deploymentId);
      return this.options.js.publish(subject, this.encoder.encode(JSON.stringify(message)), { msgID: `${msgID}.${route.deploymentId}` });
    });
    const [ack] = await Promise.all([this.options.js.publish(this.names.eventSubject, this.encoder.encode(JSON.stringify(body)), { msgID }), ...deliveries]);
    return ack;
  }
}
