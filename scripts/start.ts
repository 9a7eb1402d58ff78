/**
 * `npm start`: one command for a working Meshflow. It checks its ports, finds or starts a
 * database (embedded PostgreSQL when DATABASE_URL is unset), applies migrations, seeds a
 * fresh database, builds the studio when the build is missing or stale, then runs studio
 * and worker with their logs combined, restarts either when it crashes (with backoff), and on
 * Ctrl-C stops both before the database.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { z } from 'zod';
import { applyMigrations, readMigrations } from '../prisma/migrator';
import { describeDbError } from '../runtime/worker/db-errors';
import { startEmbeddedPostgres, type EmbeddedDatabase } from './embedded-postgres';
import { supervise } from './supervise';
import { LOCAL_WORKER_FILE } from '../runtime/worker/local-env';

const root = fileURLToPath(new URL('..', import.meta.url));

const launcherSchema = z.object({
  PORT: z.coerce.number().int().min(1).max(65535).default(3000),
  WORKER_PORT: z.coerce.number().int().min(1).max(65535).default(8080),
  // An empty value counts as unset, so `DATABASE_URL= npm start` forces the embedded database.
  DATABASE_URL: z.preprocess(
    (v) => (v === '' ? undefined : v),
    z
      .string()
      .url('must be a postgresql:// URL')
      .refine((u) => /^postgres(ql)?:\/\//.test(u), 'must be a postgres:// or postgresql:// URL')
      .optional(),
  ),
  MESHFLOW_DATA_DIR: z.string().min(1).default('.data'),
  MESHFLOW_EMBEDDED_PG_PORT: z.coerce.number().int().min(1).max(65535).default(54329),
});

function say(message: string): void {
  process.stdout.write(`meshflow │ ${message}\n`);
}

function fail(message: string): never {
  process.stderr.write(`meshflow: ${message}\n`);
  process.exit(1);
}

async function ensurePortFree(port: number, variable: string, what: string): Promise<void> {
  await new Promise<void>((done) => {
    const probe = createServer();
    probe.once('error', (error: NodeJS.ErrnoException) => {
      fail(
        error.code === 'EADDRINUSE'
          ? `port ${port} (${what}) is already in use; stop what uses it or set ${variable} to a free port`
          : `cannot use port ${port} (${what}): ${error.message}`,
      );
    });
    probe.listen(port, '0.0.0.0', () => probe.close(() => done()));
  });
}

/** Secrets a local install needs; generated once and kept in the data dir unless given. */
function localSecrets(dataDir: string): { MESHFLOW_AUTH_SECRET: string; MESHFLOW_SECRET_KEY: string } {
  const file = join(dataDir, 'secrets.json');
  if (existsSync(file)) return JSON.parse(readFileSync(file, 'utf8'));
  const secrets = {
    MESHFLOW_AUTH_SECRET: randomBytes(32).toString('base64url'),
    MESHFLOW_SECRET_KEY: randomBytes(32).toString('base64'),
  };
  writeFileSync(file, JSON.stringify(secrets, null, 2), { mode: 0o600 });
  return secrets;
}

function newestSourceTime(): number {
  let newest = 0;
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else newest = Math.max(newest, statSync(path).mtimeMs);
    }
  };
  // The studio bundles runtime/ (compiler, node definitions, engine) and the generated Prisma client too.
  for (const dir of ['app', 'components', 'server', 'runtime', 'prisma']) if (existsSync(join(root, dir))) walk(join(root, dir));
  for (const file of ['next.config.ts', 'package.json', 'postcss.config.mjs']) {
    if (existsSync(join(root, file))) newest = Math.max(newest, statSync(join(root, file)).mtimeMs);
  }
  return newest;
}

function buildStudioIfNeeded(): void {
  const buildId = join(root, process.env.MESHFLOW_NEXT_DIST ?? '.next', 'BUILD_ID');
  if (existsSync(buildId) && statSync(buildId).mtimeMs >= newestSourceTime()) return;
  say(existsSync(buildId) ? 'studio sources changed; rebuilding…' : 'building the studio (first start)…');
  const result = spawnSync(process.execPath, [join(root, 'node_modules/next/dist/bin/next'), 'build'], {
    cwd: root,
    stdio: 'inherit',
    env: { ...process.env, NEXT_TELEMETRY_DISABLED: '1' },
  });
  if (result.status !== 0) fail('the studio build failed (see the output above)');
}

/** The worker's command line: its compiled bundle, rebuilt when sources changed; tsx when it cannot be built. */
async function workerEntry(): Promise<string[]> {
  // @ts-expect-error: a plain .mjs script without type declarations
  const { buildIsFresh, ensureBuild } = (await import('./build-cli.mjs')) as { buildIsFresh: (t: string) => boolean; ensureBuild: (t: string) => Promise<string | undefined> };
  if (!buildIsFresh('worker')) say('compiling the worker…');
  const built = await ensureBuild('worker');
  if (built) return [built];
  say('the worker could not be compiled; running it from its TypeScript sources');
  return ['--import', 'tsx', join(root, 'runtime/worker/main.ts')];
}

function pipeLines(child: ChildProcess, label: string): void {
  const prefix = `${label.padEnd(8)} │ `;
  for (const [stream, out] of [
    [child.stdout, process.stdout],
    [child.stderr, process.stderr],
  ] as const) {
    let rest = '';
    stream?.setEncoding('utf8');
    stream?.on('data', (chunk: string) => {
      const lines = (rest + chunk).split('\n');
      rest = lines.pop() ?? '';
      for (const line of lines) out.write(prefix + line + '\n');
    });
    stream?.on('end', () => rest && out.write(prefix + rest + '\n'));
  }
}

async function waitForHttp(url: string, timeoutMs: number): Promise<boolean> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(2000), redirect: 'manual' });
      if (res.status < 500) return true;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  return false;
}

async function main(): Promise<void> {
  const parsed = launcherSchema.safeParse(process.env);
  if (!parsed.success) {
    fail(`invalid configuration\n${parsed.error.issues.map((i) => `  - ${i.path.join('.')}: ${i.message}`).join('\n')}`);
  }
  const config = parsed.data;
  const dataDir = resolve(root, config.MESHFLOW_DATA_DIR);
  mkdirSync(dataDir, { recursive: true });

  await ensurePortFree(config.PORT, 'PORT', 'studio');
  await ensurePortFree(config.WORKER_PORT, 'WORKER_PORT', 'worker');

  let embedded: EmbeddedDatabase | undefined;
  let databaseUrl = config.DATABASE_URL;
  if (!databaseUrl) {
    await ensurePortFree(config.MESHFLOW_EMBEDDED_PG_PORT, 'MESHFLOW_EMBEDDED_PG_PORT', 'embedded PostgreSQL');
    say(`DATABASE_URL is unset: starting embedded PostgreSQL (data in ${join(config.MESHFLOW_DATA_DIR, 'postgres')})`);
    try {
      embedded = await startEmbeddedPostgres(join(dataDir, 'postgres'), config.MESHFLOW_EMBEDDED_PG_PORT);
    } catch (error) {
      fail(`the embedded PostgreSQL did not start: ${(error as Error).message}`);
    }
    databaseUrl = embedded.url;
  }

  const probe = new pg.Client({ connectionString: databaseUrl, connectionTimeoutMillis: 5000 });
  try {
    await probe.connect();
    await probe.query('SELECT 1');
  } catch (error) {
    await embedded?.stop();
    fail(describeDbError(error, databaseUrl));
  } finally {
    await probe.end().catch(() => {});
  }

  let applied: string[];
  try {
    applied = await applyMigrations(databaseUrl);
  } catch (error) {
    await embedded?.stop();
    fail((error as Error).message);
  }
  say(applied.length ? `applied ${applied.length} migration(s): ${applied.join(', ')}` : 'database schema is up to date');

  const secrets = {
    ...localSecrets(dataDir),
    ...(process.env.MESHFLOW_AUTH_SECRET ? { MESHFLOW_AUTH_SECRET: process.env.MESHFLOW_AUTH_SECRET } : {}),
    ...(process.env.MESHFLOW_SECRET_KEY ? { MESHFLOW_SECRET_KEY: process.env.MESHFLOW_SECRET_KEY } : {}),
  };
  const env = {
    ...process.env,
    ...secrets,
    DATABASE_URL: databaseUrl,
    PORT: String(config.PORT),
    WORKER_PORT: String(config.WORKER_PORT),
    MESHFLOW_WORKER_URL: process.env.MESHFLOW_WORKER_URL ?? `http://127.0.0.1:${config.WORKER_PORT}`,
    MESHFLOW_WORKER_MIGRATE: 'false',
    // The worker drains within the 10 s this launcher gives it on Ctrl-C.
    MESHFLOW_DRAIN_TIMEOUT_MS: process.env.MESHFLOW_DRAIN_TIMEOUT_MS ?? '8000',
    NEXT_TELEMETRY_DISABLED: '1',
  };
  // More workers on this database: `WORKER_PORT=8081 npm run worker` reads these (runtime/worker/local-env.ts).
  writeFileSync(join(dataDir, LOCAL_WORKER_FILE), JSON.stringify({ DATABASE_URL: databaseUrl, MESHFLOW_SECRET_KEY: secrets.MESHFLOW_SECRET_KEY }, null, 2), { mode: 0o600 });

  const { EnvError, parseEnv, studioEnvSchema } = await import('../server/env');
  try {
    parseEnv(studioEnvSchema, env, 'meshflow studio');
  } catch (error) {
    await embedded?.stop();
    if (error instanceof EnvError) fail(error.message.replace(/^meshflow /, ''));
    throw error;
  }

  // Seeding and the owner from the environment go through the studio's own services.
  const { bootstrap } = await import('../server/services/bootstrap');
  const firstMigration = readMigrations()[0]?.name;
  for (const line of await bootstrap(databaseUrl, env, { seed: !!firstMigration && applied.includes(firstMigration) })) {
    say(line);
  }

  buildStudioIfNeeded();
  const workerCommand = await workerEntry();

  let ready = false;
  let stopping = false;
  const startedOk = () => ready;
  const failedStart = () => void stopAll(1);
  const run = (name: string, args: string[]) =>
    supervise({
      name,
      start: () => {
        const child = spawn(process.execPath, args, { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
        pipeLines(child, name);
        return child;
      },
      say,
      startedOk,
      onFailedStart: failedStart,
    });
  const studio = run('studio', [join(root, 'node_modules/next/dist/bin/next'), 'start', '-p', String(config.PORT)]);
  const worker = run('worker', workerCommand);

  const stopAll = async (code: number) => {
    if (stopping) return;
    stopping = true;
    say('stopping studio and worker…');
    // Studio and worker first, so nothing is still talking to the database when it goes.
    await Promise.all([studio.stop(), worker.stop()]);
    if (embedded) {
      say('stopping embedded PostgreSQL…');
      await embedded.stop();
    }
    say('stopped');
    process.exit(code);
  };
  process.on('SIGINT', () => void stopAll(0));
  process.on('SIGTERM', () => void stopAll(0));
  process.on('SIGHUP', () => void stopAll(0));

  const [studioUp, workerUp] = await Promise.all([
    waitForHttp(`http://127.0.0.1:${config.PORT}/sign-in`, 60_000),
    waitForHttp(`http://127.0.0.1:${config.WORKER_PORT}/ready`, 60_000),
  ]);
  ready = true;
  if (studioUp && workerUp && !stopping) {
    say(`ready: studio http://localhost:${config.PORT} · worker http://localhost:${config.WORKER_PORT} (Ctrl-C stops both)`);
    say(`more workers on this database: WORKER_PORT=${config.WORKER_PORT + 1} npm run worker (reads ${join(config.MESHFLOW_DATA_DIR, LOCAL_WORKER_FILE)})`);
  }
}

await main();
