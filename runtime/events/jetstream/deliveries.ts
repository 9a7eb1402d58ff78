/**
 * The delivery work on JetStream, as the delivery loop sees it (DeliveryWork). Messages come
 * from the shared `deliver` consumer and from each deployment's ordered consumer into a local
 * buffer, and a claim takes them from there. Every message this worker holds (buffered, in
 * flight, or waiting out an ordered retry) is kept alive with `working()` a few times per
 * lease, so the consumer's ack wait only runs out for a worker that died: its messages then
 * go out again from another worker.
 *
 * Success acknowledges (the work queue drops the message); a retry is a `nak` with the backoff
 * as its delay; a dead letter is written to PostgreSQL first (the studio lists and replays it
 * there) and then acknowledged. An ordered delivery that must be retried is held here and
 * tried again after its backoff instead, since a `nak` would let the next message of its
 * deployment overtake it. Outcomes go to PostgreSQL in batches, and a completed delivery is
 * acknowledged once its outcome is written: a worker that dies in between has its messages
 * delivered again (at least once) rather than leaving a delivered event the studio cannot see.
 */
import type {
  Consumer,
  ConsumerMessages,
  JetStreamClient,
  JetStreamManager,
  JsMsg,
} from '@nats-io/jetstream';
import type pg from 'pg';
import type { DeliveryWork } from '../backend.ts';
import type { AttemptRecord, ClaimedDelivery, CompletedDelivery } from '../delivery-queue.ts';
import type { DeliveryMessage } from './appender.ts';
import { recordDeadLetter, recordOutcomes, type OutcomeRecord } from './records.ts';
import { ensureConsumer, names } from './streams.ts';

type Log = (level: 'info' | 'warn' | 'error', message: string, fields?: Record<string, unknown>) => void;

interface Held {
  msg: JsMsg;
  body: DeliveryMessage;
  attempts: number;
  ordered: boolean;
  /** Delivered or filtered: acknowledged once its outcome is written. */
  completing?: boolean;
}

/** A consumer this worker follows: the pull in progress, and how to stop following. */
interface Following {
  stopped: boolean;
  pull?: ConsumerMessages;
  stop: () => void;
}

export interface JetStreamDeliveriesOptions {
  js: JetStreamClient;
  jsm: JetStreamManager;
  pool: pg.Pool;
  prefix: string;
  leaseMs: number;
  /** Messages buffered at most (the loop's concurrency). */
  concurrency: number;
  /** New work arrived. */
  wake: () => void;
  log: Log;
}

export class JetStreamDeliveries implements DeliveryWork {
  private readonly names;
  private readonly decoder = new TextDecoder();
  /** Claimable now. */
  private buffer: Held[] = [];
  /** Every message this worker holds, by id: kept alive until acknowledged or handed back. */
  private readonly alive = new Map<string, Held>();
  private readonly consumers = new Map<string, Following>();
  private readonly pumps = new Set<Promise<void>>();
  private readonly ensured = new Map<string, Promise<void>>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private heartbeat: NodeJS.Timeout | undefined;
  private discovery: NodeJS.Timeout | undefined;
  private stopped = false;
  /** Outcomes to write; `done` acknowledges a completed delivery once its outcome is written. */
  private outcomes: { record: OutcomeRecord; done?: () => void }[] = [];
  private recording: Promise<void> | undefined;
  private roomWaiters: (() => void)[] = [];

  constructor(private readonly options: JetStreamDeliveriesOptions) {
    this.names = names(options.prefix);
  }

  async start(): Promise<void> {
    await this.follow(this.names.deliver, this.options.concurrency);
    await this.discover();
    this.heartbeat = setInterval(
      () => {
        for (const held of this.alive.values()) held.msg.working();
      },
      Math.max(50, Math.floor(this.options.leaseMs / 3)),
    );
    this.heartbeat.unref();
    this.discovery = setInterval(
      () =>
        void this.discover().catch((error: Error) =>
          this.options.log('warn', 'listing ordered consumers failed', { error: error.message }),
        ),
      5_000,
    );
    this.discovery.unref();
  }

  /** Makes sure a deployment's ordered consumer exists (before its first ordered message is published) and follows it. */
  ordered(deploymentId: string): Promise<void> {
    let done = this.ensured.get(deploymentId);
    if (!done) {
      const name = this.names.orderedConsumer(deploymentId);
      done = ensureConsumer(this.options.jsm, this.names.deliveries, {
        durable_name: name,
        filter_subject: this.names.ordered(deploymentId),
        ack_wait: this.options.leaseMs * 1_000_000,
        max_ack_pending: 1,
      }).then(() => this.follow(name, 1));
      done.catch(() => this.ensured.delete(deploymentId));
      this.ensured.set(deploymentId, done);
    }
    return done;
  }

  /** Ordered consumers other workers created. */
  private async discover(): Promise<void> {
    for await (const info of this.options.jsm.consumers.list(this.names.deliveries)) {
      const name = info.name;
      if (name.startsWith(this.names.orderedPrefix) && !this.consumers.has(name)) await this.follow(name, 1);
    }
  }

  /**
   * Takes a consumer's messages in pulls no larger than the room left in the buffer (at most
   * twice the loop's concurrency; one at a time for an ordered consumer), so every message this
   * worker has pulled is held and kept alive: none waits in the client's queue while its ack wait
   * runs out, to come back to another worker as a redelivery counted as an attempt.
   */
  private async follow(name: string, max: number): Promise<void> {
    if (this.consumers.has(name) || this.stopped) return;
    const consumer: Consumer = await this.options.js.consumers.get(this.names.deliveries, name);
    const following: Following = {
      stopped: false,
      stop: () => {
        following.stopped = true;
        following.pull?.stop();
      },
    };
    this.consumers.set(name, following);
    const ordered = name !== this.names.deliver;
    // An ordered consumer hands out one message until it is acknowledged (max_ack_pending 1).
    const room = () => (ordered ? 1 : Math.min(max, 2 * this.options.concurrency - this.buffer.length));
    const pump = (async () => {
      while (!this.stopped && !following.stopped) {
        const wanted = room();
        if (wanted <= 0) {
          await new Promise<void>((resolve) => this.roomWaiters.push(resolve));
          continue;
        }
        const pull = await consumer.fetch({ max_messages: wanted, expires: 5_000 });
        following.pull = pull;
        if (following.stopped) pull.stop();
        for await (const msg of pull) this.hold(msg, ordered);
      }
    })()
      .then(
        () => undefined,
        (error: Error) => error.message,
      )
      .then((error) => {
        this.pumps.delete(pump);
        this.consumers.delete(name);
        if (this.stopped || (following.stopped && !error)) return;
        // An ordered consumer is found again by discover(); the shared one is followed again here.
        this.options.log('warn', 'a delivery consumer stopped; following it again', {
          consumer: name,
          ...(error ? { error } : {}),
        });
        if (!ordered) this.followAgain(name, max);
      });
    this.pumps.add(pump);
  }

  /** A pulled message: held (and kept alive) from now on, and claimable. */
  private hold(msg: JsMsg, ordered: boolean): void {
    if (this.stopped) {
      msg.nak();
      return;
    }
    let body: DeliveryMessage;
    try {
      body = JSON.parse(this.decoder.decode(msg.data)) as DeliveryMessage;
    } catch (error) {
      this.options.log('error', 'dropping an unreadable delivery message', {
        subject: msg.subject,
        error: (error as Error).message,
      });
      msg.term();
      return;
    }
    const held: Held = { msg, body, attempts: msg.info.deliveryCount, ordered };
    this.alive.set(String(msg.seq), held);
    this.buffer.push(held);
    this.options.wake();
  }

  private followAgain(name: string, max: number): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      if (this.stopped) return;
      this.follow(name, max).catch((error: Error) => {
        this.options.log('warn', 'following a delivery consumer again failed; trying again', {
          consumer: name,
          error: error.message,
        });
        this.followAgain(name, max);
      });
    }, 1_000);
    this.timers.add(timer);
  }

  async claim(limit: number): Promise<ClaimedDelivery[]> {
    const taken = this.buffer.splice(0, limit);
    for (const wake of this.roomWaiters.splice(0)) wake();
    const now = Date.now();
    return taken.map((held) => ({
      id: String(held.msg.seq),
      deploymentId: held.body.deploymentId,
      attempts: held.attempts,
      event: held.body.event,
      ageMs: Math.max(0, now - Number(held.msg.info.timestampNanos) / 1_000_000),
    }));
  }

  private take(id: string): Held | undefined {
    const held = this.alive.get(id);
    this.alive.delete(id);
    return held;
  }

  async complete(done: CompletedDelivery[]): Promise<void> {
    for (const d of done) {
      const held = this.alive.get(d.id);
      if (!held || held.completing) continue;
      // Kept alive (and held) until its outcome is written, then acknowledged.
      held.completing = true;
      this.record(
        {
          logged: held.body,
          deploymentId: held.body.deploymentId,
          outcome: d.outcome,
          attempt: held.attempts,
          task: d.task,
          reason: d.reason,
          output: d.output,
          durationMs: d.durationMs,
          stepsMs: d.stepsMs,
        },
        () => {
          if (this.take(d.id)) held.msg.ack();
        },
      );
    }
  }

  async postpone(id: string, delayMs: number): Promise<void> {
    const held = this.alive.get(id);
    if (!held) return;
    // Not an attempt: the same count when it comes back.
    this.later(held, delayMs, held.attempts);
  }

  async retry(id: string, delayMs: number, error: string, attempt?: AttemptRecord): Promise<void> {
    const held = this.alive.get(id);
    if (!held) return;
    this.record({
      logged: held.body,
      deploymentId: held.body.deploymentId,
      outcome: 'retried',
      attempt: held.attempts,
      error,
      task: attempt?.task,
      output: attempt?.output,
      durationMs: attempt?.durationMs,
      stepsMs: attempt?.stepsMs,
    });
    this.later(held, delayMs, held.attempts + 1);
  }

  /** Unordered: back to JetStream with a delay. Ordered: held here meanwhile, so nothing overtakes it. */
  private later(held: Held, delayMs: number, attempts: number): void {
    const id = String(held.msg.seq);
    if (!held.ordered) {
      this.alive.delete(id);
      held.msg.nak(delayMs);
      return;
    }
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      if (this.stopped || !this.alive.has(id)) return;
      held.attempts = attempts;
      this.buffer.push(held);
      this.options.wake();
    }, delayMs);
    this.timers.add(timer);
  }

  async deadLetter(
    id: string,
    flowId: string | null,
    target: string,
    reason: string,
    attempt?: AttemptRecord,
  ): Promise<void> {
    const held = this.alive.get(id);
    if (!held) return;
    try {
      await recordDeadLetter(this.options.pool, {
        logged: held.body,
        deploymentId: held.body.deploymentId,
        flowId,
        target,
        reason,
        attempts: held.attempts,
        ...(attempt ? { attempt } : {}),
      });
    } catch (error) {
      // Not recorded: the message comes back after a pause and fails (or succeeds) again.
      this.later(held, 1_000, held.attempts);
      throw error;
    }
    this.alive.delete(id);
    held.msg.ack();
  }

  private record(record: OutcomeRecord, done?: () => void): void {
    this.outcomes.push(done ? { record, done } : { record });
    this.flush();
  }

  private flush(): void {
    this.recording ??= this.flushOutcomes().finally(() => {
      this.recording = undefined;
      if (this.outcomes.length > 0) this.flush();
    });
  }

  private async flushOutcomes(): Promise<void> {
    while (this.outcomes.length > 0) {
      const batch = this.outcomes.splice(0, 1_000);
      try {
        await recordOutcomes(
          this.options.pool,
          batch.map((b) => b.record),
        );
      } catch (error) {
        // The deliveries are done: acknowledged all the same, so a database outage does not send them again.
        this.options.log('warn', 'recording delivery outcomes failed; the deliveries themselves are done', {
          count: batch.length,
          error: (error as Error).message,
        });
      }
      for (const b of batch) b.done?.();
    }
  }

  /** Pending deliveries per deployment: the messages left in the work queue (in flight included). */
  async backlog(): Promise<Map<string, number>> {
    const info = await this.options.jsm.streams.info(this.names.deliveries, {
      subjects_filter: `${this.options.prefix}.deliver.>`,
    });
    const counts = new Map<string, number>();
    for (const [subject, n] of Object.entries(info.state.subjects ?? {})) {
      const deploymentId = subject.slice(subject.lastIndexOf('.') + 1);
      counts.set(deploymentId, (counts.get(deploymentId) ?? 0) + n);
    }
    return counts;
  }

  /**
   * Stops taking messages and hands back every one this worker still holds (`nak`: due again
   * at once, for any worker). Returns how many went back.
   */
  async stop(): Promise<number> {
    this.stopped = true;
    clearInterval(this.heartbeat);
    clearInterval(this.discovery);
    for (const timer of this.timers) clearTimeout(timer);
    for (const wake of this.roomWaiters.splice(0)) wake();
    for (const messages of this.consumers.values()) messages.stop();
    await Promise.all(this.pumps);
    this.buffer = [];
    // Completed deliveries are acknowledged once their outcomes are written; the rest go back.
    await this.recording;
    await this.flushOutcomes();
    const released = this.alive.size;
    for (const held of this.alive.values()) held.msg.nak();
    this.alive.clear();
    return released;
  }
}
