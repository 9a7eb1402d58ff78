/**
 * The data plane of one worker, started with one call: subscriptions compiled from the
 * active deployments (recompiled only for deployments it has not seen, since a deployed
 * version never changes), the group-committing event log, the ingress routes, the delivery
 * loop and the retention sweep. Returns the route handler for the HTTP server and a stop.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type pg from 'pg';
import { deploymentOf, type Deployment } from '../compiler/deployment.ts';
import { backlogByDeployment } from '../events/delivery-queue.ts';
import type { EventAppender } from '../events/backend.ts';
import { EventLog, sweepEventLog } from '../events/event-log.ts';
import { startJetStreamBackend, type JetStreamBackend } from '../events/jetstream/backend.ts';
import { HttpDeliverer } from '../events/http-delivery.ts';
import { countRouting, createMetrics } from '../events/metrics.ts';
import { planFromDocument, type DeploymentPlan } from '../events/plan.ts';
import { Subscription, SubscriptionSet, type HookBinding } from '../events/subscriptions.ts';
import type { WorkerConfig } from './config.ts';
import { DeliveryLoop } from './delivery.ts';
import { releaseDeliveryLeases } from './drain.ts';
import { CatalogGate } from '../catalog/gate.ts';
import { BrokerPublishPort } from '../connectors/publish-port.ts';
import { ConnectorHost } from './connectors.ts';
import type { ActiveDeployment, DeploymentWatcher } from './deployments.ts';
import { createIngress } from './ingress.ts';
import { SecretStore } from './secret-store.ts';
import type { Logger } from './log.ts';
import { RunExecutor } from './workflows/executor.ts';
import { RunStartingQueue } from './workflows/run-starter.ts';
import { RunStore } from './workflows/run-store.ts';
import { FlowDefinitions } from './workflows/definitions.ts';
import { Scheduler, timeSchedule, type ScheduledDeployment } from './workflows/scheduler.ts';
import { CompiledTrigger, WorkflowRoutingSet, workflowTrigger, type WorkflowTrigger } from '../runs/triggers.ts';
import { ProcessScriptRunner } from '../engine/host/script-runner.ts';

export interface DataPlane {
  handle: (req: IncomingMessage, res: ServerResponse) => boolean;
  /** With `drainMs`, in-flight deliveries get that long to finish; the rest are handed back to the queue. */
  stop: (options?: { drainMs?: number }) => Promise<void>;
}

interface DeploymentRow {
  id: string;
  flowId: string;
  dslYaml: string;
}

/** A workflow deployment started by events carries its trigger; one started by the clock, its schedule. */
type Compiled = {
  plan: DeploymentPlan;
  subscription: Subscription | string;
  trigger?: { definition: WorkflowTrigger; compiled: CompiledTrigger };
  schedule?: ScheduledDeployment['schedule'];
};

const SWEEP_EVERY_MS = 60_000;
const SWEEP_LOCK = 7_246_002;

export async function startDataPlane(deps: { pool: pg.Pool; watcher: DeploymentWatcher; config: WorkerConfig; log: Logger }): Promise<DataPlane> {
  const { pool, config, log } = deps;
  const compiled = new Map<string, Promise<Compiled>>();

  function compile(row: DeploymentRow): Promise<Compiled> {
    let entry = compiled.get(row.id);
    if (!entry) {
      entry = (async (): Promise<Compiled> => {
        let plan: DeploymentPlan;
        let doc: Deployment;
        try {
          doc = deploymentOf(row);
          plan = planFromDocument(doc);
        } catch (error) {
          return { plan: { kind: 'workflow', reason: 'unreadable', hooks: [] }, subscription: `deployment ${row.id} cannot be read: ${(error as Error).message}` };
        }
        if (plan.kind === 'workflow') {
          const subscription = `deployment ${row.id} is a workflow (${plan.reason}), not a pipeline`;
          const definition = workflowTrigger(doc);
          if (!definition) {
            try {
              return { plan, subscription, schedule: timeSchedule(doc) };
            } catch (error) {
              log('error', 'workflow not scheduled: its schedule is malformed', { deployment: row.id, error: (error as Error).message });
              return { plan, subscription };
            }
          }
          try {
            return { plan, subscription, trigger: { definition, compiled: await CompiledTrigger.compile(row.id, definition, row.flowId) } };
          } catch (error) {
            log('error', 'workflow not started by events: its trigger filter does not compile', { deployment: row.id, error: (error as Error).message });
            return { plan, subscription };
          }
        }
        try {
          return { plan, subscription: await Subscription.compile({ id: row.id, flowId: row.flowId }, plan) };
        } catch (error) {
          log('error', 'deployment not routed: its filters or transforms do not compile', { deployment: row.id, error: (error as Error).message });
          return { plan, subscription: `deployment ${row.id} does not compile: ${(error as Error).message}` };
        }
      })();
      compiled.set(row.id, entry);
    }
    return entry;
  }

  let current = SubscriptionSet.empty;
  /** Deployments routed as pipelines (not workflows), with their flows: their deliveries can be handed to the loop directly. */
  let pipelines = new Map<string, string>();
  let generation = 0;
  async function refresh(active: ActiveDeployment[]): Promise<void> {
    const mine = ++generation;
    const results = await Promise.all(active.map(async (d) => ({ d, c: await compile(d) })));
    if (mine !== generation) return;
    const hooks = new Map<string, HookBinding>();
    const subscriptions: Subscription[] = [];
    const triggers: CompiledTrigger[] = [];
    const scheduled: ScheduledDeployment[] = [];
    for (const { d, c } of results) {
      if (typeof c.subscription !== 'string') subscriptions.push(c.subscription);
      if (c.trigger) triggers.push(c.trigger.compiled);
      if (c.schedule) scheduled.push({ id: d.id, schedule: c.schedule });
      for (const source of c.plan.hooks) {
        if (hooks.has(source.id)) log('warn', 'two deployments claim one webhook; the first keeps it', { hook: source.id, deployment: d.id });
        else hooks.set(source.id, { deploymentId: d.id, source });
      }
    }
    current = new WorkflowRoutingSet(subscriptions, hooks, triggers);
    pipelines = new Map(subscriptions.map((s) => [s.deployment.id, s.deployment.flowId]));
    scheduler.setDeployments(scheduled);
  }

  /** Deliveries outlive redeploys: a draining or stopped deployment's rows still go out. */
  async function compiledFor(deploymentId: string): Promise<Compiled | string> {
    const known = compiled.get(deploymentId);
    if (known) return known;
    const { rows } = await pool.query<DeploymentRow>(
      `SELECT d.id, d."flowId", v."dslYaml" FROM deployment d JOIN flow_version v ON v.id = d."flowVersionId" WHERE d.id = $1`,
      [deploymentId],
    );
    if (!rows[0]) return `deployment ${deploymentId} no longer exists`;
    return compile(rows[0]);
  }

  async function subscriptionFor(deploymentId: string): Promise<Subscription | string> {
    const c = await compiledFor(deploymentId);
    return typeof c === 'string' ? c : c.subscription;
  }

  // Every routed deployment reports a backlog, zero included: autoscalers need the series to exist.
  const metrics = createMetrics(async () => {
    const counts = await backlogByDeployment(pool);
    if (jetStream) for (const [id, n] of await jetStream.deliveries.backlog()) counts.set(id, (counts.get(id) ?? 0) + n);
    for (const s of current.subscriptions) if (!counts.has(s.deployment.id)) counts.set(s.deployment.id, 0);
    return counts;
  });
  const eventLog = new EventLog(pool, {
    onCommit: (size, queued) => {
      metrics.commitBatch.observe(size);
      if (queued > 0) loop.wake();
    },
    onStored: (entries) => countRouting(metrics, entries, (deploymentId) => pipelines.get(deploymentId)),
    // This worker sends the pipeline deliveries its own ingress queues, while its loop has room.
    lease: {
      owner: config.MESHFLOW_WORKER_ID,
      ms: config.MESHFLOW_DELIVERY_LEASE_MS,
      direct: (route) => route.orderingKey === null && pipelines.has(route.deploymentId),
      reserve: (wanted) => loop.reserve(wanted),
      adopt: (deliveries, reserved) => loop.adopt(deliveries, reserved),
    },
    // Delivery outcomes ride on the next append: one commit for both.
    completions: () => loop.takeCompletions(),
  });
  // With MESHFLOW_EVENT_BACKEND=jetstream, pipeline events and their deliveries go through JetStream;
  // events for workflow deployments and studio replays keep to PostgreSQL (runs start from there).
  let jetStream: JetStreamBackend | undefined;
  let jetStreamLoop: DeliveryLoop | undefined;
  if (config.MESHFLOW_EVENT_BACKEND === 'jetstream') {
    jetStream = await startJetStreamBackend({
      servers: config.MESHFLOW_NATS_URL.split(',').map((s) => s.trim()),
      prefix: config.MESHFLOW_JETSTREAM_PREFIX,
      storage: config.MESHFLOW_JETSTREAM_STORAGE,
      replicas: config.MESHFLOW_JETSTREAM_REPLICAS,
      retentionMs: config.MESHFLOW_EVENT_RETENTION_HOURS * 3_600_000,
      dedupeWindowMs: config.MESHFLOW_JETSTREAM_DEDUPE_WINDOW_MS,
      leaseMs: config.MESHFLOW_DELIVERY_LEASE_MS,
      pool,
      concurrency: config.MESHFLOW_DELIVERY_CONCURRENCY,
      postgres: eventLog,
      isPipeline: (deploymentId) => pipelines.has(deploymentId),
      wake: () => jetStreamLoop?.wake(),
      onCommit: (size) => metrics.commitBatch.observe(size),
      onStored: (entries) => countRouting(metrics, entries, (deploymentId) => pipelines.get(deploymentId)),
      log,
    });
  }
  const appender: EventAppender = jetStream?.appender ?? eventLog;
  const secretKey = config.MESHFLOW_SECRET_KEY === undefined ? undefined : Buffer.from(config.MESHFLOW_SECRET_KEY, 'base64');
  // `$secrets` and webhook keys come from the secrets users defined, never from this process's environment.
  const secrets = new SecretStore({ pool, connectionString: config.DATABASE_URL, secretKey, log });
  await secrets.start();
  const deliverer = new HttpDeliverer();
  const brokers = new BrokerPublishPort();
  const definitions = new FlowDefinitions(pool);
  const executor = new RunExecutor({
    store: new RunStore(pool, config.MESHFLOW_WORKER_ID, config.MESHFLOW_RUN_LEASE_MS),
    definitions,
    ports: {
      pool,
      eventLog: appender,
      routing: () => current,
      secrets,
      workflows: definitions,
      asyncapi: brokers,
      // `run: script` only where an administrator enabled it, and then in a locked-down child process.
      ...(config.MESHFLOW_SCRIPTS === 'enabled' ? { scripts: new ProcessScriptRunner({ timeoutMs: config.MESHFLOW_SCRIPT_TIMEOUT_MS, memoryMb: config.MESHFLOW_SCRIPT_MEMORY_MB }) } : {}),
      pollMs: config.MESHFLOW_RUN_POLL_MS,
      publishLifecycle: config.MESHFLOW_RUN_LIFECYCLE_EVENTS,
      log,
    },
    log,
    concurrency: config.MESHFLOW_RUN_CONCURRENCY,
    pollMs: config.MESHFLOW_RUN_POLL_MS,
    leaseMs: config.MESHFLOW_RUN_LEASE_MS,
    parkAfterMs: config.MESHFLOW_RUN_PARK_AFTER_MS,
    triggerOf: async (deploymentId) => {
      const c = await compiledFor(deploymentId);
      return typeof c === 'string' ? undefined : c.trigger?.definition;
    },
  });
  const scheduler = new Scheduler({ pool, log, pollMs: Math.max(config.MESHFLOW_RUN_POLL_MS, 100), started: () => executor.wake() });
  const loop = new DeliveryLoop({
    // Rows of workflow deployments become runs; the loop only sees pipeline rows.
    queue: new RunStartingQueue(pool, config.MESHFLOW_WORKER_ID, config.MESHFLOW_DELIVERY_LEASE_MS, {
      isWorkflow: async (deploymentId) => {
        const c = await compiledFor(deploymentId);
        return typeof c !== 'string' && c.plan.kind === 'workflow';
      },
      started: () => executor.wake(),
      allOf: async (deploymentId) => {
        const c = await compiledFor(deploymentId);
        return typeof c === 'string' ? undefined : c.trigger?.compiled.all;
      },
      log,
    }),
    deliverer,
    subscriptionFor,
    metrics,
    log,
    concurrency: config.MESHFLOW_DELIVERY_CONCURRENCY,
    pollMs: config.MESHFLOW_DELIVERY_POLL_MS,
  });

  if (jetStream) {
    jetStreamLoop = new DeliveryLoop({
      queue: jetStream.deliveries,
      deliverer,
      subscriptionFor,
      metrics,
      log,
      concurrency: config.MESHFLOW_DELIVERY_CONCURRENCY,
      pollMs: config.MESHFLOW_DELIVERY_POLL_MS,
    });
  }

  const catalog = new CatalogGate(pool, log);
  await catalog.start();
  // Broker sources start once their flow's subscription is in place, so no event goes unrouted.
  const connectors = new ConnectorHost({
    catalog,
    pool,
    connectionString: config.DATABASE_URL,
    eventLog: appender,
    subscriptions: () => current,
    log,
    workerId: config.MESHFLOW_WORKER_ID,
    secretKey,
  });
  deps.watcher.subscribe((active) => {
    refresh(active)
      .then(() => connectors.setDeployments(active))
      .catch((error: Error) => log('error', 'compiling subscriptions failed', { error: error.message }));
  });
  await refresh(deps.watcher.list());
  connectors.setDeployments(deps.watcher.list());
  await connectors.start();
  loop.start();
  jetStreamLoop?.start();
  executor.start();
  scheduler.start();

  // One worker at a time sweeps; the others skip the round.
  const retentionMs = config.MESHFLOW_EVENT_RETENTION_HOURS * 3_600_000;
  const sweeper = setInterval(() => {
    void (async () => {
      const client = await pool.connect();
      try {
        const { rows } = await client.query<{ locked: boolean }>('SELECT pg_try_advisory_lock($1) AS locked', [SWEEP_LOCK]);
        if (!rows[0]?.locked) return;
        try {
          const removed = await sweepEventLog(pool, retentionMs);
          if (removed > 0) log('info', 'event log retention', { removed });
        } finally {
          await client.query('SELECT pg_advisory_unlock($1)', [SWEEP_LOCK]);
        }
      } finally {
        client.release();
      }
    })().catch((error: Error) => log('warn', 'event log retention failed', { error: error.message }));
  }, SWEEP_EVERY_MS);
  sweeper.unref();

  const handle = createIngress({
    subscriptions: () => current,
    eventLog: appender,
    metrics,
    secrets: secrets.lookup,
    maxBodyBytes: config.MESHFLOW_MAX_EVENT_BYTES,
    bodyTimeoutMs: config.MESHFLOW_BODY_TIMEOUT_MS,
    metricsToken: config.MESHFLOW_METRICS_TOKEN,
    log,
    catalog,
  });

  return {
    handle,
    stop: async (options) => {
      clearInterval(sweeper);
      await scheduler.stop();
      await connectors.stop();
      await catalog.stop();
      const inFlight = loop.inFlightCount + (jetStreamLoop?.inFlightCount ?? 0);
      const [drained, jetStreamDrained] = await Promise.all([loop.stop(options?.drainMs), jetStreamLoop?.stop(options?.drainMs) ?? true]);
      // JetStream: what this worker still holds goes back (nak), due at once for the other workers.
      const handedBack = (await jetStream?.release().catch((error: Error) => {
        log('warn', 'handing back JetStream deliveries failed; they go out again when their ack wait ends', { error: error.message });
        return 0;
      })) ?? 0;
      if (options?.drainMs !== undefined) {
        const released =
          handedBack +
          (await releaseDeliveryLeases(pool, config.MESHFLOW_WORKER_ID).catch((error: Error) => {
            log('warn', 'handing back deliveries failed; they go out again when their lease ends', { error: error.message });
            return 0;
          }));
        log('info', drained && jetStreamDrained ? 'deliveries drained' : 'drain deadline reached; the rest handed back', { inFlight, released, drainMs: options.drainMs });
      }
      await executor.stop();
      // After the executor: a stopping run may still append lifecycle events.
      await jetStream?.close().catch((error: Error) => log('warn', 'closing the JetStream connection failed', { error: error.message }));
      await brokers.close();
      await secrets.stop();
      deliverer.close();
    },
  };
}
