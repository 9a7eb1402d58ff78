/**
 * A LISTEN connection that comes back. It calls `changed` on every notification on its
 * channel and after every (re)connect, since notifications sent while it was disconnected are
 * gone; a lost connection is retried with exponential backoff. The worker watches deployments,
 * connectors and secrets this way.
 */
import pg from 'pg';
import type { Logger } from './log';

export interface ChannelListenerOptions {
  connectionString: string;
  channel: string;
  /** Named in the log: "deployment listener lost its connection". */
  what: string;
  changed: () => Promise<void>;
  log: Logger;
}

const FIRST_RETRY_MS = 250;
const MAX_RETRY_MS = 10_000;

export class ChannelListener {
  private client: pg.Client | undefined;
  private stopped = false;
  private retryMs = FIRST_RETRY_MS;

  constructor(private readonly options: ChannelListenerOptions) {}

  /** Connects, listens and reads the current state once; fails when the database cannot be reached. */
  async start(): Promise<void> {
    await this.connect();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.client?.end().catch(() => {});
  }

  private changed(): Promise<void> {
    return this.options.changed().catch((error: Error) => this.options.log('warn', `${this.options.what}: reloading after a change failed`, { error: error.message }));
  }

  private async connect(): Promise<void> {
    const client = new pg.Client({ connectionString: this.options.connectionString });
    client.on('error', (error) => this.lost(client, error));
    client.on('end', () => this.lost(client, new Error('connection ended')));
    client.on('notification', () => void this.changed());
    await client.connect();
    await client.query(`LISTEN ${this.options.channel}`);
    this.client = client;
    this.retryMs = FIRST_RETRY_MS;
    await this.options.changed();
  }

  private lost(client: pg.Client, error: Error): void {
    if (this.stopped || this.client !== client) return;
    this.client = undefined;
    this.options.log('warn', `${this.options.what} lost its connection; reconnecting`, { error: error.message });
    const attempt = () => {
      if (this.stopped) return;
      this.connect().catch((e: Error) => {
        this.retryMs = Math.min(this.retryMs * 2, MAX_RETRY_MS);
        this.options.log('warn', `${this.options.what} reconnect failed`, { error: e.message, retryInMs: this.retryMs });
        setTimeout(attempt, this.retryMs).unref();
      });
    };
    setTimeout(attempt, this.retryMs).unref();
  }
}
