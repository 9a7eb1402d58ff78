/**
 * The data plane's ports onto its event backend: what ingress, connectors and workflows
 * append to, and what the delivery loop claims its work from. PostgreSQL (event-log.ts,
 * delivery-queue.ts) implements both by default; NATS JetStream (jetstream/) when
 * MESHFLOW_EVENT_BACKEND=jetstream.
 */
import type { AppendEntry, AppendOutcome } from './event-log.ts';
import type { AttemptRecord, ClaimedDelivery, CompletedDelivery, PreparedCompletion } from './delivery-queue.ts';

/** The durable event log: `append` resolves once the entries are durable (or known repeats), in order. */
export interface EventAppender {
  append(entries: AppendEntry[]): Promise<AppendOutcome[]>;
}

/** The delivery work: leased claims, and what becomes of each claimed delivery. */
export interface DeliveryWork {
  claim(limit: number): Promise<ClaimedDelivery[]>;
  /** Delivered (or dropped by a later filter). */
  complete(done: CompletedDelivery[]): Promise<void>;
  /** Not sent yet (a rate limit): due again after `delayMs`. */
  postpone(id: string, delayMs: number): Promise<void>;
  /** Failed, to be tried again after `delayMs`. */
  retry(id: string, delayMs: number, error: string, attempt?: AttemptRecord): Promise<void>;
  /** Failed for good: kept as a dead letter in PostgreSQL, where the studio lists and replays it. */
  deadLetter(id: string, flowId: string | null, target: string, reason: string, attempt?: AttemptRecord): Promise<void>;
  /**
   * Deliveries the event log leased to this worker in its own commit (EventLogOptions.lease)
   * and handed straight to the loop: the backend learns of them to know when their handoff
   * record may go (PostgreSQL). A backend without such hand-overs leaves it out.
   */
  handedOver?(deliveries: ClaimedDelivery[]): void;
  /**
   * Completions as values for another statement to record (the event log's next append), so
   * that they need no commit of their own (PostgreSQL). A backend without it records them in
   * `complete` only.
   */
  prepareCompletion?(done: CompletedDelivery[]): PreparedCompletion;
}
