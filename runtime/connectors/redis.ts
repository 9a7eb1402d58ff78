/**
 * Redis Streams through a consumer group. Entries are read with XREADGROUP, committed, and
 * only then XACKed, so an entry whose commit did not happen stays pending and is read again:
 * first this consumer's own pending entries (after a reconnect), then entries another consumer
 * left pending longer than `claimAfterMs` (XAUTOCLAIM, after a crash).
 *
 * A Redis that restarts without persistence (`--save ""`, no AOF) comes back with no stream,
 * no group and no pending list: entries that were not yet committed are gone with it, and no
 * consumer can prevent that. What the consumer does guarantee is that nothing added *after*
 * the restart is skipped: a missing group is created at the start of the stream, never at its
 * end, whether it vanished mid-session or before a reconnect. (A new group on a stream with
 * history therefore reads that history; entry ids are event ids, so entries the event log
 * already holds are recognised as repeats.)
 */
import net from 'node:net';
import { Redis } from 'ioredis';
import { egressPolicy, egressRefusal } from '../net/egress.ts';
import { fromHeaders, sourceUri, STRUCTURED_TYPE } from './mapping.ts';
import type { ConnectorConfig, ConnectorDriver, ConnectorSecrets, Inbound, Publisher, SessionContext } from './types.ts';

const PREFIXES = ['ce-', 'ce_'];
const CLAIM_AFTER_MS = 30_000;

/**
 * ioredis hands only host, port and family to net.connect (no lookup), so the name is resolved
 * and checked here, once, and the client connects to the checked address; TLS keeps the name
 * for SNI and the certificate. The client never reconnects (the host does, through here) and
 * standalone mode follows no cluster or sentinel redirections, so it reaches no other address.
 */
async function open(config: ConnectorConfig, secrets: ConnectorSecrets): Promise<Redis> {
  const url = new URL(config.connection);
  // Another scheme makes ioredis read the path as a Unix socket, which the policy cannot check.
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') throw new Error(`${url.protocol}// is not a Redis URL; use redis:// or rediss://`);
  const host = decodeURIComponent(url.hostname).replace(/^\[|\]$/g, '') || 'localhost';
  const [address] = await egressPolicy().check(host, Number(url.port) || 6379);
  // ioredis takes a URL's host over an option's: the URL names the checked address instead.
  url.hostname = net.isIPv6(address!) ? `[${address!}]` : address!;
  return new Redis(url.toString(), {
    ...(url.protocol === 'rediss:' && !net.isIP(host) ? { tls: { servername: host } } : {}),
    lazyConnect: true,
    // The host reconnects with backoff; a lost connection must end the session, not queue commands.
    retryStrategy: () => null,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    connectTimeout: 5_000,
    ...(typeof config.username === 'string' && config.username ? { username: config.username } : {}),
    ...(secrets.password ? { password: secrets.password } : {}),
  });
}

async function connected(config: ConnectorConfig, secrets: ConnectorSecrets): Promise<Redis> {
  let client: Redis;
  try {
    client = await open(config, secrets);
  } catch (error) {
    throw egressRefusal(error) ?? new Error(`Redis ${sourceUri(config.connection, '').replace(/\/$/, '')}: ${(error as Error).message}`);
  }
  // The socket's own error (ECONNREFUSED, auth…) says more than connect()'s "Connection is closed".
  let cause: Error | undefined;
  client.on('error', (error: Error) => (cause ??= error));
  try {
    await client.connect();
    return client;
  } catch (error) {
    client.disconnect();
    throw new Error(`Redis ${sourceUri(config.connection, '').replace(/\/$/, '')}: ${(cause ?? (error as Error)).message}`);
  }
}

type Entry = [id: string, fields: string[] | null];

/** A stream entry as a CloudEvent: `ce-`/`ce_` fields are attributes, `data` the payload; or a structured `event` field; or plain fields as data. */
function toEvent(stream: string, source: string, [id, list]: Entry) {
  const fields: Record<string, string> = {};
  for (let i = 0; i + 1 < (list ?? []).length; i += 2) fields[list![i]!] = list![i + 1]!;
  const structured = fields.event ?? fields.cloudevent;
  if (structured !== undefined && Object.keys(fields).length === 1) {
    return fromHeaders(Buffer.from(structured), {}, STRUCTURED_TYPE, PREFIXES, { system: 'redis', source });
  }
  const plainFields = Object.keys(fields).length === 1 && 'data' in fields;
  const body = Buffer.from(plainFields || 'ce-specversion' in fields || 'ce_specversion' in fields ? (fields.data ?? '') : JSON.stringify(fields));
  const contentType = fields['content-type'] ?? fields.datacontenttype;
  // The entry id is stable across redeliveries: a repeat is recognised by the event log.
  return fromHeaders(body, fields, contentType, PREFIXES, { system: 'redis', source, subject: stream, id: `${stream}/${id}`, time: new Date(Number(id.split('-')[0])) });
}

async function ensureGroup(client: Redis, stream: string, group: string): Promise<void> {
  try {
    await client.xgroup('CREATE', stream, group, '0', 'MKSTREAM');
  } catch (error) {
    if (!/BUSYGROUP/.test((error as Error).message)) throw error;
  }
}

async function consume(ctx: SessionContext): Promise<void> {
  const client = await connected(ctx.config, ctx.secrets);
  // Reading blocks this connection; acks and claims go over a second one.
  const control = await connected(ctx.config, ctx.secrets).catch((error: Error) => {
    client.disconnect();
    throw error;
  });
  const stream = String(ctx.config.stream);
  const group = String(ctx.config.group);
  const consumer = ctx.consumerName;
  const source = sourceUri(ctx.config.connection, stream);
  const stop = () => {
    client.disconnect();
    control.disconnect();
  };
  ctx.signal.addEventListener('abort', stop, { once: true });

  async function handle(entries: Entry[]): Promise<void> {
    const batch: Inbound[] = [];
    for (const entry of entries) {
      // An entry deleted while pending has nothing to read, only to acknowledge.
      if (entry[1] === null) continue;
      try {
        batch.push({ event: toEvent(stream, source, entry), settle: () => {} });
      } catch (error) {
        ctx.unreadable(error as Error);
      }
    }
    await ctx.deliver(batch);
    // One XACK for the batch, after its commit: unreadable and deleted entries go with it.
    await control.xack(stream, group, ...entries.map((e) => e[0]));
  }

  try {
    await ensureGroup(control, stream, group);
    ctx.connected();
    // What this consumer read before a reconnect and never acknowledged comes first.
    let cursor = '0';
    for (;;) {
      const pending = (await control.xreadgroup('GROUP', group, consumer, 'COUNT', 256, 'STREAMS', stream, cursor)) as [string, Entry[]][] | null;
      const entries = pending?.[0]?.[1] ?? [];
      if (entries.length === 0) break;
      await handle(entries);
      cursor = entries[entries.length - 1]![0];
    }
    let lastClaim = 0;
    while (!ctx.signal.aborted) {
      if (Date.now() - lastClaim > CLAIM_AFTER_MS / 2) {
        lastClaim = Date.now();
        const claimed = (await control.xautoclaim(stream, group, consumer, CLAIM_AFTER_MS, '0', 'COUNT', 256)) as [string, Entry[], string[]?];
        if (claimed[1].length > 0) await handle(claimed[1]);
        const info = (await control.xinfo('GROUPS', stream)) as unknown[][];
        const mine = info.map((row) => Object.fromEntries(chunk(row))).find((row) => row.name === group);
        if (mine && typeof mine.lag === 'number') ctx.backlog(mine.lag);
      }
      let read: [string, Entry[]][] | null;
      try {
        read = (await client.xreadgroup('GROUP', group, consumer, 'COUNT', 256, 'BLOCK', 1000, 'STREAMS', stream, '>')) as [string, Entry[]][] | null;
      } catch (error) {
        if (!/NOGROUP/.test((error as Error).message)) throw error;
        // The group is gone (a restart without persistence): everything in the stream now is new.
        await ensureGroup(control, stream, group);
        continue;
      }
      const entries = read?.[0]?.[1] ?? [];
      if (entries.length > 0) await handle(entries);
    }
  } catch (error) {
    if (!ctx.signal.aborted) throw new Error(`Redis stream ${stream}: ${(error as Error).message}`);
  } finally {
    ctx.signal.removeEventListener('abort', stop);
    stop();
  }
}

function chunk(row: unknown[]): [string, unknown][] {
  const pairs: [string, unknown][] = [];
  for (let i = 0; i + 1 < row.length; i += 2) pairs.push([String(row[i]), row[i + 1]]);
  return pairs;
}

export const redisDriver: ConnectorDriver = {
  system: 'redis',
  async test(config, secrets) {
    const client = await connected(config, secrets);
    try {
      await client.ping();
    } finally {
      client.disconnect();
    }
  },
  consume,
  async publisher(config, secrets): Promise<Publisher> {
    const client = await connected(config, secrets);
    return {
      async publish({ event, channel: stream, options }) {
        const cap = typeof options.maxLength === 'number' ? ['MAXLEN', '~', String(options.maxLength)] : [];
        // Structured mode in one field: the event as it is, readable by any consumer.
        await client.call('XADD', stream, ...cap, '*', 'event', JSON.stringify(event));
      },
      close: async () => {
        client.disconnect();
      },
    };
  },
};
