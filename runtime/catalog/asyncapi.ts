/**
 * The catalog as an AsyncAPI 3.0 document and back. One channel per event type (its address
 * is the CloudEvents `type`), one message per channel whose payload is the type's newest data
 * schema, and a `receive` operation per channel (the mesh receives these events). CloudEvents
 * attributes travel as message headers (`ce_source` pattern), Meshflow's own facts as
 * `x-meshflow-*` extensions, so an import of an export gives the same catalog.
 */
import type { JsonSchema } from './schema.ts';

export interface CatalogEntry {
  type: string;
  source: string;
  description: string;
  owner: string;
  schema: JsonSchema | undefined;
  version: number | undefined;
  examples: unknown[];
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** AsyncAPI component keys allow `[A-Za-z0-9.\-_]+`; a type like `com.example.order` fits as it is. */
function key(type: string): string {
  return type.replace(/[^A-Za-z0-9.\-_]/g, '_');
}

export function toAsyncApi(entries: CatalogEntry[], info: { title: string; version: string }): Obj {
  const channels: Obj = {};
  const operations: Obj = {};
  const messages: Obj = {};
  for (const entry of [...entries].sort((a, b) => a.type.localeCompare(b.type))) {
    const k = key(entry.type);
    messages[k] = {
      name: entry.type,
      title: entry.type,
      ...(entry.description ? { summary: entry.description } : {}),
      contentType: 'application/json',
      headers: {
        type: 'object',
        properties: {
          ce_type: { type: 'string', const: entry.type },
          ...(entry.source ? { ce_source: { type: 'string', description: `source pattern: ${entry.source}` } } : {}),
        },
      },
      payload: entry.schema ?? {},
      ...(entry.examples.length > 0 ? { examples: entry.examples.slice(0, 3).map((payload) => ({ payload })) } : {}),
      ...(entry.version !== undefined ? { 'x-meshflow-schema-version': entry.version } : {}),
    };
    channels[k] = {
      address: entry.type,
      ...(entry.description ? { description: entry.description } : {}),
      messages: { [k]: { $ref: `#/components/messages/${k}` } },
      ...(entry.source ? { 'x-meshflow-source': entry.source } : {}),
      ...(entry.owner ? { 'x-meshflow-owner': entry.owner } : {}),
    };
    operations[`receive.${k}`] = {
      action: 'receive',
      channel: { $ref: `#/channels/${k}` },
      messages: [{ $ref: `#/channels/${k}/messages/${k}` }],
    };
  }
  return {
    asyncapi: '3.0.0',
    info: { title: info.title, version: info.version, description: 'Event types of the Meshflow catalog (CloudEvents; the channel address is the event type).' },
    defaultContentType: 'application/json',
    channels,
    operations,
    components: { messages },
  };
}

function resolve(doc: Obj, value: unknown): unknown {
  if (!isObj(value) || typeof value.$ref !== 'string' || !value.$ref.startsWith('#/')) return value;
  let at: unknown = doc;
  for (const part of value.$ref.slice(2).split('/')) at = isObj(at) ? at[part.replace(/~1/g, '/').replace(/~0/g, '~')] : undefined;
  return resolve(doc, at);
}

/**
 * Event types described by an AsyncAPI 3.0 document (already validated by the parser): each
 * message of each channel is a type, named by the message's `name`, else the channel address.
 */
export function fromAsyncApi(doc: Obj): CatalogEntry[] {
  const entries = new Map<string, CatalogEntry>();
  const channels = isObj(doc.channels) ? doc.channels : {};
  for (const [channelKey, raw] of Object.entries(channels)) {
    const channel = resolve(doc, raw);
    if (!isObj(channel)) continue;
    const channelMessages = isObj(channel.messages) ? channel.messages : {};
    for (const [messageKey, rawMessage] of Object.entries(channelMessages)) {
      const message = resolve(doc, rawMessage);
      if (!isObj(message)) continue;
      const type = typeof message.name === 'string' ? message.name : typeof channel.address === 'string' ? channel.address : `${channelKey}.${messageKey}`;
      const payload = resolve(doc, message.payload);
      const examples = Array.isArray(message.examples) ? message.examples.flatMap((e) => (isObj(e) && 'payload' in e ? [e.payload] : [])) : [];
      entries.set(type, {
        type,
        source: typeof channel['x-meshflow-source'] === 'string' ? channel['x-meshflow-source'] : '',
        description: String(message.summary ?? message.description ?? channel.description ?? ''),
        owner: typeof channel['x-meshflow-owner'] === 'string' ? channel['x-meshflow-owner'] : '',
        schema: isObj(payload) && Object.keys(payload).length > 0 ? (payload as JsonSchema) : undefined,
        version: undefined,
        examples,
      });
    }
  }
  return [...entries.values()];
}
