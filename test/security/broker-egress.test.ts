/**
 * Egress for brokers (SECURITY.md, "Egress policy"): a broker connection is checked on the
 * address its socket actually connects to, not only on what the connection string's name
 * resolved to a moment before. A flow editor who controls a name's DNS answers it with an
 * allowed address when the registry checks it and with the product's database when the client
 * connects (DNS rebinding); or a broker advertises another server (NATS `connect_urls`, Kafka
 * metadata brokers). Both are refused, and no socket reaches the refused address.
 *
 * Traffic goes to loopback only. "The product's database" here is a trap: a TCP listener on
 * 127.0.0.1 that the policy names as the database and that counts every connection it gets.
 * Names resolve through a stubbed resolver: `rebind.test` answers 127.0.0.2 the first time
 * (opened at the trap's port by an exact MESHFLOW_EGRESS_ALLOW entry, so the check passes) and
 * the trap's address 127.0.0.1 after that; `db.test` always answers the trap's address;
 * `broker.test` answers 127.0.0.1, where the real brokers listen.
 */
import net from 'node:net';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, inject, it, vi } from 'vitest';
import { drivers } from '@/runtime/connectors/index';
import { kafkaSocketFactory } from '@/runtime/connectors/kafka';
import { natsConnect } from '@/runtime/connectors/nats';
import type { ConnectorSystem } from '@/runtime/connectors/types';
import { EgressRefused, egressPolicyFromEnv, egressRefusal, setEgressPolicy, type EgressPolicy, type Resolver } from '@/runtime/net/egress';
import { waitFor } from '@/test/helpers/databases';

const databaseUrl = () => inject('databaseUrl');
const dbPort = () => Number(new URL(databaseUrl()).port || 5432);

/** A listener that stands for one of the product's own services and counts who reaches it. */
interface Trap {
  port: number;
  connections: number;
  close: () => Promise<void>;
}

async function listen(onConnection: (socket: net.Socket) => void): Promise<{ server: net.Server; port: number }> {
  const server = net.createServer(onConnection);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as net.AddressInfo).port };
}

async function startTrap(): Promise<Trap> {
  const sockets = new Set<net.Socket>();
  const trap = { port: 0, connections: 0, close: async () => {} };
  const { server, port } = await listen((socket) => {
    trap.connections++;
    sockets.add(socket);
    socket.destroy();
  });
  trap.port = port;
  trap.close = () => new Promise<void>((resolve) => server.close(() => resolve()));
  return trap;
}

const lookups = new Map<string, number>();

const rebindingDns: Resolver = async (host) => {
  const seen = (lookups.get(host) ?? 0) + 1;
  lookups.set(host, seen);
  if (host === 'rebind.test') return seen === 1 ? ['127.0.0.2'] : ['127.0.0.1'];
  if (host === 'broker.test' || host === 'db.test' || host === 'localhost') return ['127.0.0.1'];
  throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND' });
};

let trap: Trap;
let policy: EgressPolicy;

beforeAll(async () => {
  trap = await startTrap();
  // The worker's policy on this database, with the trap as the database too; the real one is
  // opened by exact host:port for the PostgreSQL control case, the trap's port at 127.0.0.2
  // for rebind.test's first answer.
  policy = egressPolicyFromEnv({ DATABASE_URL: databaseUrl(), MESHFLOW_EGRESS_ALLOW: `broker.test:${dbPort()},127.0.0.2:${trap.port}` }, { resolve: rebindingDns });
  policy.addOwn({ what: "the product's database", host: '127.0.0.1', port: trap.port });
  setEgressPolicy(policy);
});
afterAll(async () => {
  setEgressPolicy(undefined);
  await trap.close();
});
beforeEach(() => lookups.clear());

/** A connector config for `system` at host:port, with what its test needs besides. */
function configFor(system: Exclude<ConnectorSystem, 'http'>, host: string, port: number) {
  switch (system) {
    case 'mqtt':
      return { connection: `mqtt://${host}:${port}`, topic: 'meshflow/egress' };
    case 'nats':
      return { connection: `nats://${host}:${port}`, subject: 'meshflow.egress' };
    case 'amqp':
      return { connection: `amqp://guest:guest@${host}:${port}`, queue: 'meshflow-egress' };
    case 'redis':
      return { connection: `redis://${host}:${port}`, stream: 'meshflow-egress', group: 'g' };
    case 'kafka':
      return { connection: `${host}:${port}`, topic: 'meshflow-egress', groupId: 'g' };
    case 'postgres': {
      const url = new URL(databaseUrl());
      url.hostname = host;
      url.port = String(port);
      return { connection: url.toString(), table: 'pg_catalog.pg_class' };
    }
  }
}

const REAL_PORTS = { mqtt: 1883, nats: 4222, amqp: 5672, redis: 6379 } as const;

describe('broker connections resolve through the policy and are checked when they connect', () => {
  for (const system of ['mqtt', 'nats', 'amqp', 'redis', 'postgres'] as const) {
    it(`${system}: a name the policy resolves to an allowed loopback broker connects`, async () => {
      // broker.test exists only in the stubbed resolver: connecting proves the client used it.
      const port = system === 'postgres' ? dbPort() : REAL_PORTS[system];
      await expect(drivers[system].test(configFor(system, 'broker.test', port), {})).resolves.toBeUndefined();
      expect(lookups.get('broker.test')).toBeGreaterThanOrEqual(1);
    });
  }

  for (const system of ['mqtt', 'nats', 'amqp', 'redis', 'postgres', 'kafka'] as const) {
    it(`${system}: a name that rebinds to the database between the check and the connect is refused, and nothing reaches it`, async () => {
      const before = trap.connections;
      const error = await drivers[system].test(configFor(system, 'rebind.test', trap.port), {}).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(egressRefusal(error), String(error)).toBeInstanceOf(EgressRefused);
      expect((error as Error).message).toBe(`egress policy refuses rebind.test:${trap.port} → 127.0.0.1:${trap.port} (the product's database)`);
      // The registry's check saw the allowed answer; the one at connect time saw the trap.
      expect(lookups.get('rebind.test')).toBeGreaterThanOrEqual(2);
      expect(trap.connections).toBe(before);
    });
  }
});

describe('Unix sockets, which the policy cannot check (the database listens on one), are refused', () => {
  it("a PostgreSQL source at the database's socket directory is refused, before pg connects", async () => {
    const error = await drivers.postgres.test({ connection: 'postgresql://postgres@/postgres?host=/var/run/postgresql', table: 'public.run' }, {}).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(egressRefusal(error), String(error)).toBeInstanceOf(EgressRefused);
    expect((error as Error).message).toMatch(/^egress policy refuses \/var\/run\/postgresql\/\.s\.PGSQL\.5432 \(a Unix socket; the egress policy allows TCP connections only\)$/);
  });

  it('MQTT over a Unix socket is refused, and a Redis URL of another scheme (read as a socket path) is not accepted', async () => {
    await expect(drivers.mqtt.test({ connection: 'mqtt+unix:///var/run/postgresql/.s.PGSQL.5432', topic: 't' }, {})).rejects.toThrow(/egress policy refuses .*a Unix socket/);
    await expect(drivers.redis.test({ connection: 'unix://localhost/var/run/postgresql/.s.PGSQL.5432', stream: 's', group: 'g' }, {})).rejects.toThrow(
      'unix:// is not a Redis URL; use redis:// or rediss://',
    );
  });
});

describe('MQTT over WebSocket checks in the socket lookup', () => {
  it('a ws:// name that rebinds to the database is refused, and nothing reaches it', async () => {
    const before = trap.connections;
    const error = await drivers.mqtt.test({ connection: `ws://rebind.test:${trap.port}/mqtt`, topic: 't' }, {}).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(egressRefusal(error), String(error)).toBeInstanceOf(EgressRefused);
    expect((error as Error).message).toBe(`egress policy refuses rebind.test:${trap.port} → 127.0.0.1:${trap.port} (the product's database)`);
    expect(trap.connections).toBe(before);
  });
});

describe('a deployed source that rebinds is refused, not retried', () => {
  for (const system of ['mqtt', 'nats', 'amqp', 'redis', 'postgres', 'kafka'] as const) {
    it(`${system}: the consuming session ends with the policy's refusal (the worker marks such a connector failed instead of reconnecting)`, async () => {
      const before = trap.connections;
      const abort = new AbortController();
      const connected = vi.fn();
      const session = drivers[system].consume!({
        config: configFor(system, 'rebind.test', trap.port),
        secrets: {},
        signal: abort.signal,
        connected,
        deliver: async () => {},
        unreadable: () => {},
        backlog: () => {},
        consumerName: 'egress-test',
        consumerKey: 'egress-test',
      });
      const error = await session.then(
        () => undefined,
        (e: unknown) => e,
      );
      abort.abort();
      expect(egressRefusal(error), String(error)).toBeInstanceOf(EgressRefused);
      expect((error as Error).message).toBe(`egress policy refuses rebind.test:${trap.port} → 127.0.0.1:${trap.port} (the product's database)`);
      expect(connected).not.toHaveBeenCalled();
      expect(trap.connections).toBe(before);
    });
  }
});

/** The server name (SNI) a TLS ClientHello carries, or '' when it names none; undefined until the record is complete. */
function clientHelloName(data: Buffer): string | undefined {
  if (data.length < 5 || data.length < 5 + data.readUInt16BE(3)) return undefined;
  let at = 5 + 4 + 2 + 32; // record header, handshake header, version, random
  at += 1 + data[at]!; // session id
  at += 2 + data.readUInt16BE(at); // cipher suites
  at += 1 + data[at]!; // compression methods
  const end = at + 2 + data.readUInt16BE(at);
  for (at += 2; at + 4 <= end; ) {
    const type = data.readUInt16BE(at);
    const length = data.readUInt16BE(at + 2);
    // server_name: list length (2), name type (1), name length (2), name.
    if (type === 0) return data.subarray(at + 9, at + 9 + data.readUInt16BE(at + 7)).toString();
    at += 4 + length;
  }
  return '';
}

/**
 * A loopback listener that records the server name of each TLS handshake it is offered, then
 * hangs up. `preamble` answers what a protocol sends before TLS (PostgreSQL's SSLRequest, the
 * NATS INFO that asks for TLS).
 */
async function sniRecorder(preamble?: (socket: net.Socket, data: Buffer) => Buffer | undefined) {
  const names: string[] = [];
  const { server, port } = await listen((socket) => {
    let buffer: Buffer = Buffer.alloc(0);
    let started = preamble === undefined;
    if (!started) preamble!(socket, buffer);
    socket.on('data', (chunk) => {
      buffer = Buffer.concat([buffer, chunk]);
      if (!started) {
        const rest = preamble!(socket, buffer);
        if (rest === undefined) return;
        started = true;
        buffer = rest;
      }
      const name = buffer[0] === 0x16 ? clientHelloName(buffer) : undefined;
      if (name !== undefined) {
        names.push(name);
        socket.destroy();
      }
    });
    socket.on('error', () => {});
  });
  return { names, port, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

describe('TLS to a broker reached by name keeps the name (SNI and certificate) while connecting to the checked address', () => {
  const tlsCases = [
    ['mqtt', (port: number) => ({ connection: `mqtts://broker.test:${port}`, topic: 't' })],
    ['redis', (port: number) => ({ connection: `rediss://broker.test:${port}`, stream: 's', group: 'g' })],
    ['amqp', (port: number) => ({ connection: `amqps://guest:guest@broker.test:${port}`, queue: 'q' })],
  ] as const;
  for (const [system, config] of tlsCases) {
    it(`${system}: the handshake names broker.test`, async () => {
      const recorder = await sniRecorder();
      try {
        await expect(drivers[system].test(config(recorder.port), {})).rejects.toThrow();
        expect(recorder.names).toEqual(['broker.test']);
      } finally {
        await recorder.close();
      }
    });
  }

  it('postgres (sslmode=require): the handshake after SSLRequest names broker.test', async () => {
    const recorder = await sniRecorder((socket, data) => {
      if (data.length < 8) return undefined;
      socket.write('S');
      return data.subarray(8);
    });
    try {
      const config = { connection: `postgresql://postgres@broker.test:${recorder.port}/x?sslmode=require`, table: 'public.x' };
      await expect(drivers.postgres.test(config, {})).rejects.toThrow();
      expect(recorder.names).toEqual(['broker.test']);
    } finally {
      await recorder.close();
    }
  });

  it('nats (a server that requires TLS): the handshake names broker.test', async () => {
    const recorder = await sniRecorder((socket, data) => {
      if (data.length === 0) {
        socket.write(`INFO ${JSON.stringify({ server_id: 'fake', version: '2.10.0', proto: 1, max_payload: 1048576, tls_required: true })}\r\n`);
        return undefined;
      }
      return data;
    });
    try {
      await expect(drivers.nats.test({ connection: `nats://broker.test:${recorder.port}`, subject: 's' }, {})).rejects.toThrow();
      expect(recorder.names).toEqual(['broker.test']);
    } finally {
      await recorder.close();
    }
  });

  it('kafka (ssl): the socket factory names broker.test', async () => {
    const recorder = await sniRecorder();
    try {
      const socket = kafkaSocketFactory()({ host: 'broker.test', port: recorder.port, ssl: {} as never, onConnect: () => {} });
      await new Promise((resolve) => socket.once('error', resolve));
      expect(recorder.names).toEqual(['broker.test']);
    } finally {
      await recorder.close();
    }
  });
});

describe('servers a broker advertises are checked before they are dialled', () => {
  afterEach(() => vi.restoreAllMocks());

  it('Kafka: the socket factory (every broker kafkajs dials, bootstrap or from metadata) refuses the database, named or by address, and connects to an allowed broker', async () => {
    // No Kafka broker runs here: the factory kafkajs is configured with is driven directly,
    // as kafkajs drives it for a broker the cluster metadata names (host and port as given).
    const before = trap.connections;
    for (const host of ['127.0.0.1', 'db.test']) {
      const socket = kafkaSocketFactory()({ host, port: trap.port, ssl: false as never, onConnect: () => {} });
      const error = await new Promise<Error>((resolve) => socket.once('error', resolve));
      expect(egressRefusal(error), host).toBeInstanceOf(EgressRefused);
      expect(error.message).toContain(`127.0.0.1:${trap.port} (the product's database)`);
    }
    expect(trap.connections).toBe(before);

    let accepted = 0;
    const broker = await listen((socket) => {
      accepted++;
      socket.end();
    });
    try {
      const socket = kafkaSocketFactory()({ host: 'broker.test', port: broker.port, ssl: false as never, onConnect: () => {} });
      await new Promise<void>((resolve, reject) => {
        socket.once('connect', resolve);
        socket.once('error', reject);
      });
      socket.destroy();
      await waitFor(async () => (accepted === 1 ? true : undefined), 10_000, 'the broker to accept');
    } finally {
      broker.server.close();
    }
  });

  it('Kafka: a consumer whose cluster metadata names the database as a broker is refused there, through the driver', async () => {
    // Just enough of a Kafka broker for kafkajs: ApiVersions, Metadata v0 (broker 1 is the trap,
    // leading the topic's partition) and FindCoordinator v0 (broker 1 again). kafkajs then dials
    // broker 1, known only from the metadata, through the driver's socket factory.
    const int16 = (n: number) => Buffer.from([(n >> 8) & 0xff, n & 0xff]);
    const int32 = (n: number) => {
      const b = Buffer.alloc(4);
      b.writeInt32BE(n);
      return b;
    };
    const str = (s: string) => Buffer.concat([int16(Buffer.byteLength(s)), Buffer.from(s)]);
    const array = (items: Buffer[]) => Buffer.concat([int32(items.length), ...items]);
    const answers: Record<number, (version: number) => Buffer> = {
      18: (version) =>
        Buffer.concat([
          int16(0),
          array([
            [18, 0, 2],
            [3, 0, 0],
            [10, 0, 0],
          ].map(([key, min, max]) => Buffer.concat([int16(key!), int16(min!), int16(max!)]))),
          ...(version >= 1 ? [int32(0)] : []),
        ]),
      3: () =>
        Buffer.concat([
          array([Buffer.concat([int32(1), str('127.0.0.1'), int32(trap.port)])]),
          array([Buffer.concat([int16(0), str('meshflow-egress'), array([Buffer.concat([int16(0), int32(0), int32(1), array([int32(1)]), array([int32(1)])])])])]),
        ]),
      10: () => Buffer.concat([int16(0), int32(1), str('127.0.0.1'), int32(trap.port)]),
    };
    const asked: number[] = [];
    const fake = await listen((socket) => {
      let buffer: Buffer = Buffer.alloc(0);
      socket.on('error', () => {});
      socket.on('data', (chunk) => {
        buffer = Buffer.concat([buffer, chunk]);
        while (buffer.length >= 4 && buffer.length >= 4 + buffer.readInt32BE(0)) {
          const size = buffer.readInt32BE(0);
          const [key, version, correlation] = [buffer.readInt16BE(4), buffer.readInt16BE(6), buffer.readInt32BE(8)];
          buffer = buffer.subarray(4 + size);
          asked.push(key);
          const body = answers[key]?.(version);
          if (!body) continue;
          socket.write(Buffer.concat([int32(4 + body.length), int32(correlation), body]));
        }
      });
    });
    const before = trap.connections;
    const abort = new AbortController();
    try {
      const session = drivers.kafka.consume!({
        config: { connection: `127.0.0.1:${fake.port}`, topic: 'meshflow-egress', groupId: 'g' },
        secrets: {},
        signal: abort.signal,
        connected: () => {},
        deliver: async () => {},
        unreadable: () => {},
        backlog: () => {},
        consumerName: 'egress-test',
        consumerKey: 'egress-test',
      });
      const error = await session.then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(egressRefusal(error), String(error)).toBeInstanceOf(EgressRefused);
      expect((error as Error).message).toBe(`egress policy refuses 127.0.0.1:${trap.port} (the product's database)`);
      // The fake was asked for metadata: the refused broker is one the cluster named.
      expect(asked).toContain(3);
      expect(trap.connections).toBe(before);
    } finally {
      abort.abort();
      fake.server.close();
    }
  });

  it('NATS: a server that advertises the database in `connect_urls` gets the client refused there on reconnect; nothing reaches it', async () => {
    // Just enough of a NATS server: INFO naming the trap as a cluster peer, PONG to each PING,
    // then it goes away, so a client that reconnects turns to the peer it was told about.
    let served = 0;
    const fake = await listen((socket) => {
      served++;
      socket.write(`INFO ${JSON.stringify({ server_id: 'fake', version: '2.10.0', proto: 1, max_payload: 1048576, headers: true, connect_urls: [`127.0.0.1:${trap.port}`] })}\r\n`);
      socket.on('data', (chunk) => {
        const pings = String(chunk).split('PING\r\n').length - 1;
        if (pings === 0) return;
        socket.write('PONG\r\n'.repeat(pings));
        // Connected: now vanish, listener and all.
        fake.server.close();
        setTimeout(() => socket.destroy(), 50);
      });
    });
    const check = vi.spyOn(policy, 'check');
    const before = trap.connections;
    const nc = await natsConnect({ servers: `127.0.0.1:${fake.port}`, reconnect: true, maxReconnectAttempts: 3, reconnectTimeWait: 50, timeout: 5_000 });
    await nc.closed();
    expect(served).toBe(1);
    // The advertised peer was asked about, at its address, and refused: the trap saw nobody.
    await expect(Promise.all(check.mock.results.map((r) => r.value as Promise<unknown>).map((p) => p.then(() => 'ok', (e: Error) => e.message)))).resolves.toContain(
      `egress policy refuses 127.0.0.1:${trap.port} (the product's database)`,
    );
    expect(check.mock.calls.some(([host, port]) => host === '127.0.0.1' && port === trap.port)).toBe(true);
    expect(trap.connections).toBe(before);
  });
});
