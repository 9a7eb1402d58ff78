/**
 * Test runs from the designer are safe by default: an HTTP target answers with a stub and the
 * run shows the request it would have sent, and nothing reaches the loopback sink until the
 * user ticks "call real targets". The source's event-type filter applies as in the worker.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { PrismaClient } from '@/prisma/generated/client';
import type { FlowGraph } from '@/runtime/nodes/types';
import { createDb } from '@/server/db';
import { createCaller } from '@/server/routers/root';
import type { Context, CurrentUser } from '@/server/trpc';
import { startSink, type Sink } from '@/test/integration/events/helpers';

const editor: CurrentUser = { id: 'editor-test-run', name: 'Ed', email: 'ed-test-run@example.com', role: 'editor' };
const ORDER = 'com.example.order.created';

function graph(sinkUrl: string): FlowGraph {
  return {
    document: { namespace: 'default', name: 'test-run-orders', version: '0.1.0' },
    nodes: [
      { id: 'hook', kind: 'http-webhook', config: { path: 'test-run-orders', mode: 'cloudevents', eventType: ORDER } },
      { id: 'stamp', kind: 'jq-transform', config: { expression: '{ orderId: .data.orderId }' } },
      { id: 'notify', kind: 'http-request', config: { method: 'post', url: `${sinkUrl}/orders`, body: '.' } },
    ],
    edges: [
      { id: 'a', source: 'hook', target: 'stamp' },
      { id: 'b', source: 'stamp', target: 'notify' },
    ],
  };
}

const event = (type = ORDER) => ({ specversion: '1.0', id: 'sample-1', source: '/shop', type, datacontenttype: 'application/json', data: { orderId: 'o-7' } });

describe('designer test runs', () => {
  let db: PrismaClient;
  let sink: Sink;
  let api: ReturnType<typeof createCaller>;

  beforeAll(async () => {
    process.env.DATABASE_URL = inject('databaseUrl');
    process.env.MESHFLOW_AUTH_SECRET = randomBytes(32).toString('hex');
    db = createDb(inject('databaseUrl'));
    sink = await startSink();
    const ctx: Context = { db, user: editor, workerUrl: 'http://127.0.0.1:1', secretKey: randomBytes(32) };
    api = createCaller(ctx);
  });
  afterAll(async () => {
    await sink?.close();
    await db?.$disconnect();
  });

  it('stubs the HTTP target by default and shows the request it would have sent', async () => {
    const result = await api.designer.testRun({ graph: graph(sink.url), event: event() });
    expect(result).toMatchObject({ ok: true, status: 'completed' });
    if (!result.ok) return;
    expect(result.nodes.notify).toMatchObject({
      status: 'stubbed',
      requests: [{ method: 'POST', url: `${sink.url}/orders`, body: { orderId: 'o-7' } }],
    });
    expect(result.nodes.notify!.requests![0]!.headers).toMatchObject({ 'content-type': expect.stringContaining('json') });
    // Give a request that should not exist every chance to arrive.
    await new Promise((r) => setTimeout(r, 300));
    expect(sink.received).toEqual([]);
  });

  it('calls the real target only when asked to', async () => {
    const result = await api.designer.testRun({ graph: graph(sink.url), event: event(), callRealTargets: true });
    expect(result).toMatchObject({ ok: true, status: 'completed' });
    expect(sink.received.map((r) => [r.method, r.url, JSON.parse(r.body) as unknown])).toEqual([['POST', '/orders', { orderId: 'o-7' }]]);
    if (result.ok) expect(result.nodes.notify?.status).toBe('completed');

    // A node set to stub stays stubbed even then.
    const stubbed = await api.designer.testRun({ graph: graph(sink.url), event: event(), callRealTargets: true, stubs: ['notify'] });
    if (stubbed.ok) expect(stubbed.nodes.notify?.status).toBe('stubbed');
    expect(sink.received).toHaveLength(1);
  });

  it('applies the source’s event type: another type is filtered at the webhook and nothing runs', async () => {
    const received = sink.received.length;
    const result = await api.designer.testRun({ graph: graph(sink.url), event: event('com.example.refund'), callRealTargets: true });
    expect(result).toMatchObject({
      ok: true,
      status: 'filtered',
      filtered: { task: 'hook', reason: `accepts type "${ORDER}", this event is "com.example.refund"` },
    });
    if (result.ok) {
      expect(result.nodes.hook?.status).toBe('filtered');
      expect(result.nodes.notify).toBeUndefined();
    }
    expect(sink.received).toHaveLength(received);
  });

  it('stubs a broker publish by default: the would-be publish is shown and no message reaches the broker', async () => {
    const topic = `meshflow/test-run/${randomUUID().slice(0, 8)}`;
    const subscriber = await mqtt.connectAsync('mqtt://127.0.0.1:1883');
    const messages: string[] = [];
    subscriber.on('message', (_topic, payload) => messages.push(payload.toString()));
    await subscriber.subscribeAsync(topic, { qos: 1 });
    try {
      const publishGraph: FlowGraph = {
        document: { namespace: 'default', name: 'test-run-publish', version: '0.1.0' },
        nodes: [
          { id: 'source', kind: 'cloudevents-endpoint', config: { eventType: ORDER } },
          { id: 'publish', kind: 'mqtt-publish', config: { connection: 'mqtt://127.0.0.1:1883', topic } },
        ],
        edges: [{ id: 'a', source: 'source', target: 'publish' }],
      };
      const stubbed = await api.designer.testRun({ graph: publishGraph, event: event() });
      expect(stubbed).toMatchObject({ ok: true, status: 'completed' });
      if (stubbed.ok) {
        expect(stubbed.nodes.publish).toMatchObject({ status: 'stubbed', requests: [{ method: 'PUBLISH', url: `mqtt://127.0.0.1:1883 → ${topic}` }] });
        expect(stubbed.nodes.publish!.requests![0]!.body).toMatchObject({ id: 'sample-1', data: { orderId: 'o-7' } });
      }
      await new Promise((r) => setTimeout(r, 500));
      expect(messages).toEqual([]);

      await api.designer.testRun({ graph: publishGraph, event: event(), callRealTargets: true });
      await expect.poll(() => messages.length, { timeout: 10_000 }).toBe(1);
    } finally {
      await subscriber.endAsync();
    }
  });
});
