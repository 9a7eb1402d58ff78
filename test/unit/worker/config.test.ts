import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { loadWorkerConfig } from '@/runtime/worker/config';
import { describeDbError } from '@/runtime/worker/db-errors';
import { EnvError, parseEnv, studioEnvSchema } from '@/server/env';

const good = {
  DATABASE_URL: 'postgresql://postgres@127.0.0.1:5432/meshflow',
  MESHFLOW_AUTH_SECRET: 'x'.repeat(32),
  MESHFLOW_SECRET_KEY: randomBytes(32).toString('base64'),
};

describe('studio environment', () => {
  it('accepts a complete environment and fills defaults', () => {
    const env = parseEnv(studioEnvSchema, good, 'studio');
    expect(env.PORT).toBe(3000);
    expect(env.MESHFLOW_WORKER_URL).toBe('http://127.0.0.1:8080');
  });

  it('lists every problem at once, one line per variable', () => {
    let message = '';
    try {
      parseEnv(studioEnvSchema, { DATABASE_URL: 'mysql://x', MESHFLOW_AUTH_SECRET: 'short', MESHFLOW_SECRET_KEY: 'abc', PORT: '99999' }, 'studio');
    } catch (error) {
      expect(error).toBeInstanceOf(EnvError);
      message = (error as Error).message;
    }
    expect(message.split('\n')).toEqual([
      'studio: invalid configuration',
      '  - DATABASE_URL: must be a postgres:// or postgresql:// URL',
      '  - MESHFLOW_AUTH_SECRET: must be at least 32 characters',
      '  - MESHFLOW_SECRET_KEY: must be 32 bytes encoded as base64',
      expect.stringMatching(/^ {2}- PORT: /),
    ]);
  });
});

describe('worker configuration', () => {
  it('defaults the port to 8080 and migrates by default', () => {
    const result = loadWorkerConfig({ DATABASE_URL: good.DATABASE_URL });
    expect(result.ok && result.config.WORKER_PORT).toBe(8080);
    expect(result.ok && result.config.MESHFLOW_WORKER_MIGRATE).toBe(true);
  });

  it('reports a missing DATABASE_URL by name', () => {
    const result = loadWorkerConfig({});
    expect(result).toEqual({ ok: false, problems: ['DATABASE_URL: is required (a postgres:// URL)'] });
  });

  it('cuts slow clients off by default, leaves /metrics open unless a token is set, and refuses a short token', () => {
    const result = loadWorkerConfig({ DATABASE_URL: good.DATABASE_URL });
    expect(result.ok && [result.config.MESHFLOW_HEADERS_TIMEOUT_MS, result.config.MESHFLOW_BODY_TIMEOUT_MS, result.config.MESHFLOW_METRICS_TOKEN]).toEqual([10_000, 30_000, undefined]);
    const short = loadWorkerConfig({ DATABASE_URL: good.DATABASE_URL, MESHFLOW_METRICS_TOKEN: 'secret' });
    expect(short.ok ? [] : short.problems[0]).toContain('MESHFLOW_METRICS_TOKEN: must be at least 16 characters');
  });

  it('keeps events in PostgreSQL unless JetStream is chosen, and names each bad JetStream setting', () => {
    const plain = loadWorkerConfig({ DATABASE_URL: good.DATABASE_URL });
    expect(plain.ok && [plain.config.MESHFLOW_EVENT_BACKEND, plain.config.MESHFLOW_NATS_URL, plain.config.MESHFLOW_JETSTREAM_STORAGE]).toEqual(['postgres', 'nats://127.0.0.1:4222', 'file']);
    const bad = loadWorkerConfig({
      DATABASE_URL: good.DATABASE_URL,
      MESHFLOW_EVENT_BACKEND: 'kafka',
      MESHFLOW_NATS_URL: 'http://127.0.0.1:4222',
      MESHFLOW_JETSTREAM_PREFIX: 'has.dots',
      MESHFLOW_JETSTREAM_STORAGE: 'disk',
      MESHFLOW_JETSTREAM_REPLICAS: '7',
    });
    expect(bad.ok ? [] : bad.problems).toEqual([
      'MESHFLOW_EVENT_BACKEND: must be postgres or jetstream',
      'MESHFLOW_NATS_URL: "http://127.0.0.1:4222" must be a nats:// URL such as nats://127.0.0.1:4222',
      'MESHFLOW_JETSTREAM_PREFIX: must be 1 to 32 letters, digits, _ or - (it names streams, consumers and subjects)',
      'MESHFLOW_JETSTREAM_STORAGE: must be file or memory',
      expect.stringMatching(/^MESHFLOW_JETSTREAM_REPLICAS: /),
    ]);
  });
});

describe('database errors', () => {
  const url = 'postgresql://me:secret@db.internal:6543/shop';

  it('says where and why, never the password', () => {
    const line = describeDbError(Object.assign(new Error('x'), { code: 'ECONNREFUSED' }), url);
    expect(line).toBe('cannot reach PostgreSQL at db.internal:6543/shop: connection refused (is the server running? check DATABASE_URL)');
    expect(line).not.toContain('secret');
  });

  it('tells a missing database from bad credentials', () => {
    expect(describeDbError({ code: '3D000' }, url)).toMatch(/does not exist/);
    expect(describeDbError({ code: '28P01' }, url)).toMatch(/refused the credentials/);
  });
});
