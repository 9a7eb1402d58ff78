import { durationMs } from '../duration.ts';
import { sameErrorType, WorkflowError, type ProblemDetails } from '../errors.ts';
import type { TaskOutcome, TaskRun } from '../interpreter.ts';
import type { Json, JsonObject, TaskList } from '../types.ts';

interface CatchSpec {
  errors?: { with?: JsonObject };
  as?: string;
  when?: string;
  exceptWhen?: string;
  retry?: string | JsonObject;
  do?: TaskList;
}

interface TryStep {
  attempt: number;
  retryAt?: number;
  caught?: Json;
  [key: string]: Json | undefined;
}

/** Whether an error matches `catch.errors.with`: every given field must be equal. */
export function errorMatches(filter: JsonObject | undefined, problem: ProblemDetails): boolean {
  if (!filter) return true;
  for (const [key, expected] of Object.entries(filter)) {
    const actual = problem[key];
    if (key === 'type') {
      if (typeof expected !== 'string' || typeof actual !== 'string' || !sameErrorType(expected, actual)) return false;
    } else if (key === 'status') {
      if (Number(expected) !== Number(actual)) return false;
    } else if (JSON.stringify(actual) !== JSON.stringify(expected)) return false;
  }
  return true;
}

/** Delay before retry number `attempt` (1-based): constant, linear (× attempt) or exponential (× 2^(attempt-1)), plus jitter. */
export function retryDelayMs(policy: JsonObject, attempt: number, random: () => number, at: string): number {
  const base = policy.delay === undefined ? 0 : durationMs(policy.delay, at);
  const backoff = (policy.backoff ?? {}) as JsonObject;
  let delay = base;
  if (backoff.linear !== undefined) delay = base * attempt;
  else if (backoff.exponential !== undefined) delay = base * 2 ** (attempt - 1);
  const jitter = policy.jitter as { from?: Json; to?: Json } | undefined;
  if (jitter) {
    const from = jitter.from === undefined ? 0 : durationMs(jitter.from, at);
    const to = jitter.to === undefined ? from : durationMs(jitter.to, at);
    delay += from + random() * Math.max(0, to - from);
  }
  return Math.round(delay);
}

/**
 * `try`: runs `try`; an error that matches `catch` (filter, `when`, `exceptWhen`) is retried
 * by the retry policy (inline or from `use.retries`) and, once retries are exhausted or when
 * there is none, handled by `catch.do`. The attempt count and the next retry's due time are
 * durable, so a resumed instance keeps counting and waits only what is left.
 */
export async function tryTask(run: TaskRun): Promise<TaskOutcome> {
  const it = run.it;
  const tryList = run.def.try as TaskList;
  const spec = (run.def.catch ?? {}) as CatchSpec;
  const step = (run.frame.step ??= { attempt: 0 }) as TryStep;
  const errorName = spec.as ?? 'error';
  const handle = async (problem: Json): Promise<TaskOutcome> => {
    if (!spec.do) return { output: run.input };
    const vars = (name: string) => (name === errorName || name === 'error' ? problem : run.vars(name));
    return it.runList(`${run.ref}/catch/do`, spec.do, run.input, vars, run.signal);
  };
  if (step.caught !== undefined) return handle(step.caught);
  for (;;) {
    if (step.retryAt !== undefined) {
      await it.sleepUntil(step.retryAt, run.ref, run.signal);
      delete step.retryAt;
    }
    try {
      return await it.runList(`${run.ref}/try`, tryList, run.input, run.vars, run.signal);
    } catch (error) {
      if (!(error instanceof WorkflowError)) throw error;
      it.clearFrames(`${run.ref}/try`);
      const problem = error.problem;
      const value = problem as unknown as Json;
      const vars = (name: string) => (name === errorName || name === 'error' ? value : run.vars(name));
      if (!errorMatches(spec.errors?.with, problem)) throw error;
      if (spec.when !== undefined && !it.evaluator.test(spec.when, run.input, vars, run.site('catch.when'))) throw error;
      if (spec.exceptWhen !== undefined && it.evaluator.test(spec.exceptWhen, run.input, vars, run.site('catch.exceptWhen'))) throw error;
      const policy = retryPolicy(run, spec.retry);
      if (policy && shouldRetry(run, policy, step.attempt, vars)) {
        step.attempt += 1;
        step.retryAt = it.now() + retryDelayMs(policy, step.attempt, it.random, run.ref);
        it.emitTask('retried', run.ref, { attempt: step.attempt });
        await it.checkpoint();
        continue;
      }
      step.caught = value;
      await it.checkpoint();
      return handle(value);
    }
  }
}

function retryPolicy(run: TaskRun, retry: string | JsonObject | undefined): JsonObject | undefined {
  if (typeof retry !== 'string') return retry;
  const named = run.it.definition.use?.retries?.[retry];
  if (!named) throw WorkflowError.of('configuration', `retry policy "${retry}" is not defined in use.retries`, run.ref);
  return named;
}

/** `limit.attempt.count` counts retries after the first try; `limit.duration` bounds the whole try task. */
function shouldRetry(run: TaskRun, policy: JsonObject, attempt: number, vars: (name: string) => Json | undefined): boolean {
  const it = run.it;
  if (typeof policy.when === 'string' && !it.evaluator.test(policy.when, run.input, vars, run.site('catch.retry.when'))) return false;
  if (typeof policy.exceptWhen === 'string' && it.evaluator.test(policy.exceptWhen, run.input, vars, run.site('catch.retry.exceptWhen'))) return false;
  const limit = (policy.limit ?? {}) as { attempt?: { count?: number; duration?: Json }; duration?: Json };
  if (limit.attempt?.count !== undefined && attempt >= limit.attempt.count) return false;
  if (limit.duration !== undefined && it.now() - run.frame.startedAt! >= durationMs(limit.duration, run.ref)) return false;
  return true;
}
