/**
 * A flow drawn with a broker target (here MQTT publish) runs as a workflow whose
 * `call: asyncapi` the worker carries out on the real Mosquitto.
 */
import { randomUUID } from 'node:crypto';
import mqtt from 'mqtt';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { compile } from '@/runtime/compiler/compile';
import { waitFor } from '@/test/helpers/databases';
import { deploy, post, startWorker, structured, undeployAll, type Worker } from '@/test/integration/events/helpers';

describe('broker targets in deployed flows', () => {
  let pool: pg.Pool;
  let worker: Worker;
  let subscriber: mqtt.MqttClient;
  const tag = randomUUID().slice(0, 8);
  const topic = `meshflow/test/${tag}`;
  const received: Array<{ topic: string; payload: string }> = [];

  beforeAll(async () => {
    pool = new pg.Pool({ connectionString: inject('databaseUrl') });
    subscriber = await mqtt.connectAsync('mqtt://127.0.0.1:1883');
    await subscriber.subscribeAsync(topic, { qos: 1 });
    subscriber.on('message', (t, payload) => received.push({ topic: t, payload: payload.toString() }));
    const nodes = [
      { id: 'orders', kind: 'cloudevents-endpoint', config: { eventType: `com.example.order.${tag}` } },
      { id: 'shape', kind: 'jq-transform', config: { expression: '{ order: .data.order, total: .data.total }' } },
      { id: 'publish', kind: 'mqtt-publish', config: { connection: 'mqtt://127.0.0.1:1883', topic } },
    ];
    const edges = [
      { id: 'e1', source: 'orders', target: 'shape' },
      { id: 'e2', source: 'shape', target: 'publish' },
    ];
    const compiled = compile({ document: { namespace: 'test', name: `mqtt-${tag}`, version: '0.1.0' }, nodes, edges });
    expect(compiled.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    await deploy(pool, compiled.yaml);
    worker = await startWorker(inject('databaseUrl'));
  });

  afterAll(async () => {
    await worker?.running.stop();
    await undeployAll(pool);
    await subscriber?.endAsync();
    await pool.end();
  });

  it('publishes each accepted event to the MQTT topic', async () => {
    const ids = [randomUUID(), randomUUID()];
    for (const [i, id] of ids.entries()) {
      const res = await post(
        worker.base,
        '/events',
        structured({ id, source: '/shop', type: `com.example.order.${tag}`, data: { order: `o-${i}`, total: 10 * (i + 1) } }),
      );
      expect(res.status).toBe(202);
    }
    try {
      await waitFor(async () => (received.length >= 2 ? true : undefined), 20_000, 'two MQTT messages');
    } catch (error) {
      const runs = await pool.query('SELECT status, error FROM run');
      const deliveries = await pool.query('SELECT count(*)::int AS n FROM delivery');
      throw new Error(`${(error as Error).message}\nruns: ${JSON.stringify(runs.rows)}\ndeliveries: ${JSON.stringify(deliveries.rows)}\n${worker.running.output()}`);
    }
    const orders = received.map((m) => JSON.stringify(m)).join('\n');
    expect(orders).toContain('o-0');
    expect(orders).toContain('o-1');
    expect(received.every((m) => m.topic === topic)).toBe(true);
  });
});
