/**
 * Runs one workflow instance. An async interpreter over the ports: every task's progress
 * lives in `state.frames` (keyed by the task's JSON pointer), which is plain JSON, handed to
 * `store.checkpoint` at every task boundary. Resuming is running the same definition over
 * a saved state: task lists continue at their cursor, loops at their index, waits and retry
 * backoffs at their recorded due time, so completed tasks are never run again.
 */
import { durationMs } from './duration.ts';
import { InterruptedError, toWorkflowError, WorkflowError } from './errors.ts';
import { Evaluator, type Maybe, type Site, type Vars } from './evaluation.ts';
import { lifecycleEvent, qualifiedName, type TaskLifecycle, type WorkflowLifecycle } from './lifecycle.ts';
import type { EnginePorts } from './ports.ts';
import { checkSchema } from './schema.ts';
import { listOutcome, type ChildRun, type ListOutcome, type TaskHost, type TaskOutcome, type TaskRun } from './tasks/host.ts';
import { TASK_HANDLERS, taskKind } from './tasks/index.ts';
import type { Frame, InstanceState, Json, JsonObject, RunResult, SchemaDefinition, TaskDefinition, TaskList } from './types.ts';
import { loadJqRuntime, type JqRuntime } from '../expressions/jq.ts';
import { fetchResource } from './resources.ts';

export interface RuntimeDescriptor {
  name: string;
  version: string;
  metadata?: JsonObject;
}

export interface InterpreterOptions {
  ports: EnginePorts;
  runtime: RuntimeDescriptor;
  /** Lets `run: shell` and `run: container` execute (through `ports.processes`). */
  allowProcesses: boolean;
  /** Run a subflow (`run: workflow`) as a child instance nested in this one's state. */
  childOf?: { parent: Interpreter; frame: Frame };
  /** The jq runtime expressions use; the process-wide one when absent. */
  jq?: JqRuntime;
}

/** A deadline's abort reason, turned into a timeout error by the code that set it. */
class DeadlineReached extends Error {}

interface ListStep {
  next: number;
  data: Json;
  ended?: boolean;
}

const taskIndexes = new WeakMap<TaskList, Map<string, number>>();

/** A task of a list, read once per list and reference rather than once per run of it. */
interface PlannedTask {
  name: string;
  def: TaskDefinition;
  ref: string;
}

const plans = new WeakMap<TaskList, Map<string, PlannedTask[]>>();

function planOf(listRef: string, tasks: TaskList): PlannedTask[] {
  let byRef = plans.get(tasks);
  if (!byRef) plans.set(tasks, (byRef = new Map()));
  let plan = byRef.get(listRef);
  if (!plan) {
    plan = tasks.map((item, index) => {
      const name = Object.keys(item)[0]!;
      return { name, def: item[name]!, ref: `${listRef}/${index}/${name}` };
    });
    byRef.set(listRef, plan);
  }
  return plan;
}

/**
 * Tasks that finish synchronously and hold nothing durable: their frame never reaches a
 * checkpoint, so it is not kept in the state (saving a write and a scan of the frames).
 */
const TRANSIENT = new Set(['set', 'switch', 'raise']);

function indexOfTask(tasks: TaskList, name: string): number {
  let index = taskIndexes.get(tasks);
  if (!index) {
    index = new Map(tasks.map((item, i) => [Object.keys(item)[0]!, i]));
    taskIndexes.set(tasks, index);
  }
  return index.get(name) ?? -1;
}

function dateTime(ms: number): JsonObject {
  return { iso8601: new Date(ms).toISOString(), epoch: { seconds: Math.floor(ms / 1000), milliseconds: ms } };
}

export class Interpreter implements TaskHost {
  readonly ports: EnginePorts;
  evaluator!: Evaluator;
  secrets: Record<string, Json> = {};
  private readonly controller = new AbortController();
  private gate: { promise: Promise<void>; open: () => void } | undefined;
  private workflowDescriptor: JsonObject | undefined;
  private readonly resourceCache = new Map<string, Promise<Json>>();

  constructor(
    readonly state: InstanceState,
    readonly options: InterpreterOptions,
  ) {
    this.ports = options.ports;
  }

  get definition() {
    return this.state.definition;
  }

  get instanceId(): string {
    return this.state.id;
  }

  get allowProcesses(): boolean {
    return this.options.allowProcesses;
  }

  now(): number {
    return this.ports.clock.now();
  }

  readonly random = (): number => (this.ports.random ?? Math.random)();

  // ── control ───────────────────────────────────────────────────────────────

  suspend(): void {
    if (this.gate || !['running', 'waiting', 'pending'].includes(this.state.status)) return;
    let open!: () => void;
    const promise = new Promise<void>((resolve) => (open = resolve));
    this.gate = { promise, open };
    this.state.status = 'suspended';
    this.emitWorkflow('suspended', { suspendedAt: dateTime(this.now()) });
    void this.checkpoint();
  }

  resumeSuspended(): void {
    if (!this.gate) return;
    const { open } = this.gate;
    this.gate = undefined;
    this.state.status = 'running';
    this.emitWorkflow('resumed', { resumedAt: dateTime(this.now()) });
    open();
  }

  cancel(): void {
    this.controller.abort(new InterruptedError('cancelled'));
    this.gate?.open();
  }

  /** Detaches from the instance without changing its state (worker shutdown); another engine can resume it. */
  stop(): void {
    this.controller.abort(new InterruptedError('stopped'));
    this.gate?.open();
  }

  // ── persistence and events ────────────────────────────────────────────────

  async checkpoint(): Promise<void> {
    const child = this.options.childOf;
    if (child) {
      child.frame.step = { ...child.frame.step, child: this.state as unknown as Json };
      return child.parent.checkpoint();
    }
    if (this.ports.store) await this.ports.store.checkpoint(this.state);
  }

  private publish(type: string, data: JsonObject): void {
    const port = this.ports.lifecycle;
    if (!port) return;
    const event = lifecycleEvent(this.state, this.ports.ids.next(), this.now(), type, data);
    // Lifecycle events are notifications: a slow or failing consumer must not stall the run.
    void Promise.resolve()
      .then(() => port.publish(event))
      .catch(() => undefined);
  }

  emitWorkflow(kind: WorkflowLifecycle, data: JsonObject): void {
    if (this.ports.lifecycle) this.publish(`workflow.${kind}`, { name: qualifiedName(this.state), id: this.state.id, ...data });
  }

  emitTask(kind: TaskLifecycle, ref: string, data: JsonObject = {}): void {
    if (this.ports.lifecycle) this.publish(`task.${kind}`, { workflow: qualifiedName(this.state), id: this.state.id, task: ref, [`${kind}At`]: dateTime(this.now()), ...data });
  }

  // ── waiting ───────────────────────────────────────────────────────────────

  /** Sleeps until `until` (epoch ms), visible in `state.waitingFor` meanwhile. */
  async sleepUntil(until: number, at: string, signal: AbortSignal): Promise<void> {
    if (until <= this.now()) return;
    const waiting = (this.state.waitingFor ??= { timers: [], listens: [] });
    waiting.timers.push({ at, until });
    const previous = this.state.status;
    if (previous === 'running') this.state.status = 'waiting';
    await this.checkpoint();
    try {
      await this.ports.timers.sleep(until, signal);
    } catch (error) {
      if (signal.aborted) throw signal.reason;
      throw error;
    } finally {
      waiting.timers = waiting.timers.filter((t) => t.at !== at);
      if (this.state.status === 'waiting') this.state.status = 'running';
    }
  }

  listening(at: string, to: Json): () => void {
    const waiting = (this.state.waitingFor ??= { timers: [], listens: [] });
    waiting.listens.push({ at, to });
    if (this.state.status === 'running') this.state.status = 'waiting';
    return () => {
      waiting.listens = waiting.listens.filter((l) => l.at !== at);
      if (this.state.status === 'waiting') this.state.status = 'running';
    };
  }

  /**
   * Runs `body` with a deadline: when the clock reaches it, `body`'s signal aborts and the
   * call fails with `onTimeout()` (a timeout error, catchable like any other).
   */
  async withDeadline<T>(deadline: number, signal: AbortSignal, body: (signal: AbortSignal) => Promise<T>, onTimeout: () => WorkflowError): Promise<T> {
    if (deadline <= this.now()) throw onTimeout();
    const controller = new AbortController();
    const forward = () => controller.abort(signal.reason);
    signal.addEventListener('abort', forward, { once: true });
    const timer = this.ports.timers.sleep(deadline, controller.signal).then(() => {
      controller.abort(new DeadlineReached());
      throw onTimeout();
    });
    timer.catch(() => undefined);
    try {
      return await Promise.race([body(controller.signal), timer]);
    } catch (error) {
      if (controller.signal.reason instanceof DeadlineReached) throw onTimeout();
      throw error;
    } finally {
      signal.removeEventListener('abort', forward);
      if (!controller.signal.aborted) controller.abort(new DeadlineReached());
    }
  }

  // ── resources and references ──────────────────────────────────────────────

  /** An external document (OpenAPI, schema, catalog function), fetched once per run. */
  loadResource(endpoint: unknown, signal: AbortSignal, at: string): Promise<Json> {
    const key = JSON.stringify(endpoint);
    let loading = this.resourceCache.get(key);
    if (!loading) {
      loading = fetchResource(this, endpoint, signal, at);
      loading.catch(() => this.resourceCache.delete(key));
      this.resourceCache.set(key, loading);
    }
    return loading;
  }

  timeoutMs(timeout: unknown, at: string): number {
    if (typeof timeout === 'string') {
      const named = this.definition.use?.timeouts?.[timeout];
      if (!named) throw WorkflowError.of('configuration', `timeout "${timeout}" is not defined in use.timeouts`, at);
      return durationMs(named.after, at);
    }
    return durationMs((timeout as { after?: unknown }).after, at);
  }

  private async checkSchema(schema: SchemaDefinition | undefined, data: Json, what: string, at: string, signal: AbortSignal): Promise<void> {
    if (schema) await checkSchema(schema, data, what, at, (s) => this.loadResource(s.resource, signal, at));
  }

  // ── variables ─────────────────────────────────────────────────────────────

  workflowVars(): Vars {
    const state = this.state;
    return (name) => {
      switch (name) {
        case 'context':
          return state.context;
        case 'secrets':
          return this.secrets;
        case 'workflow':
          return (this.workflowDescriptor ??= {
            id: state.id,
            definition: state.definition as unknown as Json,
            input: state.input,
            startedAt: dateTime(state.startedAt),
          });
        case 'runtime':
          return this.options.runtime as unknown as Json;
        default:
          return undefined;
      }
    };
  }

  /** `$secrets`: exactly the names `use.secrets` declares, each of which must be defined. */
  private async resolveSecrets(names: string[]): Promise<Record<string, Json>> {
    if (names.length === 0) return {};
    let found: Record<string, Json> = {};
    try {
      if (this.ports.secrets) found = await this.ports.secrets.resolve(names);
    } catch (error) {
      throw WorkflowError.of('configuration', (error as Error).message, '/use/secrets', 'Secret not available');
    }
    const missing = names.filter((n) => !(n in found));
    if (missing.length > 0) {
      const list = missing.map((n) => `"${n}"`).join(', ');
      throw WorkflowError.of('configuration', `use.secrets names ${list}, not defined as ${missing.length === 1 ? 'a secret' : 'secrets'} here`, '/use/secrets', 'Secret not defined');
    }
    return Object.fromEntries(names.map((n) => [n, found[n]!]));
  }

  // ── running ───────────────────────────────────────────────────────────────

  async run(): Promise<RunResult> {
    const state = this.state;
    const fresh = state.status === 'pending';
    const signal = this.controller.signal;
    try {
      const jq = this.options.jq ?? (await loadJqRuntime());
      const language = this.definition.evaluate?.language ?? 'jq';
      if (language !== 'jq') throw WorkflowError.of('configuration', `expression language "${language}" is not supported; use jq`, '/evaluate/language');
      this.evaluator = Evaluator.shared(jq, this.definition.evaluate?.mode ?? 'strict');
      this.secrets = await this.resolveSecrets(this.definition.use?.secrets ?? []);
      state.status = 'running';
      if (fresh) {
        if (this.ports.lifecycle) this.emitWorkflow('started', { startedAt: dateTime(state.startedAt) });
        if (this.definition.timeout !== undefined) state.deadline = state.startedAt + this.timeoutMs(this.definition.timeout, '/timeout');
        await this.checkpoint();
      }
      const body = (s: AbortSignal) => this.runWorkflowBody(s);
      const output =
        state.deadline === undefined
          ? await body(signal)
          : await this.withDeadline(state.deadline, signal, body, () => WorkflowError.of('timeout', `the workflow did not complete within its timeout`, '/', 'Workflow timed out'));
      state.status = 'completed';
      state.output = output;
      state.frames = {};
      delete state.waitingFor;
      await this.checkpoint();
      if (this.ports.lifecycle) this.emitWorkflow('completed', { completedAt: dateTime(this.now()), output });
      return { status: 'completed', output, state };
    } catch (error) {
      const reason = signal.aborted ? signal.reason : error;
      if (reason instanceof InterruptedError) {
        if (reason.reason === 'stopped') return { status: 'stopped', state };
        state.status = 'cancelled';
        await this.checkpoint();
        this.emitWorkflow('cancelled', { cancelledAt: dateTime(this.now()) });
        return { status: 'cancelled', state };
      }
      const problem = toWorkflowError(error, '/').problem;
      state.status = 'faulted';
      state.error = problem;
      await this.checkpoint();
      this.emitWorkflow('faulted', { faultedAt: dateTime(this.now()), error: problem as unknown as Json });
      return { status: 'faulted', error: problem, state };
    }
  }

  private async runWorkflowBody(signal: AbortSignal): Promise<Json> {
    const def = this.definition;
    const vars = this.workflowVars();
    const site = (field: string): Site => ({ task: 'workflow', ref: '/', field });
    await this.checkSchema(def.input?.schema, this.state.input, 'the workflow input', '/input/schema', signal);
    const input = def.input?.from === undefined ? this.state.input : await this.evaluator.valueOf(def.input.from, this.state.input, vars, site('input.from'));
    const { output: last } = await this.runList('/do', def.do, input, vars, signal);
    const output = def.output?.as === undefined ? last : await this.evaluator.valueOf(def.output.as, last, vars, site('output.as'));
    await this.checkSchema(def.output?.schema, output, 'the workflow output', '/output/schema', signal);
    return output;
  }

  /** Runs a task list from its saved cursor; the output is the last task's output. */
  async runList(listRef: string, tasks: TaskList, input: Json, vars: Vars, signal: AbortSignal): Promise<ListOutcome> {
    const frames = this.state.frames;
    let frame = frames[listRef];
    if (!frame) {
      frame = { step: { next: 0, data: input } };
      frames[listRef] = frame;
    }
    const step = frame.step as unknown as ListStep;
    const plan = planOf(listRef, tasks);
    while (step.next < tasks.length) {
      if (this.gate) await this.gate.promise;
      if (signal.aborted) throw signal.reason;
      const index = step.next;
      const { name, def, ref } = plan[index]!;
      const pending = this.runTask(name, def, ref, step.data, vars, signal);
      const outcome = pending instanceof Promise ? await pending : pending;
      this.commit(ref, outcome);
      step.data = outcome.output;
      const flow = outcome.kind === 'flow' ? outcome.directive : outcome.kind === 'skipped' ? 'continue' : (def.then ?? 'continue');
      if (flow === 'continue') step.next = index + 1;
      else if (flow === 'exit') step.next = tasks.length;
      else if (flow === 'end') {
        step.next = tasks.length;
        step.ended = true;
      } else {
        const target = indexOfTask(tasks, flow);
        if (target < 0) throw WorkflowError.of('configuration', `task "${name}" flows to "${flow}", which is not a task of the same list`, ref);
        step.next = target;
      }
      if (this.ports.store || this.options.childOf) await this.checkpoint();
    }
    delete frames[listRef];
    return listOutcome(step.ended === true, step.data);
  }

  /** Applies a finished task's effects: its new context, and the end of its frames. */
  commit(ref: string, outcome: TaskOutcome): void {
    if (outcome.kind !== 'skipped' && outcome.context !== undefined) this.state.context = outcome.context;
    if (ref in this.state.frames) this.clearFrames(ref);
  }

  runChild(child: InstanceState, frame: Frame): ChildRun {
    const interpreter = new Interpreter(child, { ...this.options, childOf: { parent: this, frame } });
    return { done: interpreter.run(), stop: () => interpreter.stop() };
  }

  clearFrames(prefix: string): void {
    const frames = this.state.frames;
    delete frames[prefix];
    const nested = `${prefix}/`;
    for (const key in frames) if (key.startsWith(nested)) delete frames[key];
  }

  /**
   * Runs one task with the DSL's data flow around it; the caller commits the outcome. Tasks
   * with no schema, no timeout and a synchronous handler (set, switch, raise…) whose
   * expressions the fast path answers complete without a single await, which keeps the
   * engine's per-task overhead low; the first step that needs jq (a Promise) continues
   * asynchronously.
   */
  runTask(name: string, def: TaskDefinition, ref: string, rawInput: Json, parentVars: Vars, signal: AbortSignal): TaskOutcome | Promise<TaskOutcome> {
    const call = this.beginTask(name, def, ref, rawInput, parentVars, signal);
    if (def.input?.schema || def.output?.schema || def.export?.schema || def.timeout !== undefined || call.frame.deadline !== undefined) return this.runTaskAsync(call);
    let entered: Maybe<TaskOutcome | undefined>;
    try {
      entered = this.enterTask(call);
    } catch (error) {
      throw this.taskFailure(call, error);
    }
    if (entered instanceof Promise) return this.enterTaskAsync(call, entered);
    return entered ?? this.proceed(call);
  }

  private async enterTaskAsync(call: TaskCall, entered: Promise<TaskOutcome | undefined>): Promise<TaskOutcome> {
    let skipped: TaskOutcome | undefined;
    try {
      skipped = await entered;
    } catch (error) {
      throw this.taskFailure(call, error);
    }
    return skipped ?? this.proceed(call);
  }

  /** The handler, `output.as` and `export.as` of an entered task. */
  private proceed(call: TaskCall): TaskOutcome | Promise<TaskOutcome> {
    try {
      const pending = TASK_HANDLERS[call.kind!](call);
      if (pending instanceof Promise) return this.leaveTaskAsync(call, pending);
      const output = this.transformOutput(call, pending);
      if (output instanceof Promise) return this.leaveTaskAsync(call, pending, output);
      const context = this.exportContext(call, output);
      if (context instanceof Promise) return this.leaveTaskAsync(call, pending, output, context);
      return this.leaveTask(call, pending, output, context);
    } catch (error) {
      throw this.taskFailure(call, error);
    }
  }

  private beginTask(name: string, def: TaskDefinition, ref: string, rawInput: Json, parentVars: Vars, signal: AbortSignal): TaskCall {
    const frames = this.state.frames;
    const kind = taskKind(def);
    let frame = frames[ref];
    const fresh = frame === undefined;
    if (!frame) {
      frame = { startedAt: this.now() };
      if (!TRANSIENT.has(kind!) || def.timeout !== undefined) frames[ref] = frame;
      if (this.ports.lifecycle) {
        this.emitTask('created', ref);
        // Beyond the spec's fields: the task's input, for run histories (the worker's run_step rows).
        this.emitTask('started', ref, { input: rawInput });
      }
    } else {
      frame.startedAt ??= this.now();
    }
    return new TaskCall(this, name, def, ref, rawInput, fresh, frame, signal, kind, parentVars);
  }

  /** `input.from`, then `if`: the skipped outcome when the task does not apply. */
  private enterTask(call: TaskCall): Maybe<TaskOutcome | undefined> {
    const from = call.def.input?.from;
    if (from === undefined) {
      if (call.def.if !== undefined) return this.checkIf(call, call.rawInput);
      // Most tasks: nothing to evaluate on the way in.
      call.input = call.rawInput;
      call.entered = true;
      return this.applies(call, true);
    }
    const transformed = this.evaluator.valueOf(from, call.rawInput, call.vars, call.site('input.from'));
    return transformed instanceof Promise ? transformed.then((t) => this.checkIf(call, t)) : this.checkIf(call, transformed);
  }

  private checkIf(call: TaskCall, transformed: Json): Maybe<TaskOutcome | undefined> {
    call.input = transformed;
    call.entered = true;
    if (call.def.if === undefined) return this.applies(call, true);
    const holds = this.evaluator.test(call.def.if, transformed, call.vars, call.site('if'));
    return holds instanceof Promise ? holds.then((h) => this.applies(call, h)) : this.applies(call, holds);
  }

  private applies(call: TaskCall, holds: boolean): TaskOutcome | undefined {
    if (!holds) {
      this.emitTask('completed', call.ref, { skipped: true });
      return { kind: 'skipped', output: call.rawInput };
    }
    if (!call.kind) throw WorkflowError.of('configuration', `task "${call.name}" has no known task type`, call.ref);
    return undefined;
  }

  private transformOutput(call: TaskCall, outcome: TaskOutcome): Maybe<Json> {
    call.rawOutput = outcome.output;
    const as = call.def.output?.as;
    if (as === undefined) return (call.output = outcome.output);
    const output = this.evaluator.valueOf(as, outcome.output, call.vars, call.site('output.as'));
    return output instanceof Promise ? output.then((o) => (call.output = o)) : (call.output = output);
  }

  private exportContext(call: TaskCall, output: Json): Maybe<Json | undefined> {
    const as = call.def.export?.as;
    return as === undefined ? undefined : this.evaluator.valueOf(as, output, call.vars, call.site('export.as'));
  }

  private leaveTask(call: TaskCall, outcome: TaskOutcome, output: Json, context: Json | undefined): TaskOutcome {
    if (this.ports.lifecycle) this.emitTask('completed', call.ref, { output });
    const result: Exclude<TaskOutcome, { kind: 'skipped' }> = outcome.kind === 'flow' ? { kind: 'flow', directive: outcome.directive, output } : { kind: 'completed', output };
    if (context !== undefined) result.context = context;
    return result;
  }

  /** The rest of a task once one of its steps went asynchronous; what is already known is passed in. */
  private async leaveTaskAsync(call: TaskCall, pending: Maybe<TaskOutcome>, transformed?: Maybe<Json>, exported?: Promise<Json | undefined>): Promise<TaskOutcome> {
    try {
      const outcome = await pending;
      const output = await (transformed !== undefined ? transformed : this.transformOutput(call, outcome));
      const context = await (exported ?? this.exportContext(call, output));
      return this.leaveTask(call, outcome, output, context);
    } catch (error) {
      throw this.taskFailure(call, error);
    }
  }

  /** The full path, for tasks with schemas or a timeout. */
  private async runTaskAsync(call: TaskCall): Promise<TaskOutcome> {
    const { def, name, ref, frame } = call;
    const signal = call.outerSignal;
    try {
      await this.checkSchema(def.input?.schema, call.rawInput, `the input of task "${name}"`, ref, signal);
      const skipped = await this.enterTask(call);
      if (skipped) return skipped;
      if (call.fresh && def.timeout !== undefined) frame.deadline = frame.startedAt! + this.timeoutMs(def.timeout, ref);
      const handler = TASK_HANDLERS[call.kind!];
      let outcome: TaskOutcome;
      if (frame.deadline !== undefined) {
        outcome = await this.withDeadline(
          frame.deadline,
          signal,
          async (s) => {
            call.signal = s;
            return handler(call);
          },
          () => WorkflowError.of('timeout', `task "${name}" did not complete within its timeout`, ref, 'Task timed out'),
        );
      } else {
        outcome = await handler(call);
      }
      const output = await this.transformOutput(call, outcome);
      await this.checkSchema(def.output?.schema, output, `the output of task "${name}"`, ref, signal);
      const context = await this.exportContext(call, output);
      if (context !== undefined) await this.checkSchema(def.export?.schema, context, `the context exported by task "${name}"`, ref, signal);
      return this.leaveTask(call, outcome, output, context);
    } catch (error) {
      throw this.taskFailure(call, error);
    }
  }

  private taskFailure(call: TaskCall, error: unknown): unknown {
    // Errors caused by an abort (cancel, stop, an enclosing deadline) are not task faults.
    if (call.outerSignal.aborted) return call.outerSignal.reason;
    if (error instanceof InterruptedError || error instanceof DeadlineReached) return error;
    const failure = toWorkflowError(error, call.ref);
    this.emitTask('faulted', call.ref, { error: failure.problem as unknown as Json });
    return failure;
  }
}

/**
 * One task's run in progress, shared by the synchronous and asynchronous paths, and the
 * `TaskRun` its handler gets. One object per task (plus its `vars` function): the per-task
 * path of short tasks is dominated by allocation.
 */
class TaskCall implements TaskRun {
  /** The transformed input, once `input.from` ran (`entered`). */
  input: Json = null;
  entered = false;
  rawOutput: Json | undefined = undefined;
  output: Json | undefined = undefined;
  authorization: JsonObject | undefined = undefined;
  /** The signal the handler sees: the task's deadline, when it has one, aborts it too. */
  signal: AbortSignal;
  private descriptor: JsonObject | undefined = undefined;
  readonly vars: Vars;

  constructor(
    readonly host: Interpreter,
    readonly name: string,
    readonly def: TaskDefinition,
    readonly ref: string,
    readonly rawInput: Json,
    readonly fresh: boolean,
    readonly frame: Frame,
    /** The signal of the enclosing list: its abort (cancel, stop, an outer deadline) is not this task's fault. */
    readonly outerSignal: AbortSignal,
    readonly kind: ReturnType<typeof taskKind>,
    private readonly parentVars: Vars,
  ) {
    this.signal = outerSignal;
    this.vars = (n) => this.variable(n);
  }

  private variable(n: string): Json | undefined {
    switch (n) {
      case 'input':
        return this.entered ? this.input : undefined;
      case 'output':
        return this.output;
      case 'context':
        return this.host.state.context;
      case 'authorization':
        return this.authorization ?? this.parentVars(n);
      case 'task': {
        const descriptor = (this.descriptor ??= {
          name: this.name,
          reference: this.ref,
          definition: this.def as unknown as Json,
          input: this.rawInput,
          startedAt: dateTime(this.frame.startedAt!),
        });
        if (this.rawOutput !== undefined) descriptor.output = this.rawOutput;
        return descriptor;
      }
      default:
        return this.parentVars(n);
    }
  }

  site(field: string): Site {
    return { task: this.name, ref: this.ref, field };
  }

  authorize(scheme: string, parameter: string): void {
    this.authorization = { scheme, parameter };
  }
}
