import { describe, expect, it } from 'vitest';
import { connectorKinds, parseConnectorConfig } from '@/runtime/connectors/index';
import { fromHeaders, fromKafka, fromMqtt, MappingError, toKafka, toMqtt } from '@/runtime/connectors/mapping';

const origin = { system: 'kafka' as const, source: 'kafka://broker:9092/orders' };

describe('message ↔ CloudEvent mapping', () => {
  it('Kafka binary mode: ce_ headers are attributes, the key becomes partitionkey, and back', () => {
    const event = fromKafka(
      {
        topic: 'orders',
        partition: 2,
        offset: '17',
        key: Buffer.from('customer-9'),
        value: Buffer.from('{"total":5}'),
        headers: { ce_specversion: Buffer.from('1.0'), ce_id: Buffer.from('o-1'), ce_source: Buffer.from('/shop'), ce_type: Buffer.from('com.example.order'), 'content-type': Buffer.from('application/json') },
        timestamp: '1700000000000',
      },
      origin,
    );
    expect(event).toMatchObject({ id: 'o-1', source: '/shop', type: 'com.example.order', data: { total: 5 }, partitionkey: 'customer-9' });
    const record = toKafka(event);
    expect(record.key).toBe('customer-9');
    expect(record.headers).toMatchObject({ ce_id: 'o-1', ce_type: 'com.example.order', 'content-type': 'application/json' });
    expect(JSON.parse(record.value.toString())).toEqual({ total: 5 });
  });

  it('Kafka structured mode and plain records; a plain record keeps its partition offset as id', () => {
    const structured = fromKafka(
      { topic: 't', partition: 0, offset: '1', key: null, value: Buffer.from(JSON.stringify({ specversion: '1.0', id: 's-1', source: '/s', type: 'x.y', data: 1 })), headers: { 'content-type': 'application/cloudevents+json' }, timestamp: '0' },
      origin,
    );
    expect(structured).toMatchObject({ id: 's-1', data: 1 });
    const plain = fromKafka({ topic: 't', partition: 3, offset: '44', key: null, value: Buffer.from('hello'), headers: {}, timestamp: '1700000000000' }, origin);
    expect(plain).toMatchObject({ id: 't/3/44', type: 'io.meshflow.kafka.message', subject: 't', data: 'hello', time: '2023-11-14T22:13:20.000Z' });
  });

  it('MQTT: v5 binary round trip, and a broken CloudEvent is refused naming the attribute', () => {
    const out = toMqtt({ specversion: '1.0', id: 'm-1', source: '/m', type: 'x.m', datacontenttype: 'application/json', data: { a: 1 } });
    const back = fromMqtt({ topic: 't', payload: out.payload, contentType: out.contentType!, userProperties: out.userProperties }, { system: 'mqtt', source: 'mqtt://h/t' });
    expect(back).toEqual({ specversion: '1.0', id: 'm-1', source: '/m', type: 'x.m', datacontenttype: 'application/json', data: { a: 1 } });
    expect(() => fromMqtt({ topic: 't', payload: Buffer.from('{}'), userProperties: { specversion: '1.0', id: 'x', type: 'x.m', source: 'not a uri' } }, { system: 'mqtt', source: 'mqtt://h/t' })).toThrow(
      /MQTT message on t: source must be a URI-reference/,
    );
  });

  it('AMQP headers with the cloudEvents: prefix; binary data that is not UTF-8 becomes data_base64', () => {
    const event = fromHeaders(Buffer.from('{"x":1}'), { 'cloudEvents:specversion': '1.0', 'cloudEvents:id': 'a-1', 'cloudEvents:source': '/q', 'cloudEvents:type': 'x.a' }, 'application/json', ['cloudEvents:'], {
      system: 'amqp',
      source: 'amqp://h/q',
    });
    expect(event).toMatchObject({ id: 'a-1', data: { x: 1 } });
    const binary = fromHeaders(Buffer.from([0xff, 0x00, 0xfe]), {}, undefined, ['ce-'], { system: 'nats', source: 'nats://h/s', id: 'S/1' });
    expect(binary).toMatchObject({ id: 'S/1', data_base64: '/wD+', datacontenttype: 'application/octet-stream' });
    expect(() => fromHeaders(Buffer.from('not json'), {}, 'application/cloudevents+json', [], { system: 'nats', source: 's' })).toThrow(MappingError);
  });
});

describe('connector kinds', () => {
  it('every broker source and target node is a connector kind, plus PostgreSQL and the HTTP sink', () => {
    const kinds = connectorKinds.map((k) => k.kind);
    expect(kinds).toEqual(expect.arrayContaining(['mqtt-source', 'nats-source', 'rabbitmq-source', 'redis-stream-source', 'kafka-source', 'mqtt-publish', 'kafka-publish', 'postgres-source', 'http-sink']));
    for (const kind of connectorKinds) expect(parseConnectorConfig(kind.kind, {}).ok).toBe(true);
  });

  it('a bad config names the field', () => {
    expect(parseConnectorConfig('mqtt-source', { qos: 5 })).toEqual({ ok: false, problem: expect.stringMatching(/^qos: /) });
    expect(parseConnectorConfig('nope', {})).toEqual({ ok: false, problem: expect.stringMatching(/^kind: no connector kind "nope"/) });
  });
});
