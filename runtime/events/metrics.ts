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
 * A counter incremented per event: its `inc` adds to a plain map keyed by the label values and
 * prom-client gets the sums when it is read (a scrape, `get()`), instead of hashing and
 * validating the labels on every call. What a scrape shows is the same.
 */
function perEventCounter<T extends string>(config: { name: string; help: string; labelNames: T[]; registers: Registry[] }): Counter<T> {
  const pending = new Map<string, { labels: Partial<Record<T, string | number>>; value: number }>();
  const counter: Counter<T> = new Counter<T>({
    ...config,
    collect() {
      for (const { labels, value } of pending.values()) add(labels, value);
      pending.clear();
    },
  });
  const add = counter.inc.bind(counter) as (labels: Partial<Record<T, string | number>>, value: number) => void;
  counter.inc = ((labels?: Partial<Record<T, string | number>> | number, value?: number) => {
    if (labels === undefined || typeof labels === 'number') return add({}, labels ?? 1);
    let key = '';
    for (const name of config.labelNames) key += `${labels[name] ?? '\u0001'}\u0000`;
    const entry = pending.get(key);
    if (entry) entry.value += value ?? 1;
    else pending.set(key, { labels: { ...labels }, value: value ?? 1 });
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
