/**
 * Which accepted events start a run of a workflow deployment: its `schedule.on` (one filter or
 * any of several), or, without a schedule, a leading `listen` whose first event starts the run
 * and is consumed by that listen. The filters read the same way as a pipeline's
 * (runtime/events/plan.ts), so a workflow and a pipeline with the same trigger see the same events.
 */
import type { CloudEventRecord } from '../events/cloudevent.ts';
import { Deployment } from '../compiler/deployment.ts';
import { readIngress, readListen, sourceTask, withToFilter } from '../events/plan.ts';
import {
  BatchedFilter,
  SubscriptionSet,
  compileIngressFilters,
  considered,
  firstMiss,
  type CompiledIngressFilter,
  type Consideration,
  type HookBinding,
  type Routing,
  type Subscription,
} from '../events/subscriptions.ts';
import type { SubscriptionFilter } from '../expressions/filters/index.ts';

export interface WorkflowTrigger {
  ingress: string[] | 'any';
  filter: SubscriptionFilter | undefined;
  /** What a dropped event is reported under: the flow's source node (plan.ts sourceTask). */
  task?: string;
  /** JSON pointer of the leading `listen` the triggering event satisfies; absent for `schedule.on`. */
  listenAt?: string;
  /**
   * `schedule.on.all`: a run starts once one event matching each of these has arrived. Each
   * matching event waits as a delivery row of the deployment until its set is complete.
   */
  all?: SubscriptionFilter[];
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The trigger of a deployment (or a parsed DSL document), or undefined when events do not start it (cron, manual). */
export function workflowTrigger(input: unknown): WorkflowTrigger | undefined {
  const deployment = Deployment.of(input);
  if (!deployment.isDsl) return undefined;
  const doc = deployment.document;
  if (isObj(doc.schedule)) {
    if (doc.schedule.on === undefined) return undefined;
    const all = isObj(doc.schedule.on) && Array.isArray(doc.schedule.on.all) ? doc.schedule.on.all : undefined;
    if (all) {
      const filters = all.map((f) => withToFilter(isObj(f) && isObj(f.with) ? f.with : {}));
      return filters.length === 0 ? undefined : { ingress: readIngress(deployment), filter: { any: filters }, all: filters, task: sourceTask(deployment, undefined) };
    }
    const listen = readListen(doc.schedule.on);
    return typeof listen === 'string' ? undefined : { ingress: readIngress(deployment), filter: listen.filter, task: sourceTask(deployment, undefined) };
  }
  const first = Array.isArray(doc.do) ? doc.do[0] : undefined;
  const entry = isObj(first) ? Object.entries(first)[0] : undefined;
  if (!entry || !isObj(entry[1]) || !isObj(entry[1].listen)) return undefined;
  const listen = readListen(entry[1].listen.to);
  return typeof listen === 'string' ? undefined : { ingress: readIngress(deployment), filter: listen.filter, task: sourceTask(deployment, entry[0]), listenAt: `/do/0/${entry[0]}` };
}

export class CompiledTrigger {
  private constructor(
    readonly deploymentId: string,
    readonly flowId: string,
    private readonly ingress: Set<string> | undefined,
    private readonly filters: CompiledIngressFilter[],
    /** One predicate per `schedule.on.all` filter, in order; jq in them runs off the event loop. */
    readonly all: EventTest[] | undefined,
  ) {}

  static async compile(deploymentId: string, trigger: WorkflowTrigger, flowId = ''): Promise<CompiledTrigger> {
    const filters = trigger.filter === undefined ? [] : await compileIngressFilters([{ task: trigger.task ?? 'schedule', source: true, filter: trigger.filter }]);
    const all = trigger.all ? await Promise.all(trigger.all.map(async (f) => eventTest(await BatchedFilter.compile(f)))) : undefined;
    return new CompiledTrigger(deploymentId, flowId, trigger.ingress === 'any' ? undefined : new Set(trigger.ingress), filters, all);
  }

  async accepts(event: CloudEventRecord, ingress: string): Promise<boolean> {
    return (await this.consider(event, ingress))?.queued === true;
  }

  /** As Subscription.consider: undefined when not listening on `ingress`, else queued or why not. */
  consider(event: CloudEventRecord, ingress: string): Consideration | undefined | Promise<Consideration | undefined> {
    if (this.ingress && !this.ingress.has(ingress)) return undefined;
    return considered(firstMiss(this.filters, event));
  }
}

/**
 * The pipelines' routes plus one per workflow deployment whose trigger accepts the event. A
 * workflow route is a delivery row like any other, written in the event's own transaction;
 * RunStartingQueue turns it into a run.
 */
export class WorkflowRoutingSet extends SubscriptionSet {
  constructor(
    subscriptions: Subscription[],
    hooks: Map<string, HookBinding>,
    private readonly triggers: CompiledTrigger[],
  ) {
    super(subscriptions, hooks);
  }

  override decide(event: CloudEventRecord, ingress: string): Routing | Promise<Routing> {
    const pipelines = super.decide(event, ingress);
    if (pipelines instanceof Promise) return pipelines.then((routing) => this.addTriggers(routing, event, ingress));
    return this.addTriggers(pipelines, event, ingress);
  }

  private addTriggers(routing: Routing, event: CloudEventRecord, ingress: string): Routing | Promise<Routing> {
    const later: Promise<void>[] = [];
    for (const trigger of this.triggers) {
      const add = (c: Consideration | undefined) => {
        if (!c) return;
        if (c.queued) routing.routes.push({ deploymentId: trigger.deploymentId, orderingKey: null });
        else routing.filtered.push({ deploymentId: trigger.deploymentId, flowId: trigger.flowId, task: c.task, reason: c.reason });
      };
      const c = trigger.consider(event, ingress);
      if (c instanceof Promise) later.push(c.then(add));
      else add(c);
    }
    return later.length === 0 ? routing : Promise.all(later).then(() => routing);
  }
}

/** Whether an event passes a filter; a Promise when the filter needs jq. Never throws (a failing filter does not match). */
export type EventTest = (event: Record<string, unknown>) => boolean | Promise<boolean>;

/** A compiled filter as an EventTest. */
export function eventTest(filter: BatchedFilter): EventTest {
  return (event) => {
    const passed = filter.now(event);
    if (passed !== 'jq') return passed;
    return filter.later([event]).then(
      ([p]): boolean => p === true,
      () => false,
    );
  };
}
