/**
 * The connector host: runs the source connectors this worker owes the mesh and keeps their
 * live status in `connector_instance`.
 *
 * Two things ask for a consumer: a connector deployed from the studio's gallery (ingress
 * `connector:<id>`; its events reach flows that listen on any ingress, and the Events page),
 * and a broker source node in a deployed flow (ingress `<kind>:<node id>`, as the flow's plan
 * expects). A flow's source may name a configured connector in its `connection` field to
 * reuse that connector's URL and credentials.
 *
 * For every message: map to a CloudEvent → commit to the event log (routes computed as HTTP
 * ingress does) → only then settle (ack) it. A session that fails is reconnected with capped
 * exponential backoff. Deploy/undeploy and edits arrive through LISTEN "meshflow_connectors".
 */
import pg from 'pg';
import { deploymentOf } from '../compiler/deployment.ts';
import { egressRefusal } from '../net/egress.ts';
import { connectionBinding, connectorKind, driverFor, parseConnectorConfig, type ConnectorConfig, type ConnectorSecrets, type Inbound } from '../connectors/index.ts';
import { decryptSecrets } from '../connectors/secrets.ts';
import { ChannelListener } from './channel-listener';
import type { CatalogGate } from '../catalog/gate.ts';
import { IngressError } from '../events/cloudevent.ts';
import type { EventAppender } from '../events/backend.ts';
import type { SubscriptionSet } from '../events/subscriptions.ts';
import type { ActiveDeployment } from './deployments.ts';
import type { Logger } from './log.ts';

export const CONNECTORS_CHANNEL = 'meshflow_connectors';

const BACKOFF_START_MS = 250;
const BACKOFF_MAX_MS = 10_000;
const STATS_EVERY_MS = 1_000;

export interface ConnectorHostDeps {
  pool: pg.Pool;
  connectionString: string;
  eventLog: EventAppender;
  subscriptions: () => SubscriptionSet;
  log: Logger;
  workerId: string;
  secretKey: Buffer | undefined;
  /** Validation before the commit (a refused message is reported and dropped), discovery after. */
  catalog?: CatalogGate;
}

interface InstanceRow {
  id: string;
  name: string;
  kind: string;
  direction: string;
  config: unknown;
  secrets: string | null;
  deployed: boolean;
}

interface ConsumerSpec {
  key: string;
  kind: string;
  ingress: string;
  config: ConnectorConfig;
  secrets: ConnectorSecrets;
  /** Status rows are written for gallery connectors only. */
  instanceId?: string;
  /** What, when changed, restarts the consumer. */
  fingerprint: string;
}

interface Stats {
  eventsIn: number;
  backlog: number | undefined;
  lastEventAt: Date | undefined;
  dirty: boolean;
}

interface Running {
  spec: ConsumerSpec;
  abort: AbortController;
  done: Promise<void>;
  stats: Stats;
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Broker sources of a deployed flow, from its document's `metadata.meshflow.sources`. */
export function flowSources(deployment: Pick<ActiveDeployment, 'id' | 'dslYaml'>): { id: string; kind: string; connection: Obj }[] {
  let sources;
  try {
    ({ sources } = deploymentOf(deployment));
  } catch {
    return [];
  }
  return sources.flatMap((s) => {
    if (!s.connection) return [];
    const kind = connectorKind(s.kind);
    return kind && kind.direction === 'source' ? [{ id: s.id, kind: s.kind, connection: s.connection }] : [];
  });
}

function wait(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => {
      clearTimeout(timer);
      resolve();
    }, { once: true });
  });
}

export class ConnectorHost {
  private readonly running = new Map<string, Running>();
  private instances: InstanceRow[] = [];
  private deployments: ActiveDeployment[] = [];
  private readonly listener: ChannelListener;
  private stopped = false;
  private statsTimer: NodeJS.Timeout | undefined;
  private reconciling: Promise<void> = Promise.resolve();

  constructor(private readonly deps: ConnectorHostDeps) {
    this.listener = new ChannelListener({ connectionString: deps.connectionString, channel: CONNECTORS_CHANNEL, what: 'connector listener', changed: () => this.reload(), log: deps.log });
  }

  async start(): Promise<void> {
    await this.listener.start();
    this.statsTimer = setInterval(() => void this.flushStats(), STATS_EVERY_MS);
    this.statsTimer.unref();
  }

  /** The flows' broker sources changed (the deployment watcher's callback). */
  setDeployments(active: ActiveDeployment[]): void {
    this.deployments = active;
    this.schedule();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.statsTimer);
    await this.listener.stop();
    await this.reconciling;
    await Promise.all([...this.running.values()].map((r) => this.halt(r)));
    await this.flushStats();
  }

  /** Keys of the consumers running now, for tests and /ready. */
  get consumers(): string[] {
    return [...this.running.keys()];
  }

  private async reload(): Promise<void> {
    try {
      const { rows } = await this.deps.pool.query<InstanceRow>(`SELECT id, name, kind, direction, config, secrets, deployed FROM connector_instance`);
      this.instances = rows;
      this.schedule();
    } catch (error) {
      this.deps.log('error', 'loading connectors failed', { error: (error as Error).message });
    }
  }

  private schedule(): void {
    this.reconciling = this.reconciling.then(() => this.reconcile()).catch((error: Error) => this.deps.log('error', 'starting connectors failed', { error: error.message }));
  }

  private secretsOf(row: InstanceRow): ConnectorSecrets | string {
    if (!row.secrets) return {};
    if (!this.deps.secretKey) return 'MESHFLOW_SECRET_KEY is not set on this worker, so the connector secrets cannot be read';
    try {
      return decryptSecrets(this.deps.secretKey, row.secrets, connectionBinding(row.kind, row.config));
    } catch (error) {
      return `the stored secrets cannot be decrypted: ${(error as Error).message}`;
    }
  }

  /** What should run, or, per gallery connector, why it cannot. */
  private desired(): { specs: Map<string, ConsumerSpec>; broken: Map<string, string> } {
    const specs = new Map<string, ConsumerSpec>();
    const broken = new Map<string, string>();
    const add = (spec: Omit<ConsumerSpec, 'fingerprint'>) => specs.set(spec.key, { ...spec, fingerprint: JSON.stringify([spec.kind, spec.config, spec.secrets]) });
    for (const row of this.instances) {
      if (!row.deployed || row.direction !== 'source') continue;
      const parsed = parseConnectorConfig(row.kind, row.config);
      const secrets = this.secretsOf(row);
      if (!parsed.ok) broken.set(row.id, parsed.problem);
      else if (typeof secrets === 'string') broken.set(row.id, secrets);
      else add({ key: `connector:${row.id}`, kind: row.kind, ingress: `connector:${row.id}`, config: parsed.config, secrets, instanceId: row.id });
    }
    const byName = new Map(this.instances.map((row) => [row.name, row]));
    for (const deployment of this.deployments) {
      for (const source of flowSources(deployment)) {
        let input: Obj = source.connection;
        let secrets: ConnectorSecrets = {};
        const named = typeof input.connection === 'string' ? byName.get(input.connection) : undefined;
        if (named) {
          const own = this.secretsOf(named);
          const base = isObj(named.config) ? named.config : {};
          input = { ...input, connection: base.connection, ...(base.username ? { username: base.username } : {}) };
          if (typeof own !== 'string') secrets = own;
        }
        const parsed = parseConnectorConfig(source.kind, input);
        if (!parsed.ok) {
          this.deps.log('error', 'flow source not started: its configuration is invalid', { deployment: deployment.id, source: source.id, problem: parsed.problem });
          continue;
        }
        const ingress = `${source.kind}:${source.id}`;
        add({ key: `deployment:${deployment.id}:${source.id}`, kind: source.kind, ingress, config: parsed.config, secrets });
      }
    }
    return { specs, broken };
  }

  private async reconcile(): Promise<void> {
    if (this.stopped) return;
    const { specs, broken } = this.desired();
    for (const [key, running] of this.running) {
      const wanted = specs.get(key);
      if (wanted && wanted.fingerprint === running.spec.fingerprint) continue;
      await this.halt(running);
      if (running.spec.instanceId && !wanted) await this.writeStatus(running.spec.instanceId, 'stopped');
    }
    for (const [id, problem] of broken) await this.writeStatus(id, 'failed', problem);
    for (const [key, spec] of specs) if (!this.running.has(key)) this.launch(spec);
  }

  private async halt(running: Running): Promise<void> {
    running.abort.abort();
    this.running.delete(running.spec.key);
    await running.done;
  }

  private launch(spec: ConsumerSpec): void {
    const abort = new AbortController();
    const stats: Stats = { eventsIn: 0, backlog: undefined, lastEventAt: undefined, dirty: false };
    const running: Running = { spec, abort, stats, done: Promise.resolve() };
    running.done = this.supervise(running);
    this.running.set(spec.key, running);
  }

  /** Runs sessions until stopped: a failed one is reported and retried with backoff. */
  private async supervise(running: Running): Promise<void> {
    const { spec, abort, stats } = running;
    const driver = driverFor(spec.kind);
    const where = { connector: spec.key, kind: spec.kind };
    if (!driver?.consume) {
      if (spec.instanceId) await this.writeStatus(spec.instanceId, 'failed', `${spec.kind} cannot consume`);
      return;
    }
    const unreadable = (error: Error) => {
      this.deps.log('warn', 'message dropped', { ...where, error: error.message });
      if (spec.instanceId) void this.writeStatus(spec.instanceId, 'connected', `message dropped: ${error.message}`);
    };
    let backoff = BACKOFF_START_MS;
    let attempt = 0;
    while (!abort.signal.aborted) {
      attempt += 1;
      let wasConnected = false;
      if (spec.instanceId) await this.writeStatus(spec.instanceId, attempt === 1 ? 'connecting' : 'reconnecting');
      try {
        await driver.consume({
          config: spec.config,
          secrets: spec.secrets,
          signal: abort.signal,
          consumerName: this.deps.workerId,
          consumerKey: spec.key,
          connected: () => {
            wasConnected = true;
            backoff = BACKOFF_START_MS;
            this.deps.log('info', 'connector connected', where);
            if (spec.instanceId) void this.writeStatus(spec.instanceId, 'connected');
          },
          deliver: (batch) => this.commit(spec, stats, batch, unreadable),
          unreadable,
          backlog: (count) => {
            stats.backlog = count;
            stats.dirty = true;
          },
        });
        if (abort.signal.aborted) break;
        throw new Error('the connection ended');
      } catch (error) {
        if (abort.signal.aborted) break;
        const message = (error as Error).message;
        const refusal = egressRefusal(error);
        if (refusal) {
          // The broker's address is refused by policy: reconnecting cannot help until the connector or the policy changes.
          this.deps.log('warn', 'connector refused by the egress policy', { ...where, error: refusal.message });
          if (spec.instanceId) await this.writeStatus(spec.instanceId, 'failed', refusal.message);
          return;
        }
        if (wasConnected) backoff = BACKOFF_START_MS;
        this.deps.log('warn', 'connector session failed; reconnecting', { ...where, error: message, retryInMs: backoff });
        if (spec.instanceId) await this.writeStatus(spec.instanceId, 'reconnecting', message);
        await wait(backoff, abort.signal);
        backoff = Math.min(backoff * 2, BACKOFF_MAX_MS);
      }
    }
  }

  private async commit(spec: ConsumerSpec, stats: Stats, batch: Inbound[], unreadable: (error: Error) => void): Promise<void> {
    const accepted: Inbound[] = [];
    for (const inbound of batch) {
      try {
        this.deps.catalog?.check([inbound.event]);
        accepted.push(inbound);
      } catch (error) {
        if (!(error instanceof IngressError)) throw error;
        // Redelivering a message its type's schema refuses cannot help: it is dropped, and said so.
        unreadable(error);
        await inbound.settle();
      }
    }
    if (accepted.length === 0) return;
    const set = this.deps.subscriptions();
    // One append per message: the event log still commits them together, but a message the
    // database refuses fails alone instead of taking its batch (and the session) with it.
    const results = await Promise.allSettled(
      accepted.map(async (inbound) => this.deps.eventLog.append([{ event: inbound.event, ingress: spec.ingress, ...(await set.decide(inbound.event, spec.ingress)) }])),
    );
    const outage = results.find((r): r is PromiseRejectedResult => r.status === 'rejected' && !(r.reason instanceof IngressError));
    // The log is unavailable: settle nothing, so the broker redelivers after the reconnect.
    if (outage) throw outage.reason as Error;
    const committed: Inbound[] = [];
    for (const [i, inbound] of accepted.entries()) {
      const result = results[i]!;
      if (result.status === 'rejected') unreadable(result.reason as Error);
      else committed.push(inbound);
      // Committed, or refused for good: only now may the broker forget the message.
      await inbound.settle();
    }
    if (committed.length === 0) return;
    stats.eventsIn += committed.length;
    stats.lastEventAt = new Date();
    stats.dirty = true;
    this.deps.catalog?.observe(committed.map((b) => b.event));
  }

  /** `lastError` undefined keeps the one stored: the last error stays visible after a recovery. */
  private async writeStatus(id: string, status: string, lastError?: string): Promise<void> {
    try {
      await this.deps.pool.query(
        `UPDATE connector_instance SET status = $2, "lastError" = coalesce($3, "lastError"), "statusAt" = now() WHERE id = $1`,
        [id, status, lastError ?? null],
      );
    } catch (error) {
      this.deps.log('warn', 'writing connector status failed', { connector: id, error: (error as Error).message });
    }
  }

  private async flushStats(): Promise<void> {
    for (const running of this.running.values()) {
      const { stats, spec } = running;
      if (!stats.dirty || !spec.instanceId) continue;
      const delta = stats.eventsIn;
      stats.eventsIn = 0;
      stats.dirty = false;
      try {
        await this.deps.pool.query(
          `UPDATE connector_instance SET "eventsIn" = "eventsIn" + $2, backlog = coalesce($3, backlog), "lastEventAt" = coalesce($4, "lastEventAt") WHERE id = $1`,
          [spec.instanceId, delta, stats.backlog ?? null, stats.lastEventAt ?? null],
        );
      } catch (error) {
        stats.eventsIn += delta;
        stats.dirty = true;
        this.deps.log('warn', 'writing connector counters failed', { connector: spec.instanceId, error: (error as Error).message });
      }
    }
  }
}
