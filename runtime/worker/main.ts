/**
 * The runtime worker: a plain Node process with its own HTTP port. It applies pending
 * migrations, watches deployments through LISTEN/NOTIFY, and answers /health and /ready.
 */
import pg from 'pg';
import { applyMigrations, pendingMigrations } from '../../prisma/migrator';
import { loadWorkerConfig } from './config';
import { startDataPlane } from './data-plane';
import { DeploymentWatcher } from './deployments';
import { createWorkerServer } from './http-server';
import { consoleLogger, type Logger } from './log';
import { describeDbError } from './db-errors';
import { initTracing } from '../events/tracing';
import { egressPolicy } from '../net/egress';
import { within } from './drain';
import { LOCAL_WORKER_FILE, localStartEnv } from './local-env';

function fail(message: string): never {
  process.stderr.write(`meshflow worker: ${message}\n`);
  process.exit(1);
}

const local = localStartEnv(process.env);
if (local) process.stderr.write(`meshflow worker: DATABASE_URL unset; using the database and key of \`npm start\` from ${local}\n`);
const loaded = loadWorkerConfig(process.env);
if (!loaded.ok) {
  const hint = process.env.DATABASE_URL
    ? ''
    : `\nTo add a worker to a running \`npm start\`, run \`WORKER_PORT=<free port> npm run worker\` in its directory (it reads ${LOCAL_WORKER_FILE} from MESHFLOW_DATA_DIR, default .data), or set DATABASE_URL and MESHFLOW_SECRET_KEY.`;
  fail(`invalid configuration\n${loaded.problems.map((p) => `  - ${p}`).join('\n')}${hint}`);
}
const config = loaded.config;
const stopTracing = initTracing(process.env, 'meshflow-worker');

// Once shutdown begins, the database may go first (a terminal's Ctrl-C signals every process
// at once): what then fails is counted and summed up in one line, not printed one by one.
let stopping = false;
let quietened = 0;
const log: Logger = (level, message, fields) => {
  if (stopping && level !== 'info') {
    quietened += 1;
    return;
  }
  consoleLogger(level, message, fields);
};

const pool = new pg.Pool({ connectionString: config.DATABASE_URL, max: 10 });
pool.on('error', (error) => log('warn', 'idle database connection failed', { error: error.message }));

try {
  await pool.query('SELECT 1');
} catch (error) {
  fail(describeDbError(error, config.DATABASE_URL));
}

if (config.MESHFLOW_WORKER_MIGRATE) {
  try {
    const applied = await applyMigrations(config.DATABASE_URL);
    if (applied.length) log('info', 'applied migrations', { migrations: applied });
  } catch (error) {
    fail((error as Error).message);
  }
}

const watcher = new DeploymentWatcher(pool, config.DATABASE_URL, log);
await watcher.start();
const dataPlane = await startDataPlane({ pool, watcher, config, log }).catch((error: Error) => fail(error.message));

const server = createWorkerServer({
  workerId: config.MESHFLOW_WORKER_ID,
  startedAt: new Date(),
  deploymentCount: () => watcher.list().length,
  routes: dataPlane.handle,
  headersTimeoutMs: config.MESHFLOW_HEADERS_TIMEOUT_MS,
  // The body deadline of the ingress answers first, with a problem naming it; this is the backstop.
  requestTimeoutMs: config.MESHFLOW_HEADERS_TIMEOUT_MS + config.MESHFLOW_BODY_TIMEOUT_MS + 5_000,
  readiness: async () => {
    if (stopping) return { ready: false, checks: { shutdown: { ok: false, detail: 'draining: finishing in-flight deliveries before exit' } } };
    const checks: Record<string, { ok: boolean; detail: string }> = {};
    try {
      await pool.query('SELECT 1');
      checks.database = { ok: true, detail: 'reachable' };
      const pending = await pendingMigrations(pool);
      checks.migrations = pending.length
        ? { ok: false, detail: `pending: ${pending.join(', ')}` }
        : { ok: true, detail: 'all applied' };
    } catch (error) {
      checks.database = { ok: false, detail: describeDbError(error, config.DATABASE_URL) };
    }
    return { ready: Object.values(checks).every((c) => c.ok) && 'migrations' in checks, checks };
  },
});

server.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EADDRINUSE') {
    fail(`port ${config.WORKER_PORT} is already in use; stop what uses it or set WORKER_PORT`);
  }
  fail(`cannot listen on ${config.WORKER_HOST}:${config.WORKER_PORT}: ${error.message}`);
});
server.listen(config.WORKER_PORT, config.WORKER_HOST, () => {
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : config.WORKER_PORT;
  // With WORKER_PORT=0 only now is the worker's own port known; flows may not call it.
  egressPolicy().addOwn({ what: 'the worker', host: config.WORKER_HOST, port });
  log('info', 'worker listening', { url: `http://${config.WORKER_HOST}:${port}`, id: config.MESHFLOW_WORKER_ID });
});

/**
 * Draining: stop accepting connections; requests being answered get their acknowledgement
 * (it comes after the commit); in-flight deliveries get MESHFLOW_DRAIN_TIMEOUT_MS to finish,
 * and those still open then go back to the queue for the other workers. A second signal
 * still waits for the drain; SIGKILL loses nothing either, only the leases run out first.
 */
async function shutdown(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  const deadline = Date.now() + config.MESHFLOW_DRAIN_TIMEOUT_MS;
  log('info', 'worker draining', { signal, drainMs: config.MESHFLOW_DRAIN_TIMEOUT_MS });
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  // Keep-alive connections close as soon as their current request is answered.
  const idle = setInterval(() => server.closeIdleConnections(), 50);
  await within(closed, Math.min(5_000, config.MESHFLOW_DRAIN_TIMEOUT_MS));
  clearInterval(idle);
  server.closeAllConnections();
  await dataPlane.stop({ drainMs: Math.max(0, deadline - Date.now()) }).catch(() => {});
  await watcher.stop().catch(() => {});
  await stopTracing?.().catch(() => {});
  await pool.end().catch(() => {});
  consoleLogger('info', 'worker stopped', quietened ? { quietenedWhileStopping: quietened } : undefined);
  process.exit(0);
}
process.on('SIGINT', () => void shutdown('SIGINT'));
process.on('SIGTERM', () => void shutdown('SIGTERM'));
