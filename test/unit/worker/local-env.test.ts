import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { LOCAL_WORKER_FILE, localStartEnv } from '@/runtime/worker/local-env';

describe('npm run worker next to npm start', () => {
  const dirs: string[] = [];
  const dataDir = (content?: unknown) => {
    const dir = mkdtempSync(join(tmpdir(), 'meshflow-local-'));
    dirs.push(dir);
    if (content !== undefined) writeFileSync(join(dir, LOCAL_WORKER_FILE), typeof content === 'string' ? content : JSON.stringify(content));
    return dir;
  };
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  it('takes the database and key npm start wrote, and leaves migrations to it', () => {
    const dir = dataDir({ DATABASE_URL: 'postgresql://postgres@127.0.0.1:54329/meshflow', MESHFLOW_SECRET_KEY: 'a2V5' });
    const env: Record<string, string | undefined> = { MESHFLOW_DATA_DIR: dir };
    expect(localStartEnv(env)).toBe(join(dir, LOCAL_WORKER_FILE));
    expect(env).toMatchObject({ DATABASE_URL: 'postgresql://postgres@127.0.0.1:54329/meshflow', MESHFLOW_SECRET_KEY: 'a2V5', MESHFLOW_WORKER_MIGRATE: 'false' });
  });

  it('reads nothing when DATABASE_URL is set, and keeps what the environment sets', () => {
    const dir = dataDir({ DATABASE_URL: 'postgresql://postgres@127.0.0.1:54329/meshflow', MESHFLOW_SECRET_KEY: 'a2V5' });
    const set: Record<string, string | undefined> = { MESHFLOW_DATA_DIR: dir, DATABASE_URL: 'postgresql://elsewhere/db' };
    expect(localStartEnv(set)).toBeUndefined();
    expect(set.DATABASE_URL).toBe('postgresql://elsewhere/db');
    const keyed: Record<string, string | undefined> = { MESHFLOW_DATA_DIR: dir, MESHFLOW_SECRET_KEY: 'bWluZQ==', MESHFLOW_WORKER_MIGRATE: 'true' };
    localStartEnv(keyed);
    expect(keyed).toMatchObject({ MESHFLOW_SECRET_KEY: 'bWluZQ==', MESHFLOW_WORKER_MIGRATE: 'true' });
  });

  it('without a file from npm start the worker asks for DATABASE_URL as before', () => {
    const env: Record<string, string | undefined> = { MESHFLOW_DATA_DIR: dataDir() };
    expect(localStartEnv(env)).toBeUndefined();
    expect(env.DATABASE_URL).toBeUndefined();
    const broken: Record<string, string | undefined> = { MESHFLOW_DATA_DIR: dataDir('{not json') };
    expect(localStartEnv(broken)).toBeUndefined();
  });
});
