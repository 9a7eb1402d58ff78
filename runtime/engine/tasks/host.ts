/**
 * What a task handler sees of the run it belongs to: the narrow `TaskHost` (the Interpreter
 * implements it), the `TaskRun` of one task, and the `TaskOutcome` a handler returns. Task
 * files import this module, never the interpreter, so the engine's modules form no cycle
 * (eslint.config.mjs and test/unit/engine/imports.test.ts keep it that way).
 */
import type { Evaluator, Site, Vars } from '../evaluation.ts';
import type { TaskLifecycle, WorkflowLifecycle } from '../lifecycle.ts';
import type { EnginePorts } from '../ports.ts';
import type { Frame, InstanceState, Json, JsonObject, RunResult, TaskDefinition, TaskList, WorkflowDocument } from '../types.ts';

/**
 * Where a task list goes after a task: the next task (`continue`), out of the list (`exit`),
 * the end of the workflow (`end`), or the task of that name in the same list.
 */
export type FlowDirective = 'continue' | 'exit' | 'end' | (string & {});

/**
 * How a task finished. Faults are thrown (a `WorkflowError`, catchable by `try`), and a
 * suspended or cancelled run never returns an outcome: it waits at, or aborts through, its signal.
 *
 * - `completed`: the task's own `then` (default `continue`) decides what comes next.
 * - `skipped`: its `if` did not hold; the output is its raw input, and the list continues.
 * - `flow`: the task decided where to go itself (a `switch` case), or `end` was reached
 *   inside it (`directive: 'end'`), which ends every enclosing list too.
 *
 * `context` is the context after `export.as`, set by the interpreter and applied when the
 * task is committed; handlers leave it out.
 */
export type TaskOutcome =
  | { kind: 'completed'; output: Json; context?: Json }
  | { kind: 'skipped'; output: Json }
  | { kind: 'flow'; directive: FlowDirective; output: Json; context?: Json };

/** What a task list ends with: its last output, and whether `end` was reached inside. */
export type ListOutcome = { kind: 'completed'; output: Json } | { kind: 'flow'; directive: 'end'; output: Json };

/** A child instance run inside a task's frame (`run: workflow`). */
export interface ChildRun {
  readonly done: Promise<RunResult>;
  /** Lets go of the child without changing its state; the parent's checkpoint keeps it. */
  stop(): void;
}

/** The run as its tasks use it. */
export interface TaskHost {
  readonly ports: EnginePorts;
  /** The instance's id. */
  readonly instanceId: string;
  readonly definition: WorkflowDocument;
  readonly evaluator: Evaluator;
  /** `$secrets`: the values of the names `use.secrets` declares. */
  readonly secrets: Readonly<Record<string, Json>>;
  /** Whether `run: shell`, `run: container` and `call: mcp` over stdio may start processes. */
  readonly allowProcesses: boolean;
  now(): number;
  readonly random: () => number;

  /** Saves the state (through `ports.store`, or into the parent's frame for a subflow). */
  checkpoint(): Promise<void>;
  emitWorkflow(kind: WorkflowLifecycle, data: JsonObject): void;
  emitTask(kind: TaskLifecycle, ref: string, data?: JsonObject): void;
  /** Sleeps until `until` (epoch ms), visible in `state.waitingFor` meanwhile. */
  sleepUntil(until: number, at: string, signal: AbortSignal): Promise<void>;
  /**
   * Marks the instance as waiting for events at `at` (`state.waitingFor`, for the worker to
   * see); the returned function ends the wait.
   */
  listening(at: string, to: Json): () => void;
  /** An external document (OpenAPI, schema, catalog function), fetched once per run. */
  loadResource(endpoint: unknown, signal: AbortSignal, at: string): Promise<Json>;

  /** Runs a nested task list from its saved cursor. */
  runList(listRef: string, tasks: TaskList, input: Json, vars: Vars, signal: AbortSignal): Promise<ListOutcome>;
  /** Runs one task with the DSL's data flow around it; the caller commits the outcome. */
  runTask(name: string, def: TaskDefinition, ref: string, input: Json, vars: Vars, signal: AbortSignal): TaskOutcome | Promise<TaskOutcome>;
  /** Applies a finished task's effects: its new context, and the end of its frames. */
  commit(ref: string, outcome: TaskOutcome): void;
  /** Drops the frames at `prefix` and under it (e.g. a failed `try` before its retry). */
  clearFrames(prefix: string): void;
  /** Runs `child` as an instance nested in `frame`, checkpointed with this run. */
  runChild(child: InstanceState, frame: Frame): ChildRun;
}

export interface TaskRun {
  readonly host: TaskHost;
  readonly name: string;
  readonly ref: string;
  readonly def: TaskDefinition;
  /** The transformed task input (`.` and `$input` of the task's expressions). */
  readonly input: Json;
  readonly vars: Vars;
  readonly signal: AbortSignal;
  /** This task's durable frame: keep progress in `frame.step`. */
  readonly frame: Frame;
  site(field: string): Site;
  /** Exposes `$authorization` to the task's output and export expressions. */
  authorize(scheme: string, parameter: string): void;
}


/** A list's outcome as the outcome of the task that ran it. */
export function listOutcome(ended: boolean, output: Json): ListOutcome {
  return ended ? { kind: 'flow', directive: 'end', output } : { kind: 'completed', output };
}
