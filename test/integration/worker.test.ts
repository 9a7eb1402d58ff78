import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { PrismaClient } from '@/prisma/generated/client';
import { createDb } from '@/server/db';
import { deployFlow, undeployFlow } from '@/server/services/flows';
import { freePort, waitFor } from '@/test/helpers/databases';
import { startNode, type Running } from '@/test/helpers/processes';

const worker = (env: Record<string, string>) => startNode(['runtime/worker/main.ts'], env);

describe('runtime worker', () => {
  let db: PrismaClient;
  let running: Running;
  let base: string;

  beforeAll(async () => {
    db = createDb(inject('databaseUrl'));
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    running = worker({ DATABASE_URL: inject('databaseUrl'), WORKER_PORT: String(port), WORKER_HOST: '127.0.0.1' });
    await waitFor(async () => ((await fetch(`${base}/health`)).ok ? true : undefined), 20_000, 'worker health');
  });
  afterAll(async () => {
    await running?.stop();
    await db.$disconnect();
  });

  it('answers /health and /ready once the database is migrated', async () => {
    const health = await fetch(`${base}/health`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ status: 'up' });
    const ready = await fetch(`${base}/ready`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({
      status: 'ready',
      checks: { database: { ok: true }, migrations: { ok: true } },
    });
  });

  it('answers unknown routes with problem details', async () => {
    const res = await fetch(`${base}/nope`);
    expect(res.status).toBe(404);
    expect(res.headers.get('content-type')).toBe('application/problem+json');
    expect(await res.json()).toMatchObject({ status: 404, title: 'Not Found' });
  });

  it('learns of deploys and undeploys through LISTEN/NOTIFY', async () => {
    const deployments = async () => ((await (await fetch(`${base}/health`)).json()) as { deployments: number }).deployments;
    const before = await deployments();
    const flow = await db.flow.create({
      data: { name: 'notify', versions: { create: { version: 1, graph: {}, dslYaml: 'document: {}' } } },
    });
    await deployFlow(db, { flowId: flow.id });
    await waitFor(async () => ((await deployments()) === before + 1 ? true : undefined), 2_000, 'the deploy to reach the worker');
    await undeployFlow(db, flow.id);
    await waitFor(async () => ((await deployments()) === before ? true : undefined), 2_000, 'the undeploy to reach the worker');
  });

  it('stops cleanly on SIGTERM', async () => {
    const port = await freePort();
    const w = worker({ DATABASE_URL: inject('databaseUrl'), WORKER_PORT: String(port), WORKER_HOST: '127.0.0.1' });
    await waitFor(async () => ((await fetch(`http://127.0.0.1:${port}/health`)).ok ? true : undefined), 20_000, 'second worker');
    expect(await w.stop('SIGTERM')).toEqual({ code: 0, signal: null });
    expect(w.output()).toContain('worker draining');
    expect(w.output()).toContain('worker stopped');
  });
});

describe('worker configuration errors', () => {
  it('names an unreachable database in one line, without a stack trace', async () => {
    const port = await freePort();
    const w = worker({ DATABASE_URL: `postgresql://postgres@127.0.0.1:${port}/nothing`, WORKER_PORT: '0' });
    expect((await w.exited).code).toBe(1);
    const out = w.output().trim();
    expect(out).toBe(`meshflow worker: cannot reach PostgreSQL at 127.0.0.1:${port}/nothing: connection refused (is the server running? check DATABASE_URL)`);
  });

  it('lists malformed settings', async () => {
    const w = worker({ DATABASE_URL: 'mysql://x', WORKER_PORT: 'eighty' });
    expect((await w.exited).code).toBe(1);
    expect(w.output()).toContain('DATABASE_URL: must be a postgres:// or postgresql:// URL');
    expect(w.output()).toContain('WORKER_PORT:');
    expect(w.output()).not.toMatch(/\n\s+at /);
  });

  it('says which port is taken', async () => {
    const blocker = createServer();
    const port = await new Promise<number>((resolve) =>
      blocker.listen(0, '127.0.0.1', () => resolve((blocker.address() as { port: number }).port)),
    );
    try {
      const w = worker({ DATABASE_URL: inject('databaseUrl'), WORKER_PORT: String(port), WORKER_HOST: '127.0.0.1' });
      expect((await w.exited).code).toBe(1);
      expect(w.output()).toContain(`port ${port} is already in use`);
    } finally {
      blocker.close();
    }
  });
});
