/**
 * Threat: the worker's operational endpoint leaks capabilities. `/metrics` answers only with
 * the bearer token when MESHFLOW_METRICS_TOKEN is set, and its labels name deployments, never
 * a webhook's path (which is all a caller needs to post to a webhook without a secret).
 */
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { workerFigures } from '@/server/services/overview';
import { deploy, pipeline, post, startSink, startWorker, structured, undeployAll, waitForHook, type Sink, type Worker } from '@/test/integration/events/helpers';

const TOKEN = `metrics-${randomUUID()}`;

describe('/metrics', () => {
  let pool: pg.Pool;
  let worker: Worker;
  let sink: Sink;
  let deploymentId: string;
  // An unguessable path is the only thing protecting this webhook: it has no secret.
  const hookPath = `open-${randomUUID()}`;

  beforeAll(async () => {
    pool = new pg.Pool({ connectionString: inject('databaseUrl') });
    sink = await startSink();
    ({ deploymentId } = await deploy(
      pool,
      pipeline({
        name: 'metrics-hook',
        with: { type: 'com.example.metrics' },
        url: sink.url,
        sources: [{ id: 'src-open', kind: 'http-webhook', connection: { path: hookPath, mode: 'json', eventType: 'com.example.metrics' } }],
      }),
    ));
    worker = await startWorker(inject('databaseUrl'), { MESHFLOW_METRICS_TOKEN: TOKEN });
    await waitForHook(worker.base, hookPath);
  });

  afterAll(async () => {
    await worker?.running.stop();
    await sink?.close();
    await undeployAll(pool);
    await pool?.end();
  });

  it('refuses scrapes without the token, or with a wrong one, with a 401 problem', async () => {
    for (const headers of [{} as Record<string, string>, { authorization: 'Bearer wrong-token-wrong-token' }, { authorization: TOKEN }, { authorization: `Basic ${TOKEN}` }]) {
      const res = await fetch(`${worker.base}/metrics`, { headers });
      const problem = (await res.json()) as Record<string, unknown>;
      expect(res.status).toBe(401);
      expect(res.headers.get('content-type')).toBe('application/problem+json');
      expect(res.headers.get('www-authenticate')).toMatch(/^Bearer/);
      expect(problem).toMatchObject({ status: 401, title: 'Unauthorized' });
      expect(String(problem.detail)).toContain('MESHFLOW_METRICS_TOKEN');
      expect(JSON.stringify(problem)).not.toContain(TOKEN);
    }
  });

  it('serves the token holder, labelling webhook traffic by deployment and never by path', async () => {
    expect((await post(worker.base, `/hooks/${hookPath}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"n":1}' })).status).toBe(202);
    expect((await post(worker.base, '/events', structured({ id: randomUUID(), source: '/metrics', type: 'com.example.metrics' }))).status).toBe(202);
    const res = await fetch(`${worker.base}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text).not.toContain(hookPath);
    expect(text).not.toContain('hook:');
    // The hook also counts the probe that waited for its deployment.
    expect(text).toMatch(new RegExp(`meshflow_events_accepted_total\\{ingress="webhook",deployment="${deploymentId}"\\} [1-9]`));
    expect(text).toMatch(/meshflow_events_accepted_total\{ingress="events"\} \d+/);
  });

  it('still feeds the studio overview when the studio has the token, and says what is missing when not', async () => {
    const withToken = await workerFigures(worker.base, TOKEN);
    expect(withToken.up).toBe(true);
    expect(withToken.figures?.accepted).toBeGreaterThanOrEqual(2);
    const without = await workerFigures(worker.base);
    expect(without.figures).toBeNull();
    expect(without.detail).toContain('MESHFLOW_METRICS_TOKEN');
  });
});
