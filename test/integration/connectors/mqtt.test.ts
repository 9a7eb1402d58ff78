import { randomUUID } from 'node:crypto';
import mqtt from 'mqtt';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startSink, startWorker, undeployAll, type Sink, type Worker } from '@/test/integration/events/helpers';
import { bodiesAt, deploySourceFlow, receivedIds, waitForConnected, waitForSink } from '@/test/integration/connectors/helpers';

const BROKER = 'mqtt://127.0.0.1:1883';

describe('MQTT source on the real Mosquitto', () => {
  let pool: pg.Pool;
  let sink: Sink;
  let worker: Worker;
  const run = randomUUID().slice(0, 8);
  const topic = `meshflow-test/${run}`;

  beforeAll(async () => {
    pool = new pg.Pool({ connectionString: inject('databaseUrl') });
    sink = await startSink();
    await deploySourceFlow(pool, { kind: 'mqtt-source', connection: { connection: BROKER, topic: `${topic}/#`, qos: 1 }, type: 'io.meshflow.mqtt.message', sink, path: 'mqtt-plain' });
    await deploySourceFlow(pool, { kind: 'mqtt-source', connection: { connection: BROKER, topic: `${topic}-ce/#`, qos: 1 }, type: 'com.example.reading', sink, path: 'mqtt-ce' });
    worker = await startWorker(inject('databaseUrl'));
    await waitForConnected(worker.running.output, 2);
  });

  afterAll(async () => {
    await worker?.running.stop();
    await sink?.close();
    await undeployAll(pool);
    await pool.end();
  });

  it('turns a plain message into an io.meshflow.mqtt.message event and delivers it to the flow target', async () => {
    const client = await mqtt.connectAsync(BROKER, { protocolVersion: 4 });
    await client.publishAsync(`${topic}/kitchen`, JSON.stringify({ celsius: 21.5 }), { qos: 1 });
    await client.endAsync();
    await waitForSink(sink, 'mqtt-plain', 1);
    const delivered = sink.received.find((r) => r.url === '/mqtt-plain')!;
    expect(delivered.headers['ce-type']).toBe('io.meshflow.mqtt.message');
    expect(delivered.headers['ce-subject']).toBe(`${topic}/kitchen`);
    expect(decodeURIComponent(String(delivered.headers['ce-source']))).toBe(`mqtt://127.0.0.1:1883/${topic}/#`);
    expect(bodiesAt(sink, 'mqtt-plain')).toEqual([{ celsius: 21.5 }]);
  });

  it('reads CloudEvents in v5 binary mode (user properties) and in v3.1.1 structured mode', async () => {
    const v5 = await mqtt.connectAsync(BROKER, { protocolVersion: 5 });
    await v5.publishAsync(`${topic}-ce/a`, JSON.stringify({ n: 1 }), {
      qos: 1,
      properties: { contentType: 'application/json', userProperties: { specversion: '1.0', id: `bin-${run}`, source: '/sensors/a', type: 'com.example.reading' } },
    });
    await v5.endAsync();
    const v3 = await mqtt.connectAsync(BROKER, { protocolVersion: 4 });
    await v3.publishAsync(`${topic}-ce/b`, JSON.stringify({ specversion: '1.0', id: `str-${run}`, source: '/sensors/b', type: 'com.example.reading', data: { n: 2 } }), { qos: 1 });
    await v3.endAsync();
    await waitForSink(sink, 'mqtt-ce', 2);
    expect(receivedIds(sink, 'mqtt-ce')).toEqual(new Set([`bin-${run}`, `str-${run}`]));
    expect(bodiesAt(sink, 'mqtt-ce')).toEqual(expect.arrayContaining([{ n: 1 }, { n: 2 }]));
    // A message that is not of the flow's type never reaches it.
    expect(sink.received.filter((r) => r.url === '/mqtt-ce').every((r) => r.headers['ce-type'] === 'com.example.reading')).toBe(true);
  });
});
