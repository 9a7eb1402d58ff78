/**
 * NATS core and JetStream. Core subscriptions are fire-and-forget (a message sent while the
 * worker is away is gone). With a `stream`, the consumer is a durable JetStream pull consumer
 * with explicit acks, sent only after the event is committed; the stream is created on first
 * use when it does not exist, capturing the configured subject.
 */
import net from 'node:net';
import { headers as natsHeaders, NatsConnectionImpl, setTransportFactory, type MsgHdrs, type NatsConnection, type NodeConnectionOptions } from '@nats-io/transport-node';
import { NodeTransport } from '@nats-io/transport-node/lib/node_transport.js';
import { EgressRefused, egressPolicy, egressRefusal } from '../net/egress.ts';
import { AckPolicy, jetstream, jetstreamManager, JetStreamApiError, type JsMsg } from '@nats-io/jetstream';
import { binaryHeaders, dataBytes, fromHeaders, sourceUri, type HeaderBag } from './mapping.ts';
import type { ConnectorConfig, ConnectorDriver, ConnectorSecrets, Inbound, Publisher, SessionContext } from './types.ts';

const PREFIXES = ['ce-'];

/**
 * The Node transport, but every server it dials — the configured one and any a cluster
 * advertises (`connect_urls`) — is checked by the egress policy at the address it dials. The
 * client resolves names through the policy's resolver (and keeps the name for TLS), so the
 * address checked is the address dialled, and a refused one is never dialled.
 */
class CheckedTransport extends NodeTransport {
  override async connect(hp: { hostname: string; port: number; tlsName: string }, options: NodeConnectionOptions): Promise<void> {
    const host = hp.hostname.replace(/^\[|\]$/g, '');
    // The product's own event backend, as the operator configured it: not a flow's connection.
    if (options.name === EVENT_BACKEND_CLIENT && [host, hp.tlsName].some((h) => h && trustedServers.has(`${h.toLowerCase()}:${hp.port}`))) return super.connect(hp, options);
    let address: string | undefined;
    try {
      [address] = await egressPolicy().check(host, hp.port);
    } catch (error) {
      const refusal = egressRefusal(error);
      // The client resolved the name (hp.tlsName) to this address: a refusal names both.
      if (refusal && hp.tlsName && net.isIP(host) && !net.isIP(hp.tlsName)) throw new EgressRefused(`${hp.tlsName}:${hp.port} → ${refusal.target}`, refusal.reason);
      throw error;
    }
    // A name the client did not resolve itself (it does unless told not to) goes to its checked address.
    return super.connect(net.isIP(host) ? hp : { hostname: address!, port: hp.port, tlsName: hp.tlsName || host }, options);
  }
}

/** The client name of the event backend's connection, the one connection the policy does not check. */
const EVENT_BACKEND_CLIENT = 'meshflow-event-backend';
/** `host:port` of the servers MESHFLOW_NATS_URL names. */
const trustedServers = new Set<string>();

/**
 * The connection of the JetStream event backend (MESHFLOW_NATS_URL): the servers the operator
 * configured are dialled without the egress policy (which lists them among the product's own
 * services, refused to flows); any other server a cluster advertises is checked as usual.
 */
export function natsConnectEventBackend(servers: string[], options: Omit<NodeConnectionOptions, 'servers' | 'name'> = {}): Promise<NatsConnection> {
  const hostPorts = servers.map((s) => {
    const url = new URL(s);
    return { url, hostPort: `${url.hostname.replace(/^\[|\]$/g, '').toLowerCase()}:${url.port || '4222'}` };
  });
  for (const { hostPort } of hostPorts) trustedServers.add(hostPort);
  const first = hostPorts[0]?.url;
  return natsConnect({
    ...options,
    name: EVENT_BACKEND_CLIENT,
    servers: hostPorts.map((h) => h.hostPort),
    ...(first?.username ? { user: decodeURIComponent(first.username) } : {}),
    ...(first?.password ? { pass: decodeURIComponent(first.password) } : {}),
  });
}

/**
 * `connect` of @nats-io/transport-node with the checked transport and the policy's resolver.
 * The transport factory is global to the NATS client: every NATS connection the product
 * opens comes through here, so it is always this one.
 */
export function natsConnect(options: NodeConnectionOptions): Promise<NatsConnection> {
  setTransportFactory({
    factory: () => new CheckedTransport(),
    dnsResolveFn: (host: string) => egressPolicy().resolve(host),
  });
  return NatsConnectionImpl.connect({ ...options, resolve: true });
}

async function open(config: ConnectorConfig, secrets: ConnectorSecrets): Promise<NatsConnection> {
  const url = new URL(config.connection);
  try {
    return await natsConnect({
      servers: `${url.hostname}:${url.port || '4222'}`,
      reconnect: false,
      timeout: 5_000,
      ...(url.username || typeof config.username === 'string' ? { user: decodeURIComponent(url.username) || String(config.username) } : {}),
      ...(url.password || secrets.password ? { pass: decodeURIComponent(url.password) || secrets.password } : {}),
      ...(secrets.token ? { token: secrets.token } : {}),
    });
  } catch (error) {
    throw egressRefusal(error) ?? new Error(`NATS server ${config.connection}: ${(error as Error).message}`);
  }
}

function headerBag(h: MsgHdrs | undefined): HeaderBag {
  const bag: HeaderBag = {};
  if (!h) return bag;
  for (const key of h.keys()) bag[key] = h.get(key);
  return bag;
}

/** Resolves when the connection closes: with the error that closed it, if any. */
function closedWith(nc: NatsConnection): Promise<Error | undefined> {
  return nc.closed().then((error) => error ?? undefined);
}

async function ensureStream(nc: NatsConnection, stream: string, subject: string): Promise<void> {
  const jsm = await jetstreamManager(nc);
  try {
    await jsm.streams.info(stream);
  } catch (error) {
    if (!(error instanceof JetStreamApiError) || !/not found/i.test(error.message)) throw error;
    await jsm.streams.add({ name: stream, subjects: [subject] });
  }
}

async function consumeJetStream(ctx: SessionContext, nc: NatsConnection, stream: string, subject: string, source: string): Promise<void> {
  await ensureStream(nc, stream, subject);
  const durable = typeof ctx.config.durable === 'string' && ctx.config.durable ? ctx.config.durable : `meshflow-${stream}`;
  const jsm = await jetstreamManager(nc);
  await jsm.consumers.add(stream, { durable_name: durable, ack_policy: AckPolicy.Explicit, filter_subject: subject, ack_wait: 30_000_000_000 });
  const consumer = await jetstream(nc).consumers.get(stream, durable);
  const messages = await consumer.consume({ max_messages: 256 });
  ctx.connected();
  const stop = () => void messages.close();
  ctx.signal.addEventListener('abort', stop, { once: true });
  try {
    for await (const m of messages as AsyncIterable<JsMsg>) {
      let inbound: Inbound;
      try {
        const event = fromHeaders(Buffer.from(m.data), headerBag(m.headers), m.headers?.get('content-type') || undefined, PREFIXES, {
          system: 'nats',
          source,
          subject: m.subject,
          // The stream sequence survives redelivery: a repeat is recognised by the event log.
          id: `${stream}/${m.seq}`,
          time: new Date(m.info.timestampNanos / 1e6),
        });
        inbound = { event, settle: () => m.ack() };
      } catch (error) {
        ctx.unreadable(error as Error);
        m.term();
        continue;
      }
      await ctx.deliver([inbound]);
      ctx.backlog(m.info.pending);
    }
  } finally {
    ctx.signal.removeEventListener('abort', stop);
  }
}

async function consumeCore(ctx: SessionContext, nc: NatsConnection, subject: string, source: string): Promise<void> {
  const queue = typeof ctx.config.queue === 'string' && ctx.config.queue ? { queue: ctx.config.queue } : {};
  const subscription = nc.subscribe(subject, queue);
  await nc.flush();
  ctx.connected();
  const stop = () => subscription.unsubscribe();
  ctx.signal.addEventListener('abort', stop, { once: true });
  try {
    for await (const m of subscription) {
      try {
        const event = fromHeaders(Buffer.from(m.data), headerBag(m.headers), m.headers?.get('content-type') || undefined, PREFIXES, { system: 'nats', source, subject: m.subject });
        await ctx.deliver([{ event, settle: () => {} }]);
      } catch (error) {
        if (error instanceof Error && error.name === 'MappingError') ctx.unreadable(error);
        else throw error;
      }
    }
  } finally {
    ctx.signal.removeEventListener('abort', stop);
  }
}

export const natsDriver: ConnectorDriver = {
  system: 'nats',
  async test(config, secrets) {
    const nc = await open(config, secrets);
    try {
      await nc.flush();
      if (typeof config.stream === 'string' && config.stream) {
        await (await jetstreamManager(nc)).getAccountInfo();
      }
    } finally {
      await nc.close();
    }
  },
  async consume(ctx) {
    const nc = await open(ctx.config, ctx.secrets);
    const subject = String(ctx.config.subject);
    const source = sourceUri(ctx.config.connection, subject);
    const closed = closedWith(nc);
    const stream = typeof ctx.config.stream === 'string' && ctx.config.stream ? ctx.config.stream : undefined;
    const work = stream ? consumeJetStream(ctx, nc, stream, subject, source) : consumeCore(ctx, nc, subject, source);
    try {
      // A lost connection ends the iterators quietly or not at all: watch the connection too.
      await Promise.race([work, closed.then((error) => (ctx.signal.aborted ? undefined : Promise.reject(error ?? new Error(`NATS server ${ctx.config.connection} closed the connection`))))]);
      if (!ctx.signal.aborted) throw new Error(`NATS subscription to ${subject} ended`);
    } finally {
      if (!nc.isClosed()) await nc.close().catch(() => {});
      work.catch(() => {});
    }
  },
  async publisher(config, secrets): Promise<Publisher> {
    const nc = await open(config, secrets);
    const js = jetstream(nc);
    return {
      async publish({ event, channel: subject, options }) {
        const h = natsHeaders();
        for (const [name, value] of Object.entries(binaryHeaders(event, 'ce-'))) h.set(name, value);
        if (options.jetstream === true) {
          // Deduplicated by JetStream on the event id within its duplicate window.
          await js.publish(subject, dataBytes(event), { headers: h, msgID: `${event.source}|${event.id}` });
        } else {
          nc.publish(subject, dataBytes(event), { headers: h });
          await nc.flush();
        }
      },
      close: () => nc.close(),
    };
  },
};
