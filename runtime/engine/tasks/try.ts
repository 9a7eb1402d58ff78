import { durationMs } from '../duration.ts';
import { sameErrorType, WorkflowError, type ProblemDetails } from '../errors.ts';
import type { TaskOutcome, TaskRun } from './host.ts';
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

/**
 * The error field an `errors.with` key filters on. The schema's error filter names the
 * problem's `detail` as `details` (schema/workflow.yaml, `errorFilter`); `detail` is read the same way.
 */
const FILTER_FIELDS: Readonly<Record<string, string>> = { details: 'detail' };

/** Whether an error matches `catch.errors.with`: every given field must be equal. */
export function errorMatches(filter: JsonObject | undefined, problem: ProblemDetails): boolean {
  if (!filter) return true;
  for (const [key, expected] of Object.entries(filter)) {
    const actual = problem[FILTER_FIELDS[key] ?? key];
    if (key === 'type') {
      if (typeof expected !== 'string' || typeof actual !== 'string' || !sameErrorType(expected, actual)) return false;
    } else if (key === 'status') {
      if (Number(expected) !== Number(actual)) return false;
    } else if (JSON.stringify(actual) !== JSON.stringify(expected)) return false;
  }
  return true;
}

/**
 * The longest wait before a retry, jitter aside. The DSL's backoffs grow without bound; this
 * runtime caps them (the data plane's delivery loop caps at the same 10 minutes), so a policy
 * of many exponential attempts, like the HTTP target's default, rides out a day's outage
 * instead of waiting for years.
 */
export const MAX_RETRY_DELAY_MS = 10 * 60_000;

/** Delay before retry number `attempt` (1-based): constant, linear (× attempt) or exponential (× 2^(attempt-1)), capped, plus jitter. */
export function retryDelayMs(policy: JsonObject, attempt: number, random: () => number, at: string): number {
  const base = policy.delay === undefined ? 0 : durationMs(policy.delay, at);
  const backoff = (policy.backoff ?? {}) as JsonObject;
  let delay = base;
  if (backoff.linear !== undefined) delay = base * attempt;
  else if (backoff.exponential !== undefined) delay = base * 2 ** (attempt - 1);
  delay = Math.min(delay, Math.max(base, MAX_RETRY_DELAY_MS));
  const jitter = policy.jitter as { from?: Json; to?: Json } | undefined;
  if (jitter) {
    const from = jitter.from === undefined ? 0 : durationMs(jitter.from, at);
    const to = jitter.to === undefined ? from : durationMs(jitter.to, at);
    delay += from + random() * Math.max(0, to - from);
  }
  return Math.round(delay);
}

/**
 * `try`: runs `try`; an error that matches `catch` (filter, then `when` / `exceptWhen`
 * evaluated with the error as their input) is retried by the retry policy (inline or from
 * `use.retries`) while the policy allows; once its attempts are exhausted the error
 * propagates, as if uncaught. An error the policy does not retry (its own `when` /
 * `exceptWhen`), or any caught error when there is no policy, is handled by `catch.do`.
 * The attempt count and the next retry's due time are durable, so a resumed instance keeps
 * counting and waits only what is left.
 */
export async function tryTask(run: TaskRun): Promise<TaskOutcome> {
  const host = run.host;
  const tryList = run.def.try as TaskList;
  const spec = (run.def.catch ?? {}) as CatchSpec;
  const step = (run.frame.step ??= { attempt: 0 }) as TryStep;
  const errorName = spec.as ?? 'error';
  const handle = async (problem: Json): Promise<TaskOutcome> => {
    if (!spec.do) return { kind: 'completed', output: run.input };
    const vars = (name: string) => (name === errorName || name === 'error' ? problem : run.vars(name));
    return host.runList(`${run.ref}/catch/do`, spec.do, run.input, vars, run.signal);
  };
  if (step.caught !== undefined) return handle(step.caught);
  for (;;) {
    if (step.retryAt !== undefined) {
      await host.sleepUntil(step.retryAt, run.ref, run.signal);
      delete step.retryAt;
    }
    try {
      return await host.runList(`${run.ref}/try`, tryList, run.input, run.vars, run.signal);
    } catch (error) {
      if (!(error instanceof WorkflowError)) throw error;
      host.clearFrames(`${run.ref}/try`);
      const problem = error.problem;
      const value = problem as unknown as Json;
      const vars = (name: string) => (name === errorName || name === 'error' ? value : run.vars(name));
      if (!errorMatches(spec.errors?.with, problem)) throw error;
      // The catch conditions are about the error: it is their input (as in the reference runtimes).
      if (spec.when !== undefined && !(await host.evaluator.test(spec.when, value, vars, run.site('catch.when')))) throw error;
      if (spec.exceptWhen !== undefined && (await host.evaluator.test(spec.exceptWhen, value, vars, run.site('catch.exceptWhen')))) throw error;
      const policy = retryPolicy(run, spec.retry);
      const decision = policy ? await retryDecision(run, policy, step.attempt, value, vars) : 'handle';
      if (decision === 'exhausted') throw error;
      if (policy && decision === 'retry') {
        step.attempt += 1;
        step.retryAt = host.now() + retryDelayMs(policy, step.attempt, host.random, run.ref);
        host.emitTask('retried', run.ref, { attempt: step.attempt });
        await host.checkpoint();
        continue;
      }
      step.caught = value;
      await host.checkpoint();
      return handle(value);
    }
  }
}

function retryPolicy(run: TaskRun, retry: string | JsonObject | undefined): JsonObject | undefined {
  if (typeof retry !== 'string') return retry;
  const named = run.host.definition.use?.retries?.[retry];
  if (!named) throw WorkflowError.of('configuration', `retry policy "${retry}" is not defined in use.retries`, run.ref);
  return named;
}

/**
 * What to do with a caught error under a retry policy: `retry` it; `handle` it with
 * `catch.do` when the policy's own `when` / `exceptWhen` (evaluated with the error as input)
 * leave it out; or, when the limits are reached, report it `exhausted` so that it propagates.
 * `limit.attempt.count` counts retries after the first try; `limit.duration` bounds the whole try task.
 */
async function retryDecision(run: TaskRun, policy: JsonObject, attempt: number, error: Json, vars: (name: string) => Json | undefined): Promise<'retry' | 'handle' | 'exhausted'> {
  const host = run.host;
  if (typeof policy.when === 'string' && !(await host.evaluator.test(policy.when, error, vars, run.site('catch.retry.when')))) return 'handle';
  if (typeof policy.exceptWhen === 'string' && (await host.evaluator.test(policy.exceptWhen, error, vars, run.site('catch.retry.exceptWhen')))) return 'handle';
  const limit = (policy.limit ?? {}) as { attempt?: { count?: number; duration?: Json }; duration?: Json };
  if (limit.attempt?.count !== undefined && attempt >= limit.attempt.count) return 'exhausted';
  if (limit.duration !== undefined && host.now() - run.frame.startedAt! >= durationMs(limit.duration, run.ref)) return 'exhausted';
  return 'retry';
}
