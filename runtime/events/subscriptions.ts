/**
 * Subscriptions: each pipeline deployment's plan with its filters and transforms compiled
 * once, when the deployment is loaded, never per event. Ingress asks the set which
 * deployments an event goes to (and under which ordering key); delivery asks a
 * subscription what to send.
 */
import { compileFilter, type EventPredicate, type FilterEvent } from '../expressions/filters/index.ts';
import { explainFilter, sourceReason, type FilterExplainer } from '../expressions/filters/explain.ts';
import { compileFast } from '../expressions/jq-fast.ts';
import { JqBudgetError, loadJqRuntime, type JqRuntime, type JqValue } from '../expressions/jq.ts';
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

/** An ingress filter compiled once, with its explainer, which runs only for the events it drops. */
export interface CompiledIngressFilter {
  definition: IngressFilter;
  test: EventPredicate;
  explain: FilterExplainer;
}

export async function compileIngressFilters(filters: IngressFilter[]): Promise<CompiledIngressFilter[]> {
  return Promise.all(
    filters.map(async (definition) => ({
      definition,
      test: await compileFilter(definition.filter, definition.onError === 'fault' ? { onError: 'throw' } : {}),
      explain: await explainFilter(definition.filter),
    })),
  );
}

/** The first ingress filter that drops the event, and why; undefined when every one passes. */
export function firstMiss(filters: CompiledIngressFilter[], event: CloudEventRecord): FilterMiss | undefined {
  for (const f of filters) {
    let passed = false;
    try {
      passed = f.test(event);
    } catch {
      // A filter that fails on an event does not match it (CESQL's and jq's error rule), unless
      // its error fails the event: then it is queued, and the same filter fails it at delivery.
      passed = f.definition.onError === 'fault';
    }
    if (passed) continue;
    const reason = f.explain(event) ?? 'evaluating the filter failed on this event';
    return { task: f.definition.task, reason: f.definition.source ? sourceReason(f.definition.filter, event, reason) : reason };
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
}

type CompiledStep =
  | { kind: 'filter'; task: string; test: EventPredicate; explain: FilterExplainer; faults: boolean }
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
        const faults = step.onError === 'fault';
        steps.push({ kind: 'filter', task: step.task, test: await compileFilter(step.filter, faults ? { onError: 'throw' } : {}), explain: await explainFilter(step.filter), faults });
        continue;
      }
      const transform = await compileTransform(step.transform);
      const apply: EventTransform = step.parseJson
        ? (event) => {
            const text = transform(event);
            return typeof text === 'string' ? (JSON.parse(text) as unknown) : text;
          }
        : transform;
      const jq = step.transform.kind === 'jq' && !step.parseJson && !compileFast(step.transform.expression) ? step.transform.expression : undefined;
      // Each event's first output (null if none) or its error, as compileTransform gives them.
      const batch = jq === undefined ? undefined : { runtime: await loadJqRuntime(), program: `[.[] | try {ok: ([${jq}][0])} catch {error: .}]` };
      steps.push({ kind: 'transform', task: step.task, apply, ...(batch ? { batch } : {}) });
    }
    return new Subscription(deployment, plan, plan.ingress === 'any' ? undefined : new Set(plan.ingress), filters, steps);
  }

  get target(): HttpTarget {
    return this.plan.target;
  }

  /** Whether an event arriving on `ingress` is queued for this deployment. */
  accepts(event: CloudEventRecord, ingress: string): boolean {
    return this.consider(event, ingress)?.queued === true;
  }

  /** Undefined when the deployment does not listen on `ingress`; else queued, or which filter dropped it and why. */
  consider(event: CloudEventRecord, ingress: string): Consideration | undefined {
    if (this.ingressSet && !this.ingressSet.has(ingress)) return undefined;
    const miss = firstMiss(this.filters, event);
    return miss ? { queued: false, ...miss } : { queued: true };
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
   */
  runMany(events: CloudEventRecord[]): (ChainResult | Error)[] {
    const values: unknown[] = [...events];
    // Settled entries are done: dropped by a filter or failed in a transform.
    const settled: (ChainResult | Error | undefined)[] = events.map(() => undefined);
    for (const step of this.steps) {
      const live = values.map((_, i) => i).filter((i) => settled[i] === undefined);
      if (live.length === 0) break;
      if (step.kind === 'filter') {
        for (const i of live) {
          let passed = false;
          try {
            passed = step.test(values[i] as FilterEvent);
          } catch (error) {
            if (step.faults) {
              settled[i] = new TransformError(`jq ${step.task}: ${(error as Error).message}`);
              continue;
            }
            passed = false;
          }
          if (!passed) settled[i] = { deliver: false, droppedBy: step.task, reason: step.explain(values[i] as FilterEvent) ?? 'evaluating the filter failed on this event' };
        }
      } else if (step.batch && live.length > 1) {
        const input = live.map((i) => values[i]) as JqValue[];
        let outputs: { ok?: JqValue; error?: JqValue }[];
        try {
          outputs = step.batch.runtime.run(step.batch.program, input, () => undefined)[0] as { ok?: JqValue; error?: JqValue }[];
        } catch (error) {
          // The batch as a whole hit the expression budget (or jq failed outright): each of its events fails with that error.
          const message = `jq ${step.task}: ${(error as Error).message}${error instanceof JqBudgetError ? ` (one evaluation over a batch of ${live.length} events)` : ''}`;
          for (const i of live) settled[i] = new TransformError(message);
          continue;
        }
        live.forEach((i, k) => {
          const output = outputs[k]!;
          if ('error' in output) settled[i] = new TransformError(`jq ${step.task}: ${typeof output.error === 'string' ? output.error : JSON.stringify(output.error)}`);
          else values[i] = output.ok;
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

  route(event: CloudEventRecord, ingress: string): Route[] {
    return this.decide(event, ingress).routes;
  }

  decide(event: CloudEventRecord, ingress: string): Routing {
    const routing: Routing = { routes: [], filtered: [] };
    for (const subscription of this.subscriptions) {
      const { id, flowId } = subscription.deployment;
      const considered = subscription.consider(event, ingress);
      if (!considered) continue;
      if (considered.queued) routing.routes.push({ deploymentId: id, orderingKey: subscription.orderingKey(event) });
      else routing.filtered.push({ deploymentId: id, flowId, task: considered.task, reason: considered.reason });
    }
    return routing;
  }
}
