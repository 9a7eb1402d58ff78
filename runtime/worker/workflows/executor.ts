/**
 * Runs workflow instances in this worker. It claims runs from the `run` table (new ones,
 * ones whose holder died, parked ones that fell due), executes each with the engine bound to
 * the worker's ports, checkpoints `run.state` at every task boundary, and renews its leases by
 * heartbeat. A wait longer than `parkAfterMs` is parked: the instance is let go and the row
 * becomes claimable again at the wait's due time, so a long wait holds no memory and survives
 * any restart. Control requests (suspendRun, cancelRun in control.ts) are written to the row;
 * the holder notices them at its next checkpoint or heartbeat.
 */
import { Engine, WorkflowError, type CloudEvent, type InstanceState, type RunHandle, type RunResult } from '../../engine/index.ts';
import type { Logger } from '../log.ts';
import type { FlowDefinitions } from './definitions.ts';
import { saveState, type ClaimedRun, type RunStore } from './run-store.ts';
import type { WorkflowTrigger } from '../../runs/triggers.ts';
import { traceContextOf, tracedHttp } from '../../events/tracing.ts';
import { runPorts, type StepRecorder, type WorkerPortsDeps } from './worker-ports.ts';

export interface RunExecutorOptions {
  store: RunStore;
  definitions: FlowDefinitions;
  ports: WorkerPortsDeps;
  log: Logger;
  /** Instances held in memory at once. */
  concurrency: number;
  pollMs: number;
  leaseMs: number;
  /** Waits due later than this are parked rather than held. */
  parkAfterMs: number;
  /** The trigger of a deployment, for runs started by a leading `listen`. */
  triggerOf: (deploymentId: string) => Promise<WorkflowTrigger | undefined>;
}

type Detach = { kind: 'park'; until: number } | { kind: 'suspend' } | { kind: 'lost' } | { kind: 'shutdown' };

interface Held {
  id: string;
  handle?: RunHandle;
  steps: StepRecorder;
  /** Checkpoints are written one after another, in the order the engine made them. */
  writes: Promise<void>;
  detach?: Detach;
  done?: Promise<void>;
}

const FINAL = new Set(['completed', 'faulted', 'cancelled']);

export class RunExecutor {
  private readonly held = new Map<string, Held>();
  private stopped = false;
  private wakeUp: (() => void) | undefined;
  private pumping: Promise<void> | undefined;
  private heartbeat: ReturnType<typeof setInterval> | undefined;

  constructor(private readonly options: RunExecutorOptions) {}

  start(): void {
    this.pumping = this.pump();
    this.heartbeat = setInterval(() => void this.beat(), Math.max(50, Math.floor(this.options.leaseMs / 3)));
  }

  /** New runs may be claimable. */
  wake(): void {
    this.wakeUp?.();
  }

  /** Lets go of every instance (their leases are released at once, so another worker continues them). */
  async stop(): Promise<void> {
    this.stopped = true;
    this.wake();
    await this.pumping;
    clearInterval(this.heartbeat);
    for (const held of this.held.values()) this.detach(held, { kind: 'shutdown' });
    await Promise.all([...this.held.values()].map((h) => h.done));
  }

  /** Ids of the instances this worker holds. */
  get running(): string[] {
    return [...this.held.keys()];
  }

  private async pump(): Promise<void> {
    while (!this.stopped) {
      const room = this.options.concurrency - this.held.size;
      if (room > 0) {
        try {
          for (const row of await this.options.store.claim(room)) await this.launch(row);
        } catch (error) {
          this.options.log('warn', 'claiming runs failed', { error: (error as Error).message });
        }
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, this.options.pollMs);
        this.wakeUp = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.wakeUp = undefined;
    }
  }

  private async launch(row: ClaimedRun): Promise<void> {
    const { store, log } = this.options;
    const definition = await this.options.definitions.load(row.flowVersionId);
    if (typeof definition === 'string') {
      await store.fail(row.id, WorkflowError.of('configuration', definition, '/').problem);
      log('error', 'run cannot start', { run: row.id, error: definition });
      return;
    }
    const trigger = row.deploymentId === null ? undefined : await this.options.triggerOf(row.deploymentId);
    const leading = trigger?.listenAt === undefined ? undefined : { at: trigger.listenAt, event: row.input as unknown as CloudEvent };
    const { ports, steps } = runPorts(this.options.ports, row.id, leading);
    // A run started by an event calls out within that event's trace.
    ports.http = tracedHttp(ports.http, traceContextOf(row.input));
    const held: Held = { id: row.id, steps, writes: Promise.resolve() };
    const engine = new Engine({ ports: { ...ports, store: { checkpoint: (state) => this.checkpoint(held, state) } } });
    let handle: RunHandle;
    try {
      handle = row.state ? engine.resume(row.state) : engine.start(definition, row.input, { id: row.id });
    } catch (error) {
      await store.fail(row.id, (error instanceof WorkflowError ? error : WorkflowError.of('runtime', (error as Error).message, '/')).problem);
      return;
    }
    held.handle = handle;
    this.held.set(row.id, held);
    held.done = handle.done.then(
      (result) => this.finish(held, result),
      (error: Error) => this.finish(held, undefined, error),
    );
  }

  private checkpoint(held: Held, state: InstanceState): Promise<void> {
    const saved = saveState(state, this.options.ports.secrets.masker());
    const waiting = state.status === 'waiting' && state.waitingFor && state.waitingFor.listens.length === 0 ? state.waitingFor.timers : [];
    const write = held.writes.then(async () => {
      let status: string | undefined;
      try {
        status = await this.options.store.checkpoint(held.id, saved);
      } catch (error) {
        // Without its checkpoint the instance must not go on: another worker takes it over from the last one.
        this.options.log('warn', 'checkpoint failed; letting the run go', { run: held.id, error: (error as Error).message });
        this.detach(held, { kind: 'lost' });
        return;
      }
      if (status === undefined) this.detach(held, { kind: 'lost' });
      else this.control(held, status, saved.status);
      if (held.detach || waiting.length === 0) return;
      const until = Math.min(...waiting.map((t) => t.until));
      if (until - Date.now() >= this.options.parkAfterMs) this.detach(held, { kind: 'park', until });
    });
    held.writes = write;
    return write;
  }

  /** Acts on a control request found in the row. */
  private control(held: Held, rowStatus: string, engineStatus: string): void {
    if (FINAL.has(engineStatus) || held.detach) return;
    if (rowStatus === 'suspended') this.detach(held, { kind: 'suspend' });
    else if (rowStatus === 'cancelled') held.handle?.cancel();
  }

  private detach(held: Held, why: Detach): void {
    held.detach ??= why;
    held.handle?.stop();
  }

  private async beat(): Promise<void> {
    if (this.held.size === 0) return;
    try {
      const statuses = await this.options.store.heartbeat([...this.held.keys()]);
      for (const held of this.held.values()) {
        const status = statuses.get(held.id);
        if (status === undefined) this.detach(held, { kind: 'lost' });
        else this.control(held, status, held.handle?.state.status ?? 'running');
      }
    } catch (error) {
      this.options.log('warn', 'renewing run leases failed', { error: (error as Error).message });
    }
  }

  private async finish(held: Held, result: RunResult | undefined, error?: Error): Promise<void> {
    const { store, log } = this.options;
    try {
      await held.writes;
      await held.steps.flushed();
      if (error) {
        log('error', 'run failed unexpectedly; it will be resumed from its last checkpoint', { run: held.id, error: error.message });
        await store.release(held.id, 0);
      } else if (result?.status === 'stopped') {
        const why = held.detach;
        if (why?.kind === 'park') await store.release(held.id, why.until - Date.now());
        else if (why?.kind === 'suspend') await store.release(held.id, 0, 'suspended');
        else if (why?.kind !== 'lost') await store.release(held.id, 0);
      } else if (result?.status === 'faulted') {
        log('info', 'run faulted', { run: held.id, error: this.options.ports.secrets.masker()(result.error.detail ?? result.error.title) });
      }
    } catch (e) {
      log('warn', 'letting go of a run failed; its lease will expire', { run: held.id, error: (e as Error).message });
    } finally {
      this.held.delete(held.id);
      this.wake();
    }
  }
}
