/**
 * What the worker serves: the active deployments, loaded at start and refreshed whenever the
 * database announces a change on the "meshflow_deployments" channel (migration
 * deployment_notify). The LISTEN connection reconnects with backoff; after a reconnect the
 * whole set is reloaded, since notifications sent while disconnected are gone.
 */
import pg from 'pg';
import type { Logger } from './log';

export const DEPLOYMENTS_CHANNEL = 'meshflow_deployments';

export interface ActiveDeployment {
  id: string;
  flowId: string;
  flowVersionId: string;
  version: number;
  dslYaml: string;
}

export class DeploymentWatcher {
  private active = new Map<string, ActiveDeployment>();
  private listener: pg.Client | undefined;
  private stopped = false;
  private retryMs = 250;
  private reloads = 0;
  private onChange: Array<(all: ActiveDeployment[]) => void> = [];

  constructor(
    private readonly pool: pg.Pool,
    private readonly connectionString: string,
    private readonly log: Logger,
  ) {}

  list(): ActiveDeployment[] {
    return [...this.active.values()];
  }

  /** How many times the set was reloaded (start, notifications, reconnects). */
  get reloadCount(): number {
    return this.reloads;
  }

  subscribe(listener: (all: ActiveDeployment[]) => void): void {
    this.onChange.push(listener);
  }

  async start(): Promise<void> {
    await this.connect();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.listener?.end().catch(() => {});
  }

  private async connect(): Promise<void> {
    const client = new pg.Client({ connectionString: this.connectionString });
    client.on('error', (error) => this.reconnect(client, error));
    client.on('end', () => this.reconnect(client, new Error('connection ended')));
    client.on('notification', () => {
      this.reload().catch((error) => this.log('error', 'reloading deployments failed', { error: String(error) }));
    });
    await client.connect();
    await client.query(`LISTEN ${DEPLOYMENTS_CHANNEL}`);
    this.listener = client;
    this.retryMs = 250;
    await this.reload();
  }

  private reconnect(client: pg.Client, error: Error): void {
    if (this.stopped || this.listener !== client) return;
    this.listener = undefined;
    this.log('warn', 'deployment listener lost its connection; reconnecting', { error: error.message });
    const attempt = () => {
      if (this.stopped) return;
      this.connect().catch((e: Error) => {
        this.retryMs = Math.min(this.retryMs * 2, 10_000);
        this.log('warn', 'reconnect failed', { error: e.message, retryInMs: this.retryMs });
        setTimeout(attempt, this.retryMs);
      });
    };
    setTimeout(attempt, this.retryMs);
  }

  private async reload(): Promise<void> {
    const { rows } = await this.pool.query<ActiveDeployment>(
      `SELECT d.id, d."flowId", d."flowVersionId", v.version, v."dslYaml"
         FROM deployment d JOIN flow_version v ON v.id = d."flowVersionId"
        WHERE d.status = 'active'`,
    );
    const before = new Set(this.active.keys());
    this.active = new Map(rows.map((r) => [r.id, r]));
    this.reloads += 1;
    const added = rows.filter((r) => !before.has(r.id));
    const removed = [...before].filter((id) => !this.active.has(id));
    if (added.length || removed.length) {
      this.log('info', 'deployments changed', { active: rows.length, added: added.length, removed: removed.length });
    }
    for (const listener of this.onChange) listener(this.list());
  }
}
