import { RE2JS } from 're2js';
import { enclosedExpression } from '../evaluation.ts';
import type { TaskOutcome, TaskRun } from './host.ts';
import type { CloudEvent, Json, JsonObject, TaskList } from '../types.ts';

interface CorrelationKey {
  from: string;
  expect?: Json;
}

interface EventFilter {
  with?: JsonObject;
  correlate?: Record<string, CorrelationKey>;
}

interface ListenSpec {
  to: { one?: EventFilter; any?: EventFilter[]; all?: EventFilter[]; until?: string | EventFilter | boolean };
  read?: 'data' | 'envelope' | 'raw';
}

interface ListenStep {
  events: Json[];
  matched: number[];
  /** Correlation values set by the first event that had no `expect` (checkpointed with the step). */
  correlation?: JsonObject;
  [key: string]: Json | undefined;
}

function sameJson(a: Json, b: Json): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/**
 * A filter's `correlate` keys: each `from` is evaluated on the event and must equal its
 * `expect` (a constant or an expression on the task's input), or, without `expect`, the value
 * the first correlated event had. Returns the values to record when the event is consumed.
 */
async function correlates(run: TaskRun, filter: EventFilter | undefined, event: CloudEvent, step: ListenStep): Promise<JsonObject | undefined> {
  const fresh: JsonObject = {};
  for (const [key, def] of Object.entries(filter?.correlate ?? {})) {
    const from = enclosedExpression(def.from) ?? def.from;
    const value = await run.host.evaluator.evaluate(from, event as unknown as Json, run.vars, run.site(`listen.correlate.${key}.from`));
    if (def.expect !== undefined) {
      const expect = typeof def.expect === 'string' ? enclosedExpression(def.expect) : undefined;
      const expected = expect === undefined ? def.expect : await run.host.evaluator.evaluate(expect, run.input, run.vars, run.site(`listen.correlate.${key}.expect`));
      if (!sameJson(value, expected)) return undefined;
    } else if (step.correlation && key in step.correlation) {
      if (!sameJson(value, step.correlation[key] ?? null)) return undefined;
    } else {
      fresh[key] = value;
    }
  }
  return fresh;
}

function deepIncludes(actual: Json | undefined, expected: Json): boolean {
  if (expected === null || typeof expected !== 'object') return actual === expected;
  if (actual === null || actual === undefined || typeof actual !== 'object') return false;
  if (Array.isArray(expected)) return Array.isArray(actual) && expected.every((e, i) => deepIncludes(actual[i], e));
  return Object.entries(expected).every(([k, v]) => deepIncludes((actual as JsonObject)[k], v));
}

const patterns = new Map<string, RE2JS | null>();

/**
 * Whether `value` matches `pattern` whole, as an RE2 regular expression: matching takes time
 * linear in the value, whatever the pattern (a backtracking engine can take exponential time
 * on patterns such as `(a+)+$`, and events come from outside). Not a valid expression: false.
 */
function fullMatch(pattern: string, value: string): boolean {
  let compiled = patterns.get(pattern);
  if (compiled === undefined) {
    try {
      compiled = RE2JS.compile(pattern);
    } catch {
      compiled = null;
    }
    if (patterns.size >= 10_000) patterns.clear();
    patterns.set(pattern, compiled);
  }
  return compiled !== null && compiled.matches(value);
}

/**
 * Whether an event matches a filter's `with`: each attribute equals the given value, or
 * matches it as a regular expression, or (for `${ … }`) the expression holds with the event
 * as input; `data` given as an object matches when the event's data contains it.
 */
export async function eventMatches(run: TaskRun, filter: EventFilter | undefined, event: CloudEvent): Promise<boolean> {
  for (const [attribute, expected] of Object.entries(filter?.with ?? {})) {
    const actual = event[attribute];
    if (typeof expected === 'string') {
      const expression = enclosedExpression(expected);
      if (expression !== undefined) {
        if (!(await run.host.evaluator.test(expression, event as unknown as Json, run.vars, run.site(`listen.to.with.${attribute}`)))) return false;
        continue;
      }
      if (actual === expected) continue;
      if (typeof actual !== 'string') return false;
      if (fullMatch(expected, actual)) continue;
      return false;
    }
    if (!deepIncludes(actual, expected)) return false;
  }
  return true;
}

function read(event: CloudEvent, mode: ListenSpec['read']): Json {
  if (mode === 'envelope') return event as unknown as Json;
  return event.data ?? null;
}

/**
 * `listen`: waits for events through the event port — `one` filter, `any` of several (until
 * `until`, if given) or `all` of them — and outputs what was consumed (`read`: data,
 * envelope or raw). Consumed events are durable; a resumed listen keeps them and waits for
 * the rest. With `foreach`, each consumed event runs the iterator's `do`.
 */
export async function listenTask(run: TaskRun): Promise<TaskOutcome> {
  const spec = run.def.listen as ListenSpec;
  const host = run.host;
  const step = (run.frame.step ??= { events: [], matched: [] }) as ListenStep;
  const to = spec.to;
  const done = async (): Promise<boolean> => {
    if (to.one) return step.events.length >= 1;
    if (to.all) return to.all.every((_, i) => step.matched.includes(i));
    if (to.until === undefined) return step.events.length >= 1;
    if (typeof to.until === 'boolean') return !to.until && step.events.length >= 1;
    if (typeof to.until === 'string') return step.events.length > 0 && (await host.evaluator.test(to.until, step.events, run.vars, run.site('listen.to.until')));
    const last = step.events[step.events.length - 1] as unknown as CloudEvent | undefined;
    return last !== undefined && (await eventMatches(run, to.until, last));
  };
  if (!(await done())) {
    const stopListening = host.listening(run.ref, to as unknown as Json);
    host.emitWorkflow('correlation-started', { task: run.ref });
    await host.checkpoint();
    const controller = new AbortController();
    const forward = () => controller.abort(run.signal.reason);
    run.signal.addEventListener('abort', forward, { once: true });
    try {
      for await (const event of host.ports.events.subscribe({ instanceId: host.instanceId, at: run.ref, to: to as unknown as Json, since: run.frame.startedAt! }, controller.signal)) {
        if (await accept(run, to, step, event)) {
          await host.checkpoint();
          if (await done()) break;
        }
        // Stopped while jq answered: do not wait for another event.
        if (controller.signal.aborted) break;
      }
      if (run.signal.aborted) throw run.signal.reason;
    } finally {
      controller.abort();
      run.signal.removeEventListener('abort', forward);
      stopListening();
    }
    host.emitWorkflow('correlation-completed', { task: run.ref });
  }
  const consumed = (step.events as unknown as CloudEvent[]).map((e) => read(e, spec.read));
  const foreach = run.def.foreach as { item?: string; at?: string; do?: TaskList } | undefined;
  if (!foreach?.do) return { kind: 'completed', output: consumed };
  const outputs: Json[] = [];
  for (const [index, item] of consumed.entries()) {
    const vars = (name: string) => (name === (foreach.item ?? 'item') ? item : name === (foreach.at ?? 'index') ? index : run.vars(name));
    const result = await host.runList(`${run.ref}/foreach/do`, foreach.do, item, vars, run.signal);
    outputs.push(result.output);
  }
  return { kind: 'completed', output: outputs };
}

async function accept(run: TaskRun, to: ListenSpec['to'], step: ListenStep, event: CloudEvent): Promise<boolean> {
  // A resumed listen may be offered again what it consumed before the checkpoint.
  if ((step.events as unknown as CloudEvent[]).some((e) => e.id === event.id && e.source === event.source)) return false;
  const correlated = async (filter: EventFilter | undefined) => ((await eventMatches(run, filter, event)) ? correlates(run, filter, event, step) : undefined);
  let fresh: JsonObject | undefined;
  if (to.one) {
    fresh = await correlated(to.one);
    if (!fresh) return false;
  } else if (to.all) {
    let index = -1;
    for (const [i, filter] of to.all.entries()) {
      if (!step.matched.includes(i) && (fresh = await correlated(filter)) !== undefined) {
        index = i;
        break;
      }
    }
    if (index < 0) return false;
    step.matched.push(index);
  } else {
    const any = to.any ?? [];
    let matched = any.length === 0;
    for (const filter of any) {
      fresh = await correlated(filter);
      if (fresh !== undefined) {
        matched = true;
        break;
      }
    }
    if (!matched) return false;
  }
  if (fresh && Object.keys(fresh).length > 0) step.correlation = { ...step.correlation, ...fresh };
  step.events.push(event as unknown as Json);
  return true;
}
