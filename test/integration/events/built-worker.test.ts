/**
 * The worker as it ships: `npm run worker` runs the compiled bundle (.build/worker), which must
 * find what it locates from its own file (the migrations, jq's WebAssembly in a worker thread)
 * and carry an event from ingress to a sink through a jq transform like the TypeScript does.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
// @ts-expect-error: a plain .mjs script without type declarations
import { buildIsFresh } from '@/scripts/build-cli.mjs';
import { freePort, waitFor } from '@/test/helpers/databases';
import { repoRoot } from '@/test/helpers/processes';
import { compile } from '@/runtime/compiler/compile';
import { deploy, startSink, undeployAll, waitForHook, type Sink } from '@/test/integration/events/helpers';

describe('the compiled worker', () => {
  let pool: pg.Pool;
  let sink: Sink;
  let output = '';
  let stop: () => Promise<void> = async () => {};
  let base = '';
  const hook = `built-${randomUUID().slice(0, 8)}`;

  beforeAll(async () => {
    pool = new pg.Pool({ connectionString: inject('databaseUrl') });
    sink = await startSink();
    // A transform outside the JavaScript fast path, so jq-wasm runs in its thread.
    const nodes = [
      { id: 'hook', kind: 'http-webhook', config: { path: hook, mode: 'cloudevents', eventType: 'com.example.built' } },
      { id: 'shape', kind: 'jq-transform', config: { expression: '{ keys: (.data | keys), next: (.data.n + 1) }' } },
      { id: 'sink', kind: 'http-request', config: { method: 'post', url: `${sink.url}/built`, body: '.' } },
    ];
    const edges = nodes.slice(1).map((n, i) => ({ id: `e${i}`, source: nodes[i]!.id, target: n.id }));
    const { document, diagnostics } = compile({ document: { namespace: 'test', name: hook, version: '0.1.0' }, nodes, edges });
    expect(diagnostics).toEqual([]);
    await deploy(pool, document);
    const port = await freePort();
    const child = spawn(process.execPath, ['scripts/worker.mjs'], {
      cwd: repoRoot,
      env: { ...process.env, DATABASE_URL: inject('databaseUrl'), WORKER_PORT: String(port), WORKER_HOST: '127.0.0.1', MESHFLOW_DELIVERY_POLL_MS: '50' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
    stop = async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    };
    base = `http://127.0.0.1:${port}`;
    await waitFor(async () => ((await fetch(`${base}/health`)).ok ? true : undefined), 120_000, `the compiled worker: ${output}`);
  }, 150_000);

  afterAll(async () => {
    await stop();
    await sink?.close();
    await undeployAll(pool);
    await pool.end();
  });

  it('runs from the bundle, which is up to date afterwards', () => {
    expect(output).toContain('worker listening');
    expect(buildIsFresh('worker')).toBe(true);
  });

  it('finds its migrations: ready reports them all applied', async () => {
    const ready = (await (await fetch(`${base}/ready`)).json()) as { status: string; checks: Record<string, { ok: boolean; detail: string }> };
    expect(ready.checks.migrations).toEqual({ ok: true, detail: 'all applied' });
  });

  it('delivers an event transformed by jq-wasm', async () => {
    await waitForHook(base, hook);
    const res = await fetch(`${base}/hooks/${hook}`, {
      method: 'POST',
      headers: { 'ce-specversion': '1.0', 'ce-id': randomUUID(), 'ce-source': '/built', 'ce-type': 'com.example.built', 'content-type': 'application/json' },
      body: JSON.stringify({ n: 41, b: true }),
    });
    expect(res.status).toBe(202);
    const received = await waitFor(async () => sink.received.find((r) => r.url === '/built'), 30_000, `the delivery: ${output}`);
    expect(JSON.parse(received.body)).toEqual({ keys: ['b', 'n'], next: 42 });
  });
});
