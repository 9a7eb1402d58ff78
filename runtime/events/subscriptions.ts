/**
 * Subscriptions: each pipeline deployment's plan with its filters and transforms compiled
 * once, when the deployment is loaded, never per event. Ingress asks the set which
 * deployments an event goes to (and under which ordering key); delivery asks a
 * subscription what to send.
 */
import { compileFilter, jqExpressions, type EventPredicate, type FilterEvent } from '../expressions/filters/index.ts';
import { explainFilter, sourceReason, type FilterExplainer } from '../expressions/filters/explain.ts';
import { FAST_PATH_MISS, compileFast, type FastExpression } from '../expressions/jq-fast.ts';
import { JqBudgetError, JqEvaluationError, loadJqRuntime, type JqRuntime, type JqValue } from '../expressions/jq.ts';
import { TransformError, compileTransform, type EventTransform } from '../expressions/transforms/index.ts';
import type { CloudEventRecord } from './cloudevent.ts';
import type { HttpTarget, IngressFilter, PipelinePlan, WebhookSource } from './plan.ts';

export interface SubscribedDeployment {
  id: string;
  flowId: string;
}

/** What the chain of steps made of an event: a payload for the target, or a filter that dropped it and why. */
export type ChainResult = { deliver: true; payload: unknown; transformed: boolean } | { deliver: false; droppedBy: string; reason: string };

/** A filter that dropped an event, and why, as the worker records it for the studio. */
export interface FilterMiss {
  task: string;
  reason: string;
}

/** What one deployment made of an event at ingress; `undefined` from `consider` when it does not listen there. */
export type Consideration = { queued: true } | ({ queued: false } & FilterMiss);

/**
 * A compiled filter whose jq never blocks the event loop. The predicate first runs with no jq
 * at hand (the fast path answers most expressions); for the events where it asked jq for
 * something, every jq expression of the filter is evaluated in one call on the jq pool, and
 * the predicate runs again on those answers.
 */
interface Answers {
  /** The current event's answers, expression by expression. */
  answers: Map<string, JqValue[] | JqEvaluationError> | undefined;
  /** Whether the predicate asked for an expression with no answer (its result is then not used). */
  missed: boolean;
}

export class BatchedFilter {
  private constructor(
    readonly test: EventPredicate,
    private readonly jq: { runtime: JqRuntime; expressions: string[] } | undefined,
    private readonly current: Answers = { answers: undefined, missed: false },
    /** A jq error fails the event (as it fails the engine's run) instead of not matching it. */
    readonly faults = false,
  ) {}

  static async compile(definition: unknown, options: { onError?: 'drop' | 'fault' } = {}): Promise<BatchedFilter> {
    const faults = options.onError === 'fault';
    const onError = faults ? ('throw' as const) : ('drop' as const);
    const expressions = [...new Set(jqExpressions(definition).map((found) => found.expression))];
    if (expressions.length === 0) return new BatchedFilter(await compileFilter(definition, { onError }), undefined, undefined, faults);
    const base = await loadJqRuntime();
    const current: Answers = { answers: undefined, missed: false };
    const answer = (expression: string): JqValue[] => {
      const found = current.answers?.get(expression);
      if (found === undefined) {
        current.missed = true;
        throw new JqEvaluationError('not evaluated yet', expression);
      }
      if (found instanceof Error) throw found;
      return found;
    };
    const runtime: JqRuntime = {
      run: (expression) => answer(expression),
      runMany: (many) => many.map(answer),
      runAsync: (expression, input, vars) => base.runAsync(expression, input, vars),
      runManyAsync: (many, input, vars) => base.runManyAsync(many, input, vars),
      syntaxError: (expression) => base.syntaxError(expression),
    };
    return new BatchedFilter(await compileFilter(definition, { jq: runtime, onError }), { runtime: base, expressions }, current, faults);
  }

  /** Whether the event passes; throws the filter's error only where errors fail the event. */
  private safely(value: unknown): boolean {
    try {
      return this.test(value as FilterEvent);
    } catch (error) {
      // A filter that fails on an event does not match it (CESQL's and jq's error rule), unless
      // its errors fail the event; an answer not yet computed (`missed`) is never an error.
      if (this.faults && !this.current.missed) throw error;
      return false;
    }
  }

  /** Whether the event passes, or 'jq' when that takes jq (then ask `later`). */
  now(value: unknown): boolean | 'jq' {
    this.current.answers = undefined;
    this.current.missed = false;
    const passed = this.safely(value);
    return this.current.missed ? 'jq' : passed;
  }

  /**
   * Whether each event passes, with the filter's jq run once for all of them; throws that
   * call's error (e.g. its budget). An event the filter fails on (where errors fail the event)
   * comes back as its Error.
   */
  async later(values: unknown[]): Promise<(boolean | Error)[]> {
    const { runtime, expressions } = this.jq!;
    const each = expressions.map((expression) => `(try {ok: [(${expression}\n)]} catch {error: .})`).join(', ');
    const results = (await runtime.runAsync(`[.[] | [${each}]]`, values as JqValue[], () => undefined))[0] as { ok?: JqValue[]; error?: JqValue }[][];
    return values.map((value, i) => {
      this.current.answers = new Map(
        expressions.map((expression, k) => {
          const result = results[i]![k]!;
          return [expression, result.ok ?? new JqEvaluationError(typeof result.error === 'string' ? result.error : JSON.stringify(result.error), expression)];
        }),
      );
      this.current.missed = false;
      try {
        return this.safely(value);
      } catch (error) {
        return error instanceof Error ? error : new Error(String(error));
      } finally {
        this.current.answers = undefined;
      }
    });
  }
}

/** A value now, or later when jq had to run. */
type Maybe<T> = T | Promise<T>;

/** An ingress filter compiled once, with its explainer, which runs only for the events it drops. */
export interface CompiledIngressFilter {
  definition: IngressFilter;
  filter: BatchedFilter;
  explain: FilterExplainer;
}

export async function compileIngressFilters(filters: IngressFilter[]): Promise<CompiledIngressFilter[]> {
  return Promise.all(filters.map(async (definition) => ({ definition, filter: await BatchedFilter.compile(definition.filter, { onError: definition.onError }), explain: await explainFilter(definition.filter) })));
}

function missOf(f: CompiledIngressFilter, event: CloudEventRecord, failed?: string): FilterMiss {
  const reason = failed ?? f.explain(event) ?? 'evaluating the filter failed on this event';
  return { task: f.definition.task, reason: f.definition.source ? sourceReason(f.definition.filter, event, reason) : reason };
}

/** The first ingress filter that drops the event, and why; undefined when every one passes. Later only when a filter needs jq. */
export function firstMiss(filters: CompiledIngressFilter[], event: CloudEventRecord): Maybe<FilterMiss | undefined> {
  for (let k = 0; k < filters.length; k++) {
    const f = filters[k]!;
    const passed = nowAtIngress(f, event);
    if (passed === 'jq') return firstMissLater(filters, event, k);
    if (!passed) return missOf(f, event);
  }
  return undefined;
}

/**
 * A filter whose errors fail the event lets such an event through at ingress: it is queued,
 * and the same filter, kept as a step, fails it at delivery (as the engine fails the run).
 */
function nowAtIngress(f: CompiledIngressFilter, event: CloudEventRecord): boolean | 'jq' {
  try {
    return f.filter.now(event);
  } catch {
    return true;
  }
}

async function firstMissLater(filters: CompiledIngressFilter[], event: CloudEventRecord, from: number): Promise<FilterMiss | undefined> {
  for (let k = from; k < filters.length; k++) {
    const f = filters[k]!;
    let passed: boolean | 'jq' = nowAtIngress(f, event);
    let failed: string | undefined;
    if (passed === 'jq') {
      try {
        const [answer] = await f.filter.later([event]);
        passed = answer instanceof Error ? true : answer!;
      } catch (error) {
        passed = false;
        failed = `jq: ${(error as Error).message}`;
      }
    }
    if (!passed) return missOf(f, event, failed);
  }
  return undefined;
}

/**
 * A jq transform that jq-fast cannot compile costs about a millisecond per call in jq-wasm;
 * over a batch of events it runs as one call (`[.[] | …]`), which costs about as much.
 */
interface BatchJq {
  runtime: JqRuntime;
  program: string;
  /** The fast path, when it compiles the expression: events it answers skip the batch. */
  fast?: FastExpression;
  /** The output is JSON text to parse (a transform that renders text). */
  parseJson: boolean;
}

type CompiledStep =
  | { kind: 'filter'; task: string; filter: BatchedFilter; explain: FilterExplainer }
  | { kind: 'transform'; task: string; apply: EventTransform; batch?: BatchJq };

export class Subscription {
  private constructor(
    readonly deployment: SubscribedDeployment,
    readonly plan: PipelinePlan,
    private readonly ingressSet: Set<string> | undefined,
    private readonly filters: CompiledIngressFilter[],
    private readonly steps: CompiledStep[],
  ) {}

  /** Throws DefinitionError when a filter or transform does not compile. */
  static async compile(deployment: SubscribedDeployment, plan: PipelinePlan): Promise<Subscription> {
    const ingressFilters = plan.ingressFilters ?? (plan.filter === undefined ? [] : [{ task: 'filter', source: false, filter: plan.filter }]);
    const filters = await compileIngressFilters(ingressFilters);
    const steps: CompiledStep[] = [];
    for (const step of plan.steps) {
      if (step.kind === 'filter') {
        steps.push({ kind: 'filter', task: step.task, filter: await BatchedFilter.compile(step.filter, { onError: step.onError }), explain: await explainFilter(step.filter) });
        continue;
      }
      const transform = await compileTransform(step.transform);
      const apply: EventTransform = step.parseJson
        ? (event) => {
            const text = transform(event);
            return typeof text === 'string' ? (JSON.parse(text) as unknown) : text;
          }
        : transform;
      const jq = step.transform.kind === 'jq' ? step.transform.expression : undefined;
      const fast = jq === undefined ? undefined : compileFast(jq);
      // Each event's first output (null if none) or its error, as compileTransform gives them.
      const batch: BatchJq | undefined =
        jq === undefined ? undefined : { runtime: await loadJqRuntime(), program: `[.[] | try {ok: ([${jq}\n][0])} catch {error: .}]`, parseJson: step.parseJson === true, ...(fast ? { fast } : {}) };
      steps.push({ kind: 'transform', task: step.task, apply, ...(batch ? { batch } : {}) });
    }
    return new Subscription(deployment, plan, plan.ingress === 'any' ? undefined : new Set(plan.ingress), filters, steps);
  }

  get target(): HttpTarget {
    return this.plan.target;
  }

  /** Whether an event arriving on `ingress` is queued for this deployment. */
  async accepts(event: CloudEventRecord, ingress: string): Promise<boolean> {
    return (await this.consider(event, ingress))?.queued === true;
  }

  /** Undefined when the deployment does not listen on `ingress`; else queued, or which filter dropped it and why. */
  consider(event: CloudEventRecord, ingress: string): Maybe<Consideration | undefined> {
    if (this.ingressSet && !this.ingressSet.has(ingress)) return undefined;
    return considered(firstMiss(this.filters, event));
  }

  orderingKey(event: CloudEventRecord): string | null {
    const name = this.plan.target.delivery.orderingKey;
    if (name === undefined) return null;
    const value = event[name];
    return value === undefined || value === null ? null : String(value);
  }

  /**
   * Runs the steps after the ingress filter over a batch of events: per event, what to
   * deliver, the filter that dropped it, or the transform error (TransformError, SyntaxError).
   * jq that the fast path cannot answer runs once per step and batch, off the event loop.
   */
  async runMany(events: CloudEventRecord[]): Promise<(ChainResult | Error)[]> {
    const values: unknown[] = [...events];
    // Settled entries are done: dropped by a filter or failed in a transform.
    const settled: (ChainResult | Error | undefined)[] = events.map(() => undefined);
    for (const step of this.steps) {
      const live = values.map((_, i) => i).filter((i) => settled[i] === undefined);
      if (live.length === 0) break;
      if (step.kind === 'filter') {
        const drop = (i: number) => ({ deliver: false as const, droppedBy: step.task, reason: step.explain(values[i] as FilterEvent) ?? 'evaluating the filter failed on this event' });
        const needJq: number[] = [];
        for (const i of live) {
          let passed: boolean | 'jq';
          try {
            passed = step.filter.now(values[i]);
          } catch (error) {
            settled[i] = new TransformError(`jq ${step.task}: ${(error as Error).message}`);
            continue;
          }
          if (passed === 'jq') needJq.push(i);
          else if (!passed) settled[i] = drop(i);
        }
        if (needJq.length === 0) continue;
        let passed: (boolean | Error)[];
        try {
          passed = await step.filter.later(needJq.map((i) => values[i]));
        } catch (error) {
          // The batch as a whole hit the expression budget (or jq failed outright): the filter fails on each of its events.
          const reason = `jq ${step.task}: ${(error as Error).message}${error instanceof JqBudgetError ? ` (one evaluation over a batch of ${needJq.length} events)` : ''}`;
          for (const i of needJq) settled[i] = { deliver: false, droppedBy: step.task, reason };
          continue;
        }
        needJq.forEach((i, k) => {
          const answer = passed[k];
          if (answer instanceof Error) settled[i] = new TransformError(`jq ${step.task}: ${answer.message}`);
          else if (!answer) settled[i] = drop(i);
        });
      } else if (step.batch) {
        const batch = step.batch;
        const finish = (i: number, output: unknown) => {
          try {
            values[i] = batch.parseJson && typeof output === 'string' ? (JSON.parse(output) as unknown) : output;
          } catch (error) {
            settled[i] = error as Error;
          }
        };
        const slow: number[] = [];
        for (const i of live) {
          if (batch.fast) {
            try {
              finish(i, batch.fast(values[i] as JqValue, () => undefined));
              continue;
            } catch (error) {
              if (error !== FAST_PATH_MISS) {
                settled[i] = error as Error;
                continue;
              }
            }
          }
          slow.push(i);
        }
        if (slow.length === 0) continue;
        const input = slow.map((i) => values[i]) as JqValue[];
        let outputs: { ok?: JqValue; error?: JqValue }[];
        try {
          outputs = (await batch.runtime.runAsync(batch.program, input, () => undefined))[0] as { ok?: JqValue; error?: JqValue }[];
        } catch (error) {
          // The batch as a whole hit the expression budget (or jq failed outright): each of its events fails with that error.
          const message = `jq ${step.task}: ${(error as Error).message}${error instanceof JqBudgetError ? ` (one evaluation over a batch of ${slow.length} events)` : ''}`;
          for (const i of slow) settled[i] = new TransformError(message);
          continue;
        }
        slow.forEach((i, k) => {
          const output = outputs[k]!;
          if ('error' in output) settled[i] = new TransformError(`jq ${step.task}: ${typeof output.error === 'string' ? output.error : JSON.stringify(output.error)}`);
          else finish(i, output.ok ?? null);
        });
      } else {
        for (const i of live) {
          try {
            values[i] = step.apply(values[i] as FilterEvent);
          } catch (error) {
            settled[i] = error as Error;
          }
        }
      }
    }
    return settled.map(
      (done, i) =>
        // An `original` transform hands back the event itself: it is still the event, not new data.
        done ?? { deliver: true, payload: values[i], transformed: values[i] !== events[i] },
    );
  }
}

export interface HookBinding {
  deploymentId: string;
  source: WebhookSource;
}

export interface Route {
  deploymentId: string;
  orderingKey: string | null;
}

/** A deployment that considered an event and did not queue it. */
export interface FilteredRoute extends FilterMiss {
  deploymentId: string;
  flowId: string;
}

/** What a deployment's ingress filters made of an event, as a consideration. */
export function considered(miss: Maybe<FilterMiss | undefined>): Maybe<Consideration> {
  if (miss instanceof Promise) return miss.then((m) => (m ? { queued: false, ...m } : { queued: true }));
  return miss ? { queued: false, ...miss } : { queued: true };
}

/** Where an event goes, and which deployments looked at it and let it pass by. */
export interface Routing {
  routes: Route[];
  filtered: FilteredRoute[];
}

/** The active subscriptions and webhooks, swapped whole when deployments change. */
export class SubscriptionSet {
  constructor(
    readonly subscriptions: Subscription[],
    private readonly hooks: Map<string, HookBinding>,
  ) {}

  static readonly empty = new SubscriptionSet([], new Map());

  hook(id: string): HookBinding | undefined {
    return this.hooks.get(id);
  }

  async route(event: CloudEventRecord, ingress: string): Promise<Route[]> {
    return (await this.decide(event, ingress)).routes;
  }

  /** Where the event goes; a Promise only when some filter needs jq (which runs off the event loop). */
  decide(event: CloudEventRecord, ingress: string): Maybe<Routing> {
    const routing: Routing = { routes: [], filtered: [] };
    const later: Promise<void>[] = [];
    for (const subscription of this.subscriptions) {
      const { id, flowId } = subscription.deployment;
      const add = (c: Consideration | undefined) => {
        if (!c) return;
        if (c.queued) routing.routes.push({ deploymentId: id, orderingKey: subscription.orderingKey(event) });
        else routing.filtered.push({ deploymentId: id, flowId, task: c.task, reason: c.reason });
      };
      const c = subscription.consider(event, ingress);
      if (c instanceof Promise) later.push(c.then(add));
      else add(c);
    }
    return later.length === 0 ? routing : Promise.all(later).then(() => routing);
  }
}
