/**
 * The data plane's Prometheus metrics. Each worker has its own registry (not prom-client's
 * global one), so several data planes in one process — tests, the bench — keep their
 * counts apart. The backlog gauge is read from the queue table at scrape time: it is the
 * same for every worker and is what an autoscaler (HPA, KEDA) scales workers on.
 *
 * Labels name channels (`events`, `webhook`), deployments and outcomes only: never a webhook's
 * path (a capability when the webhook has no secret), a secret or anything a sender chose.
 */
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { AppendEntry } from './event-log.ts';

export interface DataPlaneMetrics {
  registry: Registry;
  /** `ingress` is `events` or `webhook`; a webhook's events also carry their `deployment`. */
  accepted: Counter<'ingress' | 'deployment'>;
  duplicates: Counter<'ingress' | 'deployment'>;
  rejected: Counter<'status'>;
  /** Events a deployment took or filtered out at ingress (one per event and deployment that considered it). */
  flowAccepted: Counter<'deployment' | 'flow'>;
  filtered: Counter<'deployment' | 'flow' | 'node'>;
  deliveries: Counter<'deployment' | 'flow' | 'outcome'>;
  deliveryLatency: Histogram<'deployment'>;
  commitBatch: Histogram;
}

/**
 * A counter incremented per event: its `inc` adds to plain nested maps keyed by the label
 * values, one level per label (no key string built per call), and prom-client gets the sums
 * when it is read (a scrape, `get()`), instead of hashing and validating the labels on every
 * call. What a scrape shows is the same.
 */
function perEventCounter<T extends string>(config: { name: string; help: string; labelNames: T[]; registers: Registry[] }): Counter<T> {
  type Labels = Partial<Record<T, string | number>>;
  type Leaf = { labels: Labels; value: number };
  type Level = Map<unknown, Level | Leaf>;
  let pending: Level = new Map();
  const names = config.labelNames;
  const counter: Counter<T> = new Counter<T>({
    ...config,
    collect() {
      const walk = (level: Level, depth: number) => {
        for (const next of level.values()) {
          if (depth === names.length - 1) add((next as Leaf).labels, (next as Leaf).value);
          else walk(next as Level, depth + 1);
        }
      };
      const taken = pending;
      pending = new Map();
      if (names.length > 0) walk(taken, 0);
    },
  });
  const add = counter.inc.bind(counter) as (labels: Labels, value: number) => void;
  counter.inc = ((labels?: Labels | number, value?: number) => {
    if (labels === undefined || typeof labels === 'number' || names.length === 0) return add(typeof labels === 'object' ? labels : {}, (typeof labels === 'number' ? labels : value) ?? 1);
    let level = pending;
    for (let i = 0; i < names.length - 1; i++) {
      const key = labels[names[i]!];
      let next = level.get(key) as Level | undefined;
      if (!next) level.set(key, (next = new Map()));
      level = next;
    }
    const last = labels[names[names.length - 1]!];
    const leaf = level.get(last) as Leaf | undefined;
    if (leaf) leaf.value += value ?? 1;
    else level.set(last, { labels: { ...labels }, value: value ?? 1 });
  }) as Counter<T>['inc'];
  return counter;
}

export type DeliveryOutcomeLabel = 'delivered' | 'retried' | 'dead_lettered';

export function createMetrics(backlog: () => Promise<Map<string, number>>): DataPlaneMetrics {
  const registry = new Registry();
  new Gauge({
    name: 'meshflow_delivery_backlog',
    help: 'Deliveries waiting (queued, retrying or in flight) per deployment',
    labelNames: ['deployment'],
    registers: [registry],
    async collect() {
      this.reset();
      for (const [deployment, count] of await backlog()) this.set({ deployment }, count);
    },
  });
  return {
    registry,
    accepted: perEventCounter({
      name: 'meshflow_events_accepted_total',
      help: 'Events committed to the event log, by channel (events, webhook) and webhook deployment',
      labelNames: ['ingress', 'deployment'],
      registers: [registry],
    }),
    duplicates: perEventCounter({
      name: 'meshflow_events_duplicate_total',
      help: 'Events acknowledged without storing because their (source, id) was already logged',
      labelNames: ['ingress', 'deployment'],
      registers: [registry],
    }),
    rejected: new Counter({ name: 'meshflow_events_rejected_total', help: 'Ingress requests refused, by HTTP status', labelNames: ['status'], registers: [registry] }),
    flowAccepted: perEventCounter({
      name: 'meshflow_flow_events_accepted_total',
      help: 'Events a pipeline deployment took in or filtered out, and events any deployment filtered out: accepted = filtered + delivered + dead_lettered + backlog',
      labelNames: ['deployment', 'flow'],
      registers: [registry],
    }),
    filtered: perEventCounter({
      name: 'meshflow_events_filtered_total',
      help: 'Events a deployment dropped, by the node (task) whose filter dropped them',
      labelNames: ['deployment', 'flow', 'node'],
      registers: [registry],
    }),
    deliveries: perEventCounter({
      name: 'meshflow_deliveries_total',
      help: 'Delivery outcomes: delivered, retried (an attempt that will be tried again) and dead_lettered',
      labelNames: ['deployment', 'flow', 'outcome'],
      registers: [registry],
    }),
    deliveryLatency: new Histogram({
      name: 'meshflow_delivery_latency_seconds',
      help: 'From an event entering the log to its successful delivery',
      labelNames: ['deployment'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
      registers: [registry],
    }),
    commitBatch: new Histogram({
      name: 'meshflow_event_log_commit_batch_size',
      help: 'Events per group commit',
      buckets: [1, 2, 5, 10, 25, 50, 100, 250, 500, 1000],
      registers: [registry],
    }),
  };
}

/**
 * Counts where stored events went at ingress. Deployments routed to a workflow are left out
 * of `flowAccepted`: their events become runs, which the studio counts from the run table.
 */
export function countRouting(metrics: DataPlaneMetrics, entries: AppendEntry[], pipelineFlow: (deploymentId: string) => string | undefined): void {
  for (const entry of entries) {
    for (const route of entry.routes) {
      const flow = pipelineFlow(route.deploymentId);
      if (flow !== undefined) metrics.flowAccepted.inc({ deployment: route.deploymentId, flow });
    }
    for (const f of entry.filtered ?? []) {
      metrics.flowAccepted.inc({ deployment: f.deploymentId, flow: f.flowId });
      metrics.filtered.inc({ deployment: f.deploymentId, flow: f.flowId, node: f.task });
    }
  }
}
