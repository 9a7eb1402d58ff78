import { createServer, type Server } from 'node:http';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { compile } from '@/runtime/compiler/compile';
import { waitFor } from '@/test/helpers/databases';
import { deploy, pipeline, post, startSink, startWorker, structured, type Sink, type Worker } from '@/test/integration/events/helpers';

const TRACEPARENT = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

describe('trace context and rate limits', () => {
  let pool: pg.Pool;
  let worker: Worker;
  let sink: Sink;
  const at = (path: string) => sink.received.filter((r) => r.url === path);

  beforeAll(async () => {
    pool = new pg.Pool({ connectionString: inject('databaseUrl') });
    sink = await startSink();
    await deploy(pool, pipeline({ name: 'traced', url: `${sink.url}/traced` }));
    await deploy(pool, pipeline({ name: 'traced-json', url: `${sink.url}/traced-json`, delivery: { format: 'json' } }));
    // The limit as a studio user sets it: on the HTTP request node.
    const limited = compile({
      document: { namespace: 'test', name: 'limited', version: '0.1.0' },
      nodes: [
        { id: 'source', kind: 'cloudevents-endpoint', config: { eventType: 'com.example.limited' } },
        { id: 'target', kind: 'http-request', config: { method: 'post', url: `${sink.url}/limited`, body: '.', rateLimit: 5 } },
      ],
      edges: [{ id: 'e0', source: 'source', target: 'target' }],
    });
    expect(limited.diagnostics).toEqual([]);
    await deploy(pool, limited.document);
    // Two calls make it a workflow: the run's own HTTP calls carry the trace.
    await deploy(pool, {
      document: { dsl: '1.0.0', namespace: 'test', name: 'traced-run', version: '0.1.0' },
      schedule: { on: { one: { with: { type: 'com.example.traced-run' } } } },
      do: [
        { one: { call: 'http', with: { method: 'post', endpoint: `${sink.url}/run-one`, body: { n: 1 } } } },
        { two: { call: 'http', with: { method: 'post', endpoint: `${sink.url}/run-two`, body: { n: 2 } } } },
      ],
    });
    worker = await startWorker(inject('databaseUrl'));
  });

  afterAll(async () => {
    await worker?.running.stop();
    await sink?.close();
    await pool?.query(`UPDATE deployment SET status = 'stopped' WHERE status <> 'stopped'`);
    await pool?.end();
  });

  it('carries the traceparent extension of a structured event to the HTTP target', async () => {
    const sent = await post(worker.base, '/events', structured({ id: 'trace-1', source: '/t', type: 'com.example.traced', traceparent: TRACEPARENT, tracestate: 'vendor=1', data: {} }));
    expect(sent.status).toBe(202);
    const got = await waitFor(async () => at('/traced')[0], 10_000, 'traced delivery');
    expect(got.headers.traceparent).toBe(TRACEPARENT);
    expect(got.headers.tracestate).toBe('vendor=1');
  });

  it('carries the HTTP traceparent header of a binary-mode event to the target, in plain JSON delivery too', async () => {
    const sent = await post(worker.base, '/events', {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'ce-specversion': '1.0',
        'ce-id': 'trace-2',
        'ce-source': '/t',
        'ce-type': 'com.example.traced-json',
        traceparent: TRACEPARENT,
      },
      body: '{"n":1}',
    });
    expect(sent.status).toBe(202);
    const got = await waitFor(async () => at('/traced-json')[0], 10_000, 'traced json delivery');
    expect(got.headers.traceparent).toBe(TRACEPARENT);
    const { rows } = await pool.query<{ extensions: Record<string, string> }>(`SELECT extensions FROM event WHERE id = 'trace-2'`);
    expect(rows[0]?.extensions.traceparent).toBe(TRACEPARENT);
  });

  it('carries the trace context of the event that started a workflow run to the run’s HTTP calls', async () => {
    await post(worker.base, '/events', structured({ id: 'trace-run', source: '/t', type: 'com.example.traced-run', traceparent: TRACEPARENT }));
    const two = await waitFor(async () => at('/run-two')[0], 15_000, 'the run’s second call');
    expect(two.headers.traceparent).toBe(TRACEPARENT);
    expect(at('/run-one')[0]?.headers.traceparent).toBe(TRACEPARENT);
  });

  it('delivers every event to a rate-limited target, never more than its limit in a second', async () => {
    const events = Array.from({ length: 15 }, (_, i) => ({ specversion: '1.0', id: `limited-${i}`, source: '/rl', type: 'com.example.limited', data: { i } }));
    const sent = await post(worker.base, '/events', { method: 'POST', headers: { 'content-type': 'application/cloudevents-batch+json' }, body: JSON.stringify(events) });
    expect(sent.status).toBe(202);
    await waitFor(async () => (at('/limited').length >= 15 ? true : undefined), 20_000, 'all rate-limited deliveries');
    const received = at('/limited');
    const ids = new Set(received.map((r) => r.headers['ce-id']));
    expect(ids.size).toBe(15);
    // Any window a little shorter than a second (for network jitter) holds at most 5 arrivals.
    const times = received.map((r) => r.at).sort((a, b) => a - b);
    for (let i = 0; i < times.length; i++) {
      const inWindow = times.filter((t) => t >= times[i]! && t < times[i]! + 950).length;
      expect(inWindow).toBeLessThanOrEqual(5);
    }
    // 15 events at 5 a second take two seconds at least: the limit delayed them rather than dropping any.
    expect(times.at(-1)! - times[0]!).toBeGreaterThanOrEqual(2000);
    const { rows } = await pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM dead_letter l JOIN event e ON e.seq = l."eventSeq" WHERE e.type = 'com.example.limited'`);
    expect(rows[0]?.n).toBe(0);
  });
});

describe('OpenTelemetry export', () => {
  it('exports a delivery span in the event’s trace over OTLP when OTEL_EXPORTER_OTLP_ENDPOINT is set, and the target gets the span’s context', async () => {
    const exported: Buffer[] = [];
    const collector: Server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        if (req.url === '/v1/traces') exported.push(Buffer.concat(chunks));
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('{}');
      });
    });
    await new Promise<void>((resolve) => collector.listen(0, '127.0.0.1', resolve));
    const pool = new pg.Pool({ connectionString: inject('databaseUrl') });
    const sink = await startSink();
    await deploy(pool, pipeline({ name: 'otel', url: `${sink.url}/otel` }));
    const worker = await startWorker(inject('databaseUrl'), {
      OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${(collector.address() as { port: number }).port}`,
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      OTEL_BSP_SCHEDULE_DELAY: '100',
    });
    try {
      await post(worker.base, '/events', structured({ id: 'otel-1', source: '/t', type: 'com.example.otel', traceparent: TRACEPARENT }));
      const got = await waitFor(async () => sink.received[0], 10_000, 'the delivery');
      const [, traceId, spanId] = String(got.headers.traceparent).split('-');
      expect(traceId).toBe(TRACEPARENT.split('-')[1]);
      expect(spanId).not.toBe(TRACEPARENT.split('-')[2]);
      const body = await waitFor(async () => (exported.length > 0 ? exported.map((b) => b.toString()).join('\n') : undefined), 10_000, 'an OTLP export');
      expect(body).toContain('com.example.otel');
      expect(body).toContain('meshflow-worker');
    } finally {
      await worker.running.stop();
      await sink.close();
      collector.closeAllConnections();
      collector.close();
      await pool.query(`UPDATE deployment SET status = 'stopped' WHERE status <> 'stopped'`);
      await pool.end();
    }
  });
});
