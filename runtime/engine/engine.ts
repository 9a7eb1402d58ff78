/**
 * The engine's front door: start an instance of a workflow, or resume one from a saved
 * state, and control it while it runs.
 */
import { WorkflowError } from './errors.ts';
import { Interpreter, type RuntimeDescriptor } from './interpreter.ts';
import type { EnginePorts } from './ports.ts';
import type { InstanceState, Json, RunResult, WorkflowDocument } from './types.ts';
import { instanceStateSchema } from './load.ts';
import type { JqRuntime } from '../expressions/jq.ts';

export const RUNTIME_NAME = 'meshflow';
export const RUNTIME_VERSION = '0.1.0';

export interface EngineOptions {
  ports: EnginePorts;
  /** `$runtime.metadata`, e.g. tenant information. */
  runtimeMetadata?: Record<string, Json>;
  /** Lets `run: shell` and `run: container` execute through `ports.processes`. Off by default. */
  allowProcesses?: boolean;
  /** The jq runtime expressions use (e.g. one with a budget for the whole run); the process-wide one when absent. */
  jq?: JqRuntime;
}

export interface RunHandle {
  readonly id: string;
  /** The live instance state (what the store receives at each checkpoint). */
  readonly state: InstanceState;
  /** Settles when the instance completes, faults, is cancelled or is stopped. */
  readonly done: Promise<RunResult>;
  /** Pauses at the next task boundary (`workflow.suspended.v1`). */
  suspend(): void;
  /** Continues a suspended instance (`workflow.resumed.v1`). */
  resume(): void;
  /** Ends the instance as cancelled. */
  cancel(): void;
  /** Lets go of the instance without changing it (e.g. worker shutdown); resume it later from its last checkpoint. */
  stop(): void;
}

export class Engine {
  private readonly runtime: RuntimeDescriptor;

  constructor(private readonly options: EngineOptions) {
    this.runtime = { name: RUNTIME_NAME, version: RUNTIME_VERSION, ...(options.runtimeMetadata ? { metadata: options.runtimeMetadata } : {}) };
  }

  /** Starts a new instance. The definition should have passed `validateWorkflow`. */
  start(definition: WorkflowDocument, input: Json = {}, options: { id?: string } = {}): RunHandle {
    const ports = this.options.ports;
    const state: InstanceState = {
      version: 1,
      id: options.id ?? ports.ids.next(),
      status: 'pending',
      definition,
      input,
      context: {},
      startedAt: ports.clock.now(),
      frames: {},
    };
    return this.launch(state);
  }

  /**
   * Continues an instance from a checkpointed state (e.g. read back from the database after
   * a crash). Tasks that completed before the checkpoint are not run again; a wait or retry
   * backoff continues until its original due time.
   */
  resume(saved: InstanceState): RunHandle {
    const parsed = instanceStateSchema.safeParse(saved);
    if (!parsed.success) throw WorkflowError.of('configuration', `not an instance state: ${parsed.error.issues.map((i) => `${i.path.join('.')} ${i.message}`).join('; ')}`);
    const state = saved;
    if (state.status === 'completed' || state.status === 'faulted' || state.status === 'cancelled') {
      throw WorkflowError.of('configuration', `instance ${state.id} is ${state.status} and cannot be resumed`);
    }
    if (state.status !== 'pending') state.status = 'running';
    return this.launch(state);
  }

  private launch(state: InstanceState): RunHandle {
    const interpreter = new Interpreter(state, { ports: this.options.ports, runtime: this.runtime, allowProcesses: this.options.allowProcesses === true, ...(this.options.jq ? { jq: this.options.jq } : {}) });
    const done = interpreter.run();
    return {
      id: state.id,
      state,
      done,
      suspend: () => interpreter.suspend(),
      resume: () => interpreter.resumeSuspended(),
      cancel: () => interpreter.cancel(),
      stop: () => interpreter.stop(),
    };
  }
}

export function createEngine(options: EngineOptions): Engine {
  return new Engine(options);
}
