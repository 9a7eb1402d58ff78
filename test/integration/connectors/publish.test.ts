import { randomUUID } from 'node:crypto';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import amqp from 'amqplib';
import { Redis } from 'ioredis';
import mqtt from 'mqtt';
import { afterAll, describe, expect, it } from 'vitest';
import { drivers } from '@/runtime/connectors/index';
import type { AsyncApiRequest } from '@/runtime/engine/ports';
import type { Json } from '@/runtime/engine/types';
import { BrokerPublishPort } from '@/runtime/connectors/publish-port';
import { startSink } from '@/test/integration/events/helpers';

/** What a broker target task hands the engine's asyncapi port (runtime/nodes/shared.ts brokerTarget). */
function request(protocol: string, url: string, channel: string, data: Json, headers: Record<string, Json> = {}): AsyncApiRequest {
  return {
    document: {},
    operation: 'publish',
    protocol,
    server: { name: 'meshflow', variables: { url, channel } },
    message: { payload: { data }, headers },
  };
}


describe('broker targets publish to the real brokers', () => {
  const port = new BrokerPublishPort();
  const run = randomUUID().slice(0, 8);
  afterAll(() => port.close());

  it('MQTT v5: the event travels in binary mode, attributes as user properties', async () => {
    const sub = await mqtt.connectAsync('mqtt://127.0.0.1:1883', { protocolVersion: 5 });
    const got = new Promise<mqtt.IPublishPacket>((resolve) => sub.on('message', (_t, _p, packet) => resolve(packet)));
    await sub.subscribeAsync(`out/${run}`, { qos: 1 });
    await port.publish(request('mqtt', 'mqtt://127.0.0.1:1883', `out/${run}`, { specversion: '1.0', id: 'e-1', source: '/x', type: 'com.example.out', data: { ok: true } }));
    const packet = await got;
    await sub.endAsync();
    expect(JSON.parse(packet.payload.toString())).toEqual({ ok: true });
    expect(packet.properties?.userProperties).toMatchObject({ id: 'e-1', type: 'com.example.out', specversion: '1.0' });
  });

  it('NATS core and JetStream', async () => {
    const nc = await connect({ servers: '127.0.0.1:4222' });
    const sub = nc.subscribe(`out.${run}.core`, { max: 1 });
    await nc.flush();
    await port.publish(request('nats', 'nats://127.0.0.1:4222', `out.${run}.core`, { n: 1 }));
    for await (const m of sub) {
      expect(m.json()).toEqual({ n: 1 });
      expect(m.headers?.get('ce-type')).toBe('io.meshflow.nats.message');
    }
    const jsm = await jetstreamManager(nc);
    await jsm.streams.add({ name: `OUT_${run}`, subjects: [`out.${run}.js`] });
    await port.publish(request('nats', 'nats://127.0.0.1:4222', `out.${run}.js`, { n: 2 }, { jetstream: true }));
    const stored = await jsm.streams.getMessage(`OUT_${run}`, { seq: 1 });
    expect(stored?.json()).toEqual({ n: 2 });
    await jsm.streams.delete(`OUT_${run}`);
    await nc.close();
  });

  it('RabbitMQ: persistent, with the event id as message id and cloudEvents: headers', async () => {
    const c = await amqp.connect('amqp://guest:guest@127.0.0.1:5672');
    const ch = await c.createChannel();
    const q = await ch.assertQueue('', { exclusive: true });
    await ch.bindQueue(q.queue, 'amq.topic', `out.${run}`);
    await port.publish(request('amqp', 'amqp://guest:guest@127.0.0.1:5672', 'amq.topic', { n: 3 }, { routingKey: `out.${run}` }));
    const message = await new Promise<amqp.GetMessage>((resolve, reject) => {
      const poll = async (tries: number) => {
        const m = await ch.get(q.queue, { noAck: true });
        if (m) resolve(m);
        else if (tries > 50) reject(new Error('nothing arrived'));
        else setTimeout(() => void poll(tries + 1), 50);
      };
      void poll(0);
    });
    await c.close();
    expect(JSON.parse(message.content.toString())).toEqual({ n: 3 });
    expect(message.properties.deliveryMode).toBe(2);
    expect(message.properties.headers?.['cloudEvents:id']).toBe(message.properties.messageId);
  });

  it('Redis: XADD of the structured event', async () => {
    await port.publish(request('redis', 'redis://127.0.0.1:6379', `out-${run}`, { n: 4 }));
    const r = new Redis('redis://127.0.0.1:6379');
    const entries = await r.xrange(`out-${run}`, '-', '+');
    await r.del(`out-${run}`);
    r.disconnect();
    expect(entries).toHaveLength(1);
    expect(JSON.parse(entries[0]![1][1]!)).toMatchObject({ specversion: '1.0', type: 'io.meshflow.redis.message', data: { n: 4 } });
  });

  it('HTTP sink: binary-mode POST; an unreachable broker is named in the error', async () => {
    const sink = await startSink();
    const publisher = await drivers.http.publisher!({ connection: `${sink.url}/hook` }, {});
    await publisher.publish({ event: { specversion: '1.0', id: 'h-1', source: '/x', type: 'com.example.h', data: { n: 5 } }, channel: '', options: {} });
    await publisher.close();
    await sink.close();
    expect(sink.received[0]?.headers['ce-id']).toBe('h-1');
    expect(JSON.parse(sink.received[0]!.body)).toEqual({ n: 5 });
    await expect(port.publish(request('mqtt', 'mqtt://127.0.0.1:1', 'x', {}))).rejects.toThrow(/mqtt:\/\/127\.0\.0\.1:1/);
  });
});
