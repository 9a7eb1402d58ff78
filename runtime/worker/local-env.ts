/**
 * `npm run worker` next to a running `npm start`: when DATABASE_URL is unset, the worker takes
 * the database URL and secret key that `npm start` wrote to its data dir (worker.json, mode
 * 0600), so a second worker needs only its own port: `WORKER_PORT=8081 npm run worker`.
 * Anything set in the environment wins; nothing is read when DATABASE_URL is set.
 */
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';

export const LOCAL_WORKER_FILE = 'worker.json';

export interface LocalWorkerEnv {
  DATABASE_URL: string;
  MESHFLOW_SECRET_KEY?: string;
}

/** Fills `env` from the data dir of `npm start`; returns the file used, or undefined. */
export function localStartEnv(env: Record<string, string | undefined>): string | undefined {
  if (env.DATABASE_URL) return undefined;
  const file = resolve(env.MESHFLOW_DATA_DIR ?? '.data', LOCAL_WORKER_FILE);
  if (!existsSync(file)) return undefined;
  let saved: Partial<LocalWorkerEnv>;
  try {
    saved = JSON.parse(readFileSync(file, 'utf8')) as Partial<LocalWorkerEnv>;
  } catch (error) {
    process.stderr.write(`meshflow worker: ${file} is not readable JSON (${(error as Error).message}); set DATABASE_URL instead\n`);
    return undefined;
  }
  if (typeof saved.DATABASE_URL !== 'string') return undefined;
  env.DATABASE_URL = saved.DATABASE_URL;
  if (!env.MESHFLOW_SECRET_KEY && typeof saved.MESHFLOW_SECRET_KEY === 'string') env.MESHFLOW_SECRET_KEY = saved.MESHFLOW_SECRET_KEY;
  // `npm start` owns the migrations.
  env.MESHFLOW_WORKER_MIGRATE ??= 'false';
  return file;
}
