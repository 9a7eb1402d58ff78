/**
 * `WORKER_PORT=… npm run worker` next to a running `npm start`: the extra worker finds the
 * embedded database and key in the data dir, and shares the event log with the first worker.
 * Also the studio's probes (/health, /ready) as Kubernetes calls them.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort, waitFor } from '@/test/helpers/databases';
import { startNode, type Running } from '@/test/helpers/processes';

describe('npm run worker next to npm start', () => {
  const running: Running[] = [];
  let dataDir = '';
  afterAll(async () => {
    for (const r of running.reverse()) await r.stop('SIGINT');
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it('joins the embedded database with only its own port; both workers share one event log', async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'meshflow-more-'));
    const [port, workerPort, secondPort, pgPort] = [await freePort(), await freePort(), await freePort(), await freePort()];
    const start = startNode(['scripts/start.ts'], {
      DATABASE_URL: '',
      PORT: String(port),
      WORKER_PORT: String(workerPort),
      MESHFLOW_DATA_DIR: dataDir,
      MESHFLOW_EMBEDDED_PG_PORT: String(pgPort),
      MESHFLOW_OWNER_EMAIL: 'ops@example.com',
      MESHFLOW_OWNER_PASSWORD: 'ops-password-1',
    });
    running.push(start);
    await Promise.race([
      waitFor(async () => (start.output().includes('│ ready:') ? true : undefined), 300_000, 'npm start to report ready'),
      start.exited.then(({ code, signal }) => {
        throw new Error(`npm start exited (${signal ?? code}) before it was ready:\n${start.output()}`);
      }),
    ]);
    expect(start.output()).toContain('npm run worker');
    const studio = `http://127.0.0.1:${port}`;
    expect(await (await fetch(`${studio}/health`)).json()).toEqual({ status: 'ok' });
    const ready = await fetch(`${studio}/ready`);
    expect(ready.status).toBe(200);

    // As a user would run it: no DATABASE_URL, no key, only a port.
    const second = startNode(['runtime/worker/main.ts'], { DATABASE_URL: '', MESHFLOW_SECRET_KEY: '', MESHFLOW_DATA_DIR: dataDir, WORKER_PORT: String(secondPort), WORKER_HOST: '127.0.0.1' });
    running.push(second);
    const base = `http://127.0.0.1:${secondPort}`;
    await waitFor(async () => ((await fetch(`${base}/ready`)).ok ? true : undefined), 60_000, `the second worker: ${second.output()}`);
    expect(second.output()).toContain('using the database and key of `npm start`');

    const event = { specversion: '1.0', id: 'joined-1', source: '/more-workers', type: 'com.example.joined' };
    const post = async (url: string) => (await fetch(`${url}/events`, { method: 'POST', headers: { 'content-type': 'application/cloudevents+json' }, body: JSON.stringify(event) })).json();
    expect(await post(base)).toMatchObject({ accepted: 1, duplicates: 0 });
    // The first worker already has it: the log is the same.
    expect(await post(`http://127.0.0.1:${workerPort}`)).toMatchObject({ accepted: 1, duplicates: 1 });

    expect((await second.stop('SIGTERM')).code).toBe(0);
    expect(second.output()).toContain('deliveries drained');
  }, 420_000);
});
