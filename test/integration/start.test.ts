/**
 * `npm start` as a user runs it: one command, studio and worker, on the machine's
 * PostgreSQL or on an embedded one whose data survives a restart.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTRPCClient, httpBatchLink } from '@trpc/client';
import superjson from 'superjson';
import { afterAll, describe, expect, inject, it } from 'vitest';
import type { AppRouter } from '@/server/routers/root';
import { createScratchDatabase, freePort, waitFor } from '@/test/helpers/databases';
import { startNode, type Running } from '@/test/helpers/processes';

const owner = { email: 'ops@example.com', password: 'ops-password-1' };

async function startMeshflow(env: Record<string, string>) {
  const [port, workerPort] = [await freePort(), await freePort()];
  const started = Date.now();
  const running = startNode(['scripts/start.ts'], {
    PORT: String(port),
    WORKER_PORT: String(workerPort),
    MESHFLOW_OWNER_EMAIL: owner.email,
    MESHFLOW_OWNER_PASSWORD: owner.password,
    ...env,
  });
  await Promise.race([
    waitFor(async () => (running.output().includes('│ ready:') ? true : undefined), 180_000, 'npm start to report ready'),
    running.exited.then(({ code, signal }) => {
      throw new Error(`npm start exited (${signal ?? code}) before it was ready:\n${running.output()}`);
    }),
  ]);
  return { running, studio: `http://127.0.0.1:${port}`, worker: `http://127.0.0.1:${workerPort}`, readyMs: Date.now() - started };
}

async function signedInClient(studio: string) {
  const res = await fetch(`${studio}/api/auth/sign-in/email`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', origin: studio },
    body: JSON.stringify(owner),
  });
  expect(res.status).toBe(200);
  const cookie = res.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
  return createTRPCClient<AppRouter>({
    links: [httpBatchLink({ url: `${studio}/api/trpc`, transformer: superjson, headers: { cookie } })],
  });
}

async function stop(running: Running) {
  const result = await running.stop('SIGINT');
  expect(result.code).toBe(0);
  expect(running.output()).toContain('meshflow │ stopped');
}

describe('npm start', () => {
  const cleanups: Array<() => Promise<void> | void> = [];
  afterAll(async () => {
    for (const c of cleanups.reverse()) await c();
  });

  it('with DATABASE_URL unset, runs on an embedded PostgreSQL whose data survives a restart', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'meshflow-start-'));
    cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
    const env = { DATABASE_URL: '', MESHFLOW_DATA_DIR: dataDir, MESHFLOW_EMBEDDED_PG_PORT: String(await freePort()) };

    const first = await startMeshflow(env);
    cleanups.push(() => void first.running.stop('SIGKILL'));
    console.info(`first start to ready (build included when missing): ${first.readyMs} ms`);
    expect(first.running.output()).toContain('starting embedded PostgreSQL');
    expect((await fetch(`${first.worker}/ready`)).status).toBe(200);
    expect((await fetch(`${first.studio}/sign-in`)).status).toBe(200);
    const api = await signedInClient(first.studio);
    const demo = (await api.flows.list.query()).find((f) => f.name.startsWith('Demo'));
    expect(demo).toBeDefined();
    await api.flows.rename.mutate({ flowId: demo!.id, name: 'Renamed before restart' });
    await stop(first.running);

    const second = await startMeshflow(env);
    cleanups.push(() => void second.running.stop('SIGKILL'));
    expect(second.running.output()).toContain('database schema is up to date');
    const again = await signedInClient(second.studio);
    const names = (await again.flows.list.query()).map((f) => f.name);
    expect(names).toContain('Renamed before restart');
    expect(names.filter((n) => n.startsWith('Demo'))).toEqual([]);
    await stop(second.running);
  }, 400_000);

  it('with DATABASE_URL set, applies migrations on the first start and none on the second', async () => {
    const scratch = await createScratchDatabase(inject('adminUrl'));
    cleanups.push(scratch.drop);
    const env = { DATABASE_URL: scratch.url };
    const first = await startMeshflow(env);
    cleanups.push(() => void first.running.stop('SIGKILL'));
    expect(first.running.output()).toMatch(/applied \d+ migration\(s\)/);
    expect(first.running.output()).toContain('created the owner account ops@example.com');
    expect((await fetch(`${first.worker}/ready`)).status).toBe(200);
    await stop(first.running);

    const second = await startMeshflow(env);
    cleanups.push(() => void second.running.stop('SIGKILL'));
    expect(second.running.output()).toContain('database schema is up to date');
    expect(second.running.output()).not.toMatch(/applied \d+ migration/);
    await stop(second.running);
  }, 400_000);

  it('gives a one-line error for a wrong DATABASE_URL', async () => {
    const port = await freePort();
    const r = startNode(['scripts/start.ts'], {
      PORT: String(await freePort()),
      WORKER_PORT: String(await freePort()),
      DATABASE_URL: `postgresql://postgres@127.0.0.1:${port}/meshflow`,
    });
    expect((await r.exited).code).toBe(1);
    expect(r.output().trim()).toBe(
      `meshflow: cannot reach PostgreSQL at 127.0.0.1:${port}/meshflow: connection refused (is the server running? check DATABASE_URL)`,
    );
  });

  it('lists malformed settings instead of starting', async () => {
    const r = startNode(['scripts/start.ts'], {
      PORT: String(await freePort()),
      WORKER_PORT: String(await freePort()),
      DATABASE_URL: inject('databaseUrl'),
      MESHFLOW_SECRET_KEY: 'too-short',
    });
    expect((await r.exited).code).toBe(1);
    expect(r.output()).toContain('meshflow: studio: invalid configuration\n  - MESHFLOW_SECRET_KEY: must be 32 bytes encoded as base64');
    expect(r.output()).not.toMatch(/\n\s+at /);
  });

  it('gives a one-line error for a taken port', async () => {
    const blocker = createServer();
    const port = await new Promise<number>((resolve) => blocker.listen(0, () => resolve((blocker.address() as { port: number }).port)));
    try {
      const r = startNode(['scripts/start.ts'], { PORT: String(port), WORKER_PORT: String(await freePort()), DATABASE_URL: inject('databaseUrl') });
      expect((await r.exited).code).toBe(1);
      expect(r.output().trim()).toBe(
        `meshflow: port ${port} (studio) is already in use; stop what uses it or set PORT to a free port`,
      );
    } finally {
      blocker.close();
    }
  });
});
