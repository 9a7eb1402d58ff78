/**
 * What the worker serves: the active deployments, loaded at start and refreshed whenever the
 * database announces a change on the "meshflow_deployments" channel (migration
 * deployment_notify). The LISTEN connection reconnects with backoff; after a reconnect the
 * whole set is reloaded, since notifications sent while disconnected are gone.
 */
import pg from 'pg';
import { ChannelListener } from './channel-listener';
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
  private readonly listener: ChannelListener;
  private reloads = 0;
  private onChange: Array<(all: ActiveDeployment[]) => void> = [];

  constructor(
    private readonly pool: pg.Pool,
    connectionString: string,
    private readonly log: Logger,
  ) {
    this.listener = new ChannelListener({ connectionString, channel: DEPLOYMENTS_CHANNEL, what: 'deployment listener', changed: () => this.reload(), log });
  }

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
    await this.listener.start();
  }

  async stop(): Promise<void> {
    await this.listener.stop();
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
