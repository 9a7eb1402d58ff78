/**
 * Broker messages to CloudEvents and back, following each protocol binding where one exists:
 * - MQTT (v5 binary mode: attributes as user properties; structured mode: content type
 *   `application/cloudevents+json`, the only mode of v3.1.1) and Kafka (`ce_` headers) through
 *   the bindings of the `cloudevents` package;
 * - NATS (binding 1.0.2: `ce-` headers) and AMQP (`cloudEvents:`/`cloudEvents_` application
 *   properties; `ce-` accepted too) by their specs' prefixes.
 * A message that is no CloudEvent becomes one: type `io.meshflow.<system>.message`, the
 * connection and channel as `source`, the topic/subject/routing key as `subject`, and the
 * payload as `data` (JSON when it parses, else text, else Base64). Its id is the broker's own
 * message id when it has a stable one, so a redelivered message is recognised as a repeat by
 * the event log's `(source, id)` rule.
 */
import { randomUUID } from 'node:crypto';
import { Kafka, MQTT, MQTTMessageFactory, type Headers } from 'cloudevents';
import { IngressError, checkData, checkJsonDepth, storableText, validateBinary, validateStructured, type CloudEventRecord } from '../events/cloudevent.ts';
import type { ConnectorSystem } from './types.ts';

export const STRUCTURED_TYPE = 'application/cloudevents+json';

export interface PlainOrigin {
  system: ConnectorSystem;
  /** URI-reference naming where the message came from (`mqtt://host:1883/sensors`). */
  source: string;
  subject?: string;
  /** A broker id stable across redeliveries (stream sequence, entry id, message-id). */
  id?: string;
  time?: Date;
}

export class MappingError extends Error {}

function isStructuredType(contentType: string | undefined): boolean {
  return (contentType ?? '').toLowerCase().startsWith(STRUCTURED_TYPE);
}

function looksStructured(body: Buffer): unknown {
  if (body.length === 0 || body[0] !== 0x7b) return undefined;
  try {
    const value = JSON.parse(body.toString('utf8')) as unknown;
    return typeof value === 'object' && value !== null && 'specversion' in value ? value : undefined;
  } catch {
    return undefined;
  }
}

function checked<T>(what: string, map: () => T): T {
  try {
    return map();
  } catch (error) {
    if (error instanceof IngressError) throw new MappingError(`${what}: ${error.message}`);
    throw new MappingError(`${what}: ${(error as Error).message}`);
  }
}

/**
 * A payload as event data: JSON when it parses and the event log can store it, text when it
 * is UTF-8 without U+0000, Base64 otherwise — so no broker message is refused for its payload.
 */
export function payloadData(body: Buffer, contentType?: string): { data: unknown; datacontenttype?: string } | { data_base64: string; datacontenttype?: string } {
  const text = storableText(body);
  if (text !== undefined && (contentType === undefined || /json/i.test(contentType))) {
    try {
      checkJsonDepth(text, 0);
      const data = JSON.parse(text) as unknown;
      checkData(data);
      return { data, datacontenttype: 'application/json' };
    } catch {
      // not JSON, or JSON too deep or with escapes jsonb refuses: fall through to text
    }
  }
  if (text !== undefined) return { data: text, datacontenttype: contentType ?? 'text/plain; charset=utf-8' };
  return { data_base64: body.toString('base64'), datacontenttype: contentType ?? 'application/octet-stream' };
}

export function plainEvent(body: Buffer, origin: PlainOrigin, contentType?: string): CloudEventRecord {
  return {
    specversion: '1.0',
    id: origin.id ?? randomUUID(),
    source: origin.source,
    type: `io.meshflow.${origin.system}.message`,
    ...(origin.subject ? { subject: origin.subject } : {}),
    time: (origin.time ?? new Date()).toISOString(),
    ...payloadData(body, contentType),
  };
}

/** Binary-mode attributes found under one of the prefixes (lower-cased names, prefix removed). */
function prefixed(headers: Record<string, unknown>, prefixes: string[]): Record<string, string> | undefined {
  const attributes: Record<string, string> = {};
  for (const [key, value] of Object.entries(headers)) {
    const prefix = prefixes.find((p) => key.toLowerCase().startsWith(p.toLowerCase()));
    if (prefix === undefined || value === undefined || value === null) continue;
    attributes[key.slice(prefix.length).toLowerCase()] = Buffer.isBuffer(value) ? value.toString('utf8') : String(value);
  }
  return 'specversion' in attributes ? attributes : undefined;
}

/** Headers by name, as the broker clients hand them (strings, Buffers, arrays of either). */
export type HeaderBag = Record<string, unknown>;

/** A message of a system whose binding puts attributes in prefixed headers (NATS, AMQP). */
export function fromHeaders(body: Buffer, headers: HeaderBag, contentType: string | undefined, prefixes: string[], origin: PlainOrigin): CloudEventRecord {
  const where = `${origin.system} message on ${origin.subject ?? origin.source}`;
  if (isStructuredType(contentType)) return checked(where, () => validateStructured(JSON.parse(body.toString('utf8'))));
  const attributes = prefixed(headers, prefixes);
  if (attributes) return checked(where, () => validateBinary(attributes, contentType, body));
  const structured = looksStructured(body);
  if (structured !== undefined) return checked(where, () => validateStructured(structured));
  return plainEvent(body, origin, contentType);
}

export interface MqttIncoming {
  topic: string;
  payload: Buffer;
  /** v5 only. */
  contentType?: string;
  userProperties?: Record<string, string | string[]>;
}

export function fromMqtt(message: MqttIncoming, origin: PlainOrigin): CloudEventRecord {
  const where = `MQTT message on ${message.topic}`;
  const properties = Object.fromEntries(Object.entries(message.userProperties ?? {}).map(([k, v]) => [k, Array.isArray(v) ? v[0] : v]));
  const sdkMessage = MQTTMessageFactory(message.contentType ?? '', properties as Headers, message.payload);
  if (MQTT.isEvent(sdkMessage)) {
    if (isStructuredType(message.contentType)) return checked(where, () => validateStructured(JSON.parse(message.payload.toString('utf8'))));
    return checked(where, () => validateBinary(properties as Record<string, string>, message.contentType || undefined, message.payload));
  }
  // v3.1.1 has no content type: a structured event is recognised by its body.
  const structured = looksStructured(message.payload);
  if (structured !== undefined) return checked(where, () => validateStructured(structured));
  return plainEvent(message.payload, { ...origin, subject: message.topic }, message.contentType || undefined);
}

/** MQTT v5 binary mode: attributes as user properties, data as the payload. */
export function toMqtt(event: CloudEventRecord): { payload: Buffer; contentType?: string; userProperties: Record<string, string> } {
  const userProperties: Record<string, string> = {};
  for (const [name, value] of Object.entries(event)) {
    if (name === 'data' || name === 'data_base64' || name === 'datacontenttype' || value === undefined) continue;
    userProperties[name] = String(value);
  }
  return { payload: dataBytes(event), ...(event.datacontenttype ? { contentType: event.datacontenttype } : {}), userProperties };
}

/** The event's data as message bytes. */
export function dataBytes(event: CloudEventRecord): Buffer {
  if (event.data_base64 !== undefined) return Buffer.from(event.data_base64, 'base64');
  if (!('data' in event) || event.data === undefined) return Buffer.alloc(0);
  if (typeof event.data === 'string' && !/json/i.test(event.datacontenttype ?? 'application/json')) return Buffer.from(event.data);
  return Buffer.from(JSON.stringify(event.data));
}

/** Binary-mode headers for NATS (`ce-`), AMQP (`cloudEvents:`) or Kafka (`ce_`). */
export function binaryHeaders(event: CloudEventRecord, prefix: string): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(event)) {
    if (name === 'data' || name === 'data_base64' || name === 'datacontenttype' || value === undefined) continue;
    headers[`${prefix}${name}`] = String(value);
  }
  if (event.datacontenttype) headers['content-type'] = event.datacontenttype;
  return headers;
}

export interface KafkaIncoming {
  topic: string;
  partition: number;
  offset: string;
  key: Buffer | null;
  value: Buffer | null;
  headers: Record<string, Buffer | string | (Buffer | string)[] | undefined>;
  timestamp: string;
}

export function fromKafka(record: KafkaIncoming, origin: PlainOrigin): CloudEventRecord {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(record.headers)) {
    const first = Array.isArray(value) ? value[0] : value;
    if (first !== undefined) headers[name.toLowerCase()] = Buffer.isBuffer(first) ? first.toString('utf8') : first;
  }
  const body = record.value ?? Buffer.alloc(0);
  const message = { headers, body, key: record.key ?? '', value: body, timestamp: record.timestamp };
  const where = `Kafka record ${record.topic}/${record.partition}@${record.offset}`;
  if (Kafka.isEvent(message)) {
    if (isStructuredType(headers['content-type'])) return checked(where, () => validateStructured(JSON.parse(body.toString('utf8'))));
    const attributes = prefixed(headers, ['ce_']) ?? {};
    // The binding maps the record key to the `partitionkey` extension.
    if (record.key && !('partitionkey' in attributes)) attributes.partitionkey = record.key.toString('utf8');
    return checked(where, () => validateBinary(attributes, headers['content-type'], body));
  }
  return plainEvent(body, {
    ...origin,
    subject: record.topic,
    // A partition offset is stable across redeliveries: a repeat is recognised.
    id: origin.id ?? `${record.topic}/${record.partition}/${record.offset}`,
    time: new Date(Number(record.timestamp)),
  }, headers['content-type']);
}

/** Kafka binary mode via the `cloudevents` binding: `ce_` headers, the partition key as the record key. */
export function toKafka(event: CloudEventRecord): { key: string | null; value: Buffer; headers: Record<string, string> } {
  const headers = binaryHeaders(event, 'ce_');
  const key = typeof event.partitionkey === 'string' ? event.partitionkey : null;
  return { key, value: dataBytes(event), headers };
}

/** The channel part of a source URI: the connection URL without credentials, then the channel. */
export function sourceUri(connection: string, channel: string): string {
  try {
    const url = new URL(connection);
    url.username = '';
    url.password = '';
    return `${url.protocol}//${url.host}/${encodeURI(channel)}`;
  } catch {
    return `/${encodeURIComponent(connection)}/${encodeURI(channel)}`;
  }
}
