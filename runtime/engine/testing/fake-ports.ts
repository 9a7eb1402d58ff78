/**
 * Deterministic ports for tests (ours and the worker's): a virtual clock whose timers fire
 * as soon as nothing else can run — a one-hour wait completes in milliseconds, in due-time
 * order — recorded HTTP, counting ids, and a store that keeps every checkpoint as JSON.
 */
import type { CheckpointStore, EnginePorts, HttpPort, HttpRequest, HttpResponse, LifecyclePort, Timers } from '../ports.ts';
import type { CloudEvent, InstanceState, Json } from '../types.ts';
import { MemoryEventBus } from '../host/memory-events.ts';

export class FakeClock {
  constructor(public time = Date.UTC(2025, 0, 1)) {}
  now = (): number => this.time;
}

/** Sleeps resolve in due-time order once the event loop is idle, moving the clock forward. */
export class FakeTimers implements Timers {
  private readonly pending: { until: number; resolve: () => void; seq: number }[] = [];
  private seq = 0;
  private scheduled = false;
  /** Each fired sleep's due time, in firing order. */
  readonly fired: number[] = [];

  /** With `manual`, sleeps only fire through `advance` (to hold an instance mid-wait). */
  constructor(
    private readonly clock: FakeClock,
    private readonly manual = false,
  ) {}

  /** Moves the clock forward and fires the sleeps that fall due. */
  async advance(ms: number): Promise<void> {
    this.clock.time += ms;
    this.pending.sort((a, b) => a.until - b.until || a.seq - b.seq);
    while (this.pending[0] && this.pending[0].until <= this.clock.time) {
      const next = this.pending.shift()!;
      this.fired.push(next.until);
      next.resolve();
      await new Promise((resolve) => setImmediate(resolve));
    }
  }

  /** Sleeps not yet fired. */
  get waiting(): number {
    return this.pending.length;
  }

  sleep(until: number, signal: AbortSignal): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      if (signal.aborted) return reject(signal.reason);
      const entry = { until, seq: this.seq++, resolve: () => resolve() };
      this.pending.push(entry);
      signal.addEventListener(
        'abort',
        () => {
          const i = this.pending.indexOf(entry);
          if (i >= 0) this.pending.splice(i, 1);
          reject(signal.reason);
        },
        { once: true },
      );
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.scheduled || this.manual) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      if (this.pending.length === 0) return;
      this.pending.sort((a, b) => a.until - b.until || a.seq - b.seq);
      const next = this.pending.shift()!;
      this.clock.time = Math.max(this.clock.time, next.until);
      this.fired.push(next.until);
      next.resolve();
      if (this.pending.length > 0) this.schedule();
    });
  }
}

export type HttpRoute = (request: HttpRequest) => HttpResponse | Promise<HttpResponse>;

/** Answers from a route table keyed by "METHOD url-without-query" (or "*"), and records every request. */
export class RecordedHttp implements HttpPort {
  readonly requests: HttpRequest[] = [];
  constructor(private readonly routes: Record<string, HttpRoute> = {}) {}

  async request(request: HttpRequest): Promise<HttpResponse> {
    this.requests.push(request);
    const key = `${request.method} ${request.url.split('?')[0]}`;
    const route = this.routes[key] ?? this.routes['*'];
    if (!route) return jsonResponse(404, { title: `no fake route for ${key}` });
    return route(request);
  }
}

export function jsonResponse(status: number, body: Json, headers: Record<string, string> = {}): HttpResponse {
  return { status, headers: { 'content-type': 'application/json', ...headers }, body: new TextEncoder().encode(JSON.stringify(body)) };
}

export class MemoryStore implements CheckpointStore {
  readonly checkpoints: string[] = [];
  checkpoint(state: InstanceState): void {
    this.checkpoints.push(JSON.stringify(state));
  }
  /** The last checkpoint, as a worker would read it back from the database. */
  last(): InstanceState {
    const text = this.checkpoints[this.checkpoints.length - 1];
    if (text === undefined) throw new Error('no checkpoint was taken');
    return JSON.parse(text) as InstanceState;
  }
}

export class RecordedLifecycle implements LifecyclePort {
  readonly events: CloudEvent[] = [];
  publish(event: CloudEvent): void {
    this.events.push(event);
  }
  types(): string[] {
    return this.events.map((e) => e.type.replace(/^io\.serverlessworkflow\./, '').replace(/\.v1$/, ''));
  }
}

export interface FakePorts extends EnginePorts {
  clock: FakeClock;
  timers: FakeTimers;
  http: RecordedHttp;
  events: MemoryEventBus;
  store: MemoryStore;
  lifecycle: RecordedLifecycle;
}

export function createFakePorts(options: { routes?: Record<string, HttpRoute>; clock?: FakeClock; manualTime?: boolean } = {}): FakePorts {
  const clock = options.clock ?? new FakeClock();
  let id = 0;
  return {
    clock,
    timers: new FakeTimers(clock, options.manualTime === true),
    ids: { next: () => `id-${++id}` },
    random: () => 0.5,
    http: new RecordedHttp(options.routes),
    events: new MemoryEventBus(),
    store: new MemoryStore(),
    lifecycle: new RecordedLifecycle(),
  };
}
