/**
 * The delivery loop: keeps up to `concurrency` deliveries in flight, claiming more as
 * slots free up, woken by ingress commits and polling otherwise (for retries that fall
 * due and for leases left behind by a crashed worker). Successful rows are deleted in
 * batches; failures are retried with the target's backoff or moved to the dead letters.
 */
import { TransformError } from '../expressions/transforms/index.ts';
import type { DeliveryWork } from '../events/backend.ts';
import type { ClaimedDelivery, CompletedDelivery, PreparedCompletion } from '../events/delivery-queue.ts';
import { backoffMs, buildRequest, type HttpDeliverer } from '../events/http-delivery.ts';
import type { DataPlaneMetrics } from '../events/metrics.ts';
import { RateLimiter } from '../events/rate-limit.ts';
import { startDeliverySpan, traceContextOf } from '../events/tracing.ts';
import type { ChainResult, Subscription } from '../events/subscriptions.ts';
import type { Logger } from './log.ts';
import { within } from './drain.ts';

export interface DeliveryLoopDeps {
  queue: DeliveryWork;
  deliverer: HttpDeliverer;
  /** The subscription of a deployment, or why there is none (a stopped non-pipeline, a deleted one). */
  subscriptionFor: (deploymentId: string) => Promise<Subscription | string>;
  metrics: DataPlaneMetrics;
  log: Logger;
  concurrency: number;
  pollMs: number;
  /** How long completions wait for a statement to ride on before they take one of their own (COMPLETE_GATHER_MS). */
  completeGatherMs?: number;
}

interface Work {
  subscription: Subscription;
  chain: ChainResult | Error;
  /** This event's share of the time its batch spent in filters and transforms. */
  stepsMs: number;
}

/**
 * How long a finished delivery waits for others to be recorded with it, at most, when no
 * append takes it along first (`takeCompletions`): under load the event log's next commit
 * records it within a few milliseconds, and only a quiet ingress leaves it to a statement of
 * its own.
 */
const COMPLETE_GATHER_MS = 25;
/** Recorded at once when this many are waiting. */
const COMPLETE_GATHER_MAX = 256;

export class DeliveryLoop {
  private inFlight = 0;
  private stopped = false;
  private wakeUp: (() => void) | undefined;
  private running: Promise<void> | undefined;
  private done: CompletedDelivery[] = [];
  private readonly limiter = new RateLimiter();
  private completing: Promise<void> | undefined;
  /** Ends the wait of the completions gathering for their statement. */
  private gathered: (() => void) | undefined;
  private readonly settled = new Set<Promise<void>>();
  /** Completions riding on another statement, until it settles. */
  private riding = 0;
  private rideEnded: (() => void) | undefined;
  /** Slots promised to deliveries the event log is inserting already leased to this worker. */
  private reserved = 0;
  /**
   * Whether a claim may find rows: set by a wake-up (a commit queued rows nobody holds) and by
   * the poll (retries and expired leases fall due with time), cleared by a claim that found
   * fewer rows than it had room for with no wake-up meanwhile. Freed slots claim only while it
   * is set, so deliveries handed over by the event log do not cost a claim each.
   */
  private mayBeDue = true;
  private signals = 0;
  private readonly hosts = new Map<string, string>();

  constructor(private readonly deps: DeliveryLoopDeps) {}

  start(): void {
    this.running = this.pump();
  }

  /** How many of `wanted` deliveries the event log may lease to this worker and hand over (EventLogOptions.lease). */
  reserve(wanted: number): number {
    const granted = this.stopped ? 0 : Math.max(0, Math.min(wanted, this.deps.concurrency - this.inFlight - this.reserved));
    this.reserved += granted;
    return granted;
  }

  /** Deliveries committed already leased to this worker: sent without a claim. */
  adopt(deliveries: ClaimedDelivery[], reserved: number): void {
    this.reserved -= reserved;
    this.deps.queue.handedOver?.(deliveries);
    this.startAll(deliveries);
  }

  /** New work may be due (an ingress commit queued deliveries). */
  wake(): void {
    this.signals += 1;
    this.mayBeDue = true;
    this.wakeUp?.();
  }

  /** A slot freed up: worth a claim only when rows may be waiting (else the next signal or poll brings them). */
  private slotFreed(): void {
    if (this.mayBeDue || this.stopped) this.wakeUp?.();
  }

  /**
   * Stops claiming and waits for the deliveries in flight: all of them, or those that settle
   * within `deadlineMs`. True when none is left in flight; the rest keep their leases, for the
   * caller to release (drain.ts) or to expire.
   */
  async stop(deadlineMs?: number): Promise<boolean> {
    const stopping = Date.now();
    this.stopped = true;
    this.wake();
    await this.running;
    // A claim still in its steps launches its sends later: wait for those too.
    const drained = (async () => {
      while (this.settled.size > 0) await Promise.all(this.settled);
    })();
    const all = deadlineMs === undefined ? await drained.then(() => true) : await within(drained, deadlineMs);
    // Completions riding on an append come back here should it fail: wait for those statements (within the deadline).
    const rides = (async () => {
      while (this.riding > 0) await new Promise<void>((resolve) => (this.rideEnded = resolve));
    })();
    if (deadlineMs === undefined) await rides;
    else await within(rides, Math.max(0, deadlineMs - (Date.now() - stopping)));
    await this.flushDone();
    return all && this.settled.size === 0;
  }

  /** Deliveries being sent now. */
  get inFlightCount(): number {
    return this.inFlight;
  }

  private async pump(): Promise<void> {
    while (!this.stopped) {
      const room = this.deps.concurrency - this.inFlight - this.reserved;
      const seen = this.signals;
      let claimed: ClaimedDelivery[] = [];
      // Claiming in batches (a quarter of the slots at least) keeps queries and jq calls few.
      if (this.mayBeDue && room > 0 && (room * 4 >= this.deps.concurrency || this.inFlight === 0)) {
        try {
          claimed = await this.deps.queue.claim(room);
          if (claimed.length < room && seen === this.signals) this.mayBeDue = false;
          this.startAll(claimed);
        } catch (error) {
          this.deps.log('warn', 'claiming deliveries failed', { error: (error as Error).message });
        }
      }
      // A full claim suggests more is due: go again at once.
      if (claimed.length > 0 && claimed.length === room) continue;
      // A wake-up while claiming found no one waiting for it: take it now.
      if (seen !== this.signals && !this.stopped) continue;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          this.mayBeDue = true;
          resolve();
        }, this.deps.pollMs);
        this.wakeUp = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.wakeUp = undefined;
    }
  }

  /**
   * Launches a claim without holding up the loop: a deployment whose steps wait on jq (up to
   * a budget) delays only its own deliveries, never the next claim or other deployments.
   */
  private startAll(claimed: ClaimedDelivery[]): void {
    if (claimed.length === 0) return;
    const task: Promise<void> = this.launchAll(claimed)
      .catch((error: Error) => this.deps.log('warn', 'sending deliveries failed; their lease will expire and they will be claimed again', { error: error.message }))
      .finally(() => this.settled.delete(task));
    this.settled.add(task);
  }

  /** Runs each deployment's filters and transforms over its part of the claim at once (deployments side by side), then sends. */
  private async launchAll(claimed: ClaimedDelivery[]): Promise<void> {
    const groups = new Map<string, ClaimedDelivery[]>();
    for (const delivery of claimed) {
      const group = groups.get(delivery.deploymentId);
      if (group) group.push(delivery);
      else groups.set(delivery.deploymentId, [delivery]);
    }
    await Promise.all(
      [...groups].map(async ([deploymentId, deliveries]) => {
        // The claim's slots stay taken while its steps run; launch takes them over one by one.
        this.inFlight += deliveries.length;
        let held = true;
        const release = () => {
          if (held) this.inFlight -= deliveries.length;
          held = false;
        };
        try {
          const subscription = await this.deps.subscriptionFor(deploymentId);
          if (typeof subscription === 'string') {
            release();
            for (const delivery of deliveries) this.launch(delivery, subscription);
            return;
          }
          const started = performance.now();
          const chains = await subscription.runMany(deliveries.map((d) => d.event));
          const stepsMs = (performance.now() - started) / deliveries.length;
          release();
          deliveries.forEach((delivery, i) => this.launch(delivery, { subscription, chain: chains[i]!, stepsMs }));
        } finally {
          release();
        }
      }),
    );
  }

  /** `work` is the subscription and what its steps made of the event, or why there is no subscription. */
  private launch(delivery: ClaimedDelivery, work: Work | string): void {
    this.inFlight += 1;
    const task: Promise<void> = this.deliver(delivery, work)
      .catch((error: Error) => this.deps.log('error', 'delivery failed unexpectedly; its lease will expire and it will be retried', { delivery: delivery.id, error: error.message }))
      .finally(() => {
        this.inFlight -= 1;
        this.settled.delete(task);
        this.slotFreed();
      });
    this.settled.add(task);
  }

  private async deliver(delivery: ClaimedDelivery, work: Work | string): Promise<void> {
    const { metrics, queue } = this.deps;
    const started = Date.now();
    if (typeof work === 'string') {
      await queue.deadLetter(delivery.id, null, '', work);
      metrics.deliveries.inc({ deployment: delivery.deploymentId, flow: '', outcome: 'dead_lettered' });
      return;
    }
    const { subscription, chain, stepsMs } = work;
    const target = subscription.target;
    const flowId = subscription.deployment.flowId;
    const labels = { deployment: delivery.deploymentId, flow: flowId };
    if (chain instanceof Error) {
      // The same event fails the same transform every time: retrying cannot help.
      const kind = chain instanceof TransformError ? 'transform failed' : 'transform output is not usable';
      await queue.deadLetter(delivery.id, flowId, target.url, `${kind}: ${chain.message}`);
      metrics.deliveries.inc({ ...labels, outcome: 'dead_lettered' });
      return;
    }
    if (!chain.deliver) {
      this.complete({ id: delivery.id, outcome: 'filtered', task: chain.droppedBy, reason: chain.reason, stepsMs });
      metrics.filtered.inc({ ...labels, node: chain.droppedBy });
      return;
    }
    if (target.delivery.rateLimit !== undefined) {
      const waitMs = this.limiter.reserve(`${flowId}\u0000${target.url}`, target.delivery.rateLimit);
      if (waitMs > 0) {
        await queue.postpone(delivery.id, waitMs);
        return;
      }
    }
    const request = buildRequest(delivery.event, chain.payload, chain.transformed, target.delivery.format);
    const span = startDeliverySpan(
      traceContextOf(delivery.event),
      () => `${target.method} ${this.hostOf(target.url)}`,
      () => ({
        'http.request.method': target.method,
        'url.full': target.url,
        'cloudevents.event_id': delivery.event.id,
        'cloudevents.event_type': delivery.event.type,
      }),
    );
    Object.assign(request.headers, span.headers);
    const sent = performance.now();
    const outcome = await this.deps.deliverer.send(target, request);
    const attempt = { task: target.task, durationMs: performance.now() - sent, stepsMs, ...(chain.transformed ? { output: chain.payload } : {}) };
    span.end(outcome.ok ? undefined : outcome.error);
    if (outcome.ok) {
      this.complete({ id: delivery.id, outcome: 'delivered', ...attempt });
      metrics.deliveries.inc({ ...labels, outcome: 'delivered' });
      metrics.deliveryLatency.observe({ deployment: delivery.deploymentId }, (delivery.ageMs + Date.now() - started) / 1000);
      return;
    }
    if (outcome.retryable && delivery.attempts <= target.delivery.retry) {
      await queue.retry(delivery.id, backoffMs(target.delivery, delivery.attempts), outcome.error, attempt);
      metrics.deliveries.inc({ ...labels, outcome: 'retried' });
      return;
    }
    const why = outcome.retryable ? `${outcome.error} (gave up after ${delivery.attempts} attempts)` : `${outcome.error} (not retryable)`;
    await queue.deadLetter(delivery.id, flowId, target.url, why, attempt);
    metrics.deliveries.inc({ ...labels, outcome: 'dead_lettered' });
  }

  /** A target's host, for span names: parsed once per target URL rather than per delivery. */
  private hostOf(url: string): string {
    let host = this.hosts.get(url);
    if (host === undefined) {
      host = new URL(url).host;
      if (this.hosts.size >= 1024) this.hosts.clear();
      this.hosts.set(url, host);
    }
    return host;
  }

  /**
   * Successful deliveries are recorded together: the first waits up to COMPLETE_GATHER_MS for
   * others to share its statement and commit. Until recorded, their lease (or handoff) keeps
   * other workers off them; a crash meanwhile sends them again (at-least-once).
   */
  private complete(done: CompletedDelivery): void {
    this.done.push(done);
    if (this.done.length >= COMPLETE_GATHER_MAX) this.gathered?.();
    this.scheduleFlush();
  }

  private scheduleFlush(): void {
    this.completing ??= this.gather()
      .then(() => this.flushDone())
      .finally(() => {
        this.completing = undefined;
        if (this.done.length > 0) this.scheduleFlush();
      });
  }

  /**
   * The completions waiting for their statement, for another statement to record (the event
   * log's next append carries them: one commit instead of two); undefined when none wait or
   * the queue records only its own. Should that statement fail they come back and are
   * recorded at once in a statement of their own, never riding again (whatever failed it).
   */
  takeCompletions(): PreparedCompletion | undefined {
    if (this.done.length === 0 || !this.deps.queue.prepareCompletion) return undefined;
    const done = this.done;
    this.done = [];
    const prepared = this.deps.queue.prepareCompletion(done);
    this.riding += 1;
    const ended = () => {
      this.riding -= 1;
      if (this.riding === 0) this.rideEnded?.();
    };
    let settled = false;
    return {
      values: prepared.values,
      settle: (result) => {
        if (settled) return;
        settled = true;
        if (result === 'recorded') {
          prepared.settle('recorded');
          ended();
          return;
        }
        prepared.settle('returned');
        void this.record(done).finally(ended);
      },
    };
  }

  /** Resolves after COMPLETE_GATHER_MS, or sooner when a full batch is waiting. */
  private gather(): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => this.gathered?.(), this.deps.completeGatherMs ?? COMPLETE_GATHER_MS);
      this.gathered = () => {
        clearTimeout(timer);
        this.gathered = undefined;
        resolve();
      };
    });
  }

  private async flushDone(): Promise<void> {
    while (this.done.length > 0) {
      const done = this.done;
      this.done = [];
      await this.record(done);
    }
  }

  private async record(done: CompletedDelivery[]): Promise<void> {
    try {
      await this.deps.queue.complete(done);
    } catch (error) {
      // Left in the table, the rows are delivered again when their lease ends: at-least-once.
      this.deps.log('warn', 'recording deliveries failed', { count: done.length, error: (error as Error).message });
    }
  }
}
