/**
 * `npm start` keeps Meshflow up: a crashed worker is restarted (with backoff, said in the
 * log) while the studio goes on answering; Ctrl-C stops everything in order and says so,
 * without a burst of connection errors from processes that outlive the database.
 *
 * The launcher runs as the leader of its own process group and Ctrl-C is sent to the whole
 * group, as a terminal does: studio, worker and embedded PostgreSQL all receive it at once.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { createScratchDatabase, freePort, waitFor } from '@/test/helpers/databases';
import { repoRoot, startNode } from '@/test/helpers/processes';

const CONNECTION_ERRORS =
  /ECONNREFUSED|ECONNRESET|Connection terminated|terminating connection|connection ended|lost its connection|reconnect failed|idle database connection failed|claiming deliveries failed|the database system is shutting down/i;

function signIn(studio: string, forwardedFor: string) {
  return fetch(`${studio}/api/auth/sign-in/email`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', origin: studio, 'x-forwarded-for': forwardedFor },
    body: JSON.stringify({ email: `nobody-${Math.random()}@example.com`, password: 'wrong-password' }),
  });
}

async function answers(url: string): Promise<number | undefined> {
  try {
    const res = await fetch(url, { redirect: 'manual', signal: AbortSignal.timeout(5_000) });
    return res.status;
  } catch {
    return undefined;
  }
}

describe('npm start supervision', () => {
  const cleanups: Array<() => unknown> = [];
  afterAll(async () => {
    for (const c of cleanups.reverse()) await c();
  });

  it('restarts a killed worker while the studio keeps serving, and stops cleanly on Ctrl-C', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'meshflow-supervise-'));
    cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
    const [port, workerPort, pgPort] = [await freePort(), await freePort(), await freePort()];
    const launcher = spawn(process.execPath, ['--import', 'tsx', 'scripts/start.ts'], {
      cwd: repoRoot,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        ...process.env,
        PORT: String(port),
        WORKER_PORT: String(workerPort),
        DATABASE_URL: '',
        MESHFLOW_DATA_DIR: dataDir,
        MESHFLOW_EMBEDDED_PG_PORT: String(pgPort),
        MESHFLOW_OWNER_EMAIL: 'ops@example.com',
        MESHFLOW_OWNER_PASSWORD: 'ops-password-1',
      },
    });
    let out = '';
    launcher.stdout.on('data', (d) => (out += d));
    launcher.stderr.on('data', (d) => (out += d));
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
      launcher.on('exit', (code, signal) => resolve({ code, signal })),
    );
    cleanups.push(() => {
      try {
        process.kill(-launcher.pid!, 'SIGKILL');
      } catch {
        // already gone
      }
    });
    const studio = `http://127.0.0.1:${port}`;
    const worker = `http://127.0.0.1:${workerPort}`;

    await Promise.race([
      waitFor(async () => (out.includes('│ ready:') ? true : undefined), 240_000, 'npm start to report ready'),
      exited.then(() => {
        throw new Error(`npm start exited before it was ready:\n${out}`);
      }),
    ]);
    // The studio's server decides the client address: rotating X-Forwarded-For does not
    // escape the per-address sign-in limit (MESHFLOW_TRUST_PROXY is unset here).
    const statuses: number[] = [];
    for (let i = 0; i < 21; i++) statuses.push((await signIn(studio, `198.51.100.${i + 1}`)).status);
    expect(statuses.slice(0, 20).every((s) => s === 401), statuses.join(' ')).toBe(true);
    expect(statuses[20]).toBe(429);

    const workerPid = Number(out.match(/meshflow │ worker started \(pid (\d+)\)/)?.[1]);
    expect(workerPid).toBeGreaterThan(0);

    process.kill(workerPid, 'SIGKILL');
    await waitFor(
      async () => (out.includes('meshflow │ worker exited (SIGKILL); restarting it in 1 s (restart 1)') ? true : undefined),
      30_000,
      'the launcher to report the crash and the restart',
    );
    // The studio did not go down with it.
    expect(await answers(`${studio}/sign-in`)).toBe(200);
    expect(out).not.toMatch(/stopping studio and worker/);

    const restartedPid = Number(
      (await waitFor(async () => out.match(/meshflow │ worker restarted \(pid (\d+)\)/)?.[1], 60_000, 'the worker restart'))!,
    );
    expect(restartedPid).not.toBe(workerPid);
    await waitFor(async () => ((await answers(`${worker}/ready`)) === 200 ? true : undefined), 120_000, 'the restarted worker to be ready');
    expect(await answers(`${studio}/sign-in`)).toBe(200);

    // Ctrl-C in a terminal: SIGINT to the whole process group.
    const before = out.length;
    process.kill(-launcher.pid!, 'SIGINT');
    const result = await Promise.race([
      exited,
      new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`npm start did not stop:\n${out.slice(before)}`)), 90_000)),
    ]);
    const shutdown = out.slice(before);
    expect(result.code, shutdown).toBe(0);
    expect(shutdown).toContain('meshflow │ stopped');
    expect(shutdown.split('\n').filter((line) => CONNECTION_ERRORS.test(line))).toEqual([]);
    expect(shutdown).not.toMatch(/\n\s+at /);
  }, 480_000);

  it('believes X-Forwarded-For from a proxy MESHFLOW_TRUST_PROXY names, one limit per forwarded client', async () => {
    const scratch = await createScratchDatabase(inject('adminUrl'));
    const [port, workerPort] = [await freePort(), await freePort()];
    const running = startNode(['scripts/start.ts'], {
      PORT: String(port),
      WORKER_PORT: String(workerPort),
      DATABASE_URL: scratch.url,
      MESHFLOW_TRUST_PROXY: 'loopback',
    });
    cleanups.push(async () => {
      await running.stop('SIGKILL');
      await scratch.drop();
    });
    await Promise.race([
      waitFor(async () => (running.output().includes('│ ready:') ? true : undefined), 240_000, 'npm start to report ready'),
      running.exited.then(() => {
        throw new Error(`npm start exited before it was ready:\n${running.output()}`);
      }),
    ]);
    const studio = `http://127.0.0.1:${port}`;
    // Each forwarded client counts on its own…
    for (let i = 0; i < 22; i++) expect((await signIn(studio, `198.51.100.${i + 1}`)).status).toBe(401);
    // …and one client behind the proxy is limited.
    const one: number[] = [];
    for (let i = 0; i < 21; i++) one.push((await signIn(studio, '203.0.113.7')).status);
    expect(one.slice(0, 20).every((s) => s === 401), one.join(' ')).toBe(true);
    expect(one[20]).toBe(429);
    const result = await running.stop('SIGTERM');
    expect(result.code).toBe(0);
    expect(running.output()).toContain('meshflow │ stopped');
  }, 300_000);
});
