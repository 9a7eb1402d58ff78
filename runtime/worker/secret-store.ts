/**
 * The secrets users defined (table `secret`), decrypted and held by the worker for the three
 * things that read them: `$secrets` of a run (only the names its `use.secrets` declares),
 * webhook sources that authenticate with a secret, and the masking of run records. Edits
 * arrive through LISTEN "meshflow_secrets"; a run that names a secret not yet known reloads
 * first, so a secret created a moment ago is found. Nothing here reads the environment.
 */
import pg from 'pg';
import { secretMasker, type Masker } from '../secrets/mask.ts';
import { undefinedSecretsMessage } from '../secrets/names.ts';
import { openSecret } from '../secrets/seal.ts';
import { ChannelListener } from './channel-listener';
import type { Logger } from './log.ts';

const CHANNEL = 'meshflow_secrets';

export interface SecretStoreDeps {
  pool: pg.Pool;
  connectionString: string;
  /** MESHFLOW_SECRET_KEY; without it no secret can be read. */
  secretKey: Buffer | undefined;
  log: Logger;
}

export class SecretStore {
  private values = new Map<string, string>();
  /** Secrets that exist but cannot be opened, with why. */
  private unreadable = new Map<string, string>();
  private mask: Masker = secretMasker([]);
  private readonly listener: ChannelListener;
  private loading: Promise<void> | undefined;

  constructor(private readonly deps: SecretStoreDeps) {
    this.listener = new ChannelListener({ connectionString: deps.connectionString, channel: CHANNEL, what: 'secret listener', changed: () => this.reload(), log: deps.log });
  }

  async start(): Promise<void> {
    await this.listener.start();
  }

  async stop(): Promise<void> {
    await this.listener.stop();
  }

  /** A webhook's secret, from what is loaded (synchronous: ingress checks it per request). */
  lookup = (name: string): string | undefined => this.values.get(name);

  /** Masks every loaded secret value in a value about to be recorded. */
  masker(): Masker {
    return this.mask;
  }

  /** The named secrets; throws naming those that are not defined or cannot be read. */
  async resolve(names: string[]): Promise<Record<string, string>> {
    if (names.some((n) => !this.values.has(n))) await this.reload();
    const found: Record<string, string> = {};
    const missing: string[] = [];
    for (const name of names) {
      const value = this.values.get(name);
      if (value !== undefined) found[name] = value;
      else if (this.unreadable.has(name)) throw new Error(`secret "${name}" cannot be read: ${this.unreadable.get(name)}`);
      else missing.push(name);
    }
    if (missing.length > 0) throw new Error(undefinedSecretsMessage(missing));
    return found;
  }

  /** Reads every secret again; concurrent callers share one read. */
  reload(): Promise<void> {
    this.loading ??= this.load().finally(() => {
      this.loading = undefined;
    });
    return this.loading;
  }

  private async load(): Promise<void> {
    const { rows } = await this.deps.pool.query<{ name: string; value: string }>('SELECT name, value FROM secret');
    const values = new Map<string, string>();
    const unreadable = new Map<string, string>();
    for (const row of rows) {
      if (!this.deps.secretKey) {
        unreadable.set(row.name, 'MESHFLOW_SECRET_KEY is not set on this worker');
        continue;
      }
      try {
        values.set(row.name, openSecret(this.deps.secretKey, row.name, row.value));
      } catch (error) {
        unreadable.set(row.name, `it does not decrypt with this worker's MESHFLOW_SECRET_KEY (${(error as Error).message})`);
      }
    }
    if (unreadable.size > 0 && unreadable.size !== this.unreadable.size) {
      this.deps.log('warn', 'some secrets cannot be read', { secrets: [...unreadable.keys()], reason: [...unreadable.values()][0] });
    }
    this.values = values;
    this.unreadable = unreadable;
    this.mask = secretMasker(values.values());
  }
}
