/**
 * Egress (SECURITY.md, "Egress policy"): a flow editor points an outbound call at what the
 * product itself runs on — its database, the worker's own endpoints, a cloud metadata
 * address — directly, through a redirect, or through a name that resolves there. Every path
 * that calls out (HTTP targets, `call: http`/`openapi` in a run, broker publishes, studio test
 * runs, connector tests) is refused with the policy's reason before a connection is opened.
 *
 * Traffic goes to loopback only: servers started here on port 0, the worker, and the test
 * database's port (which must not be reached). Names such as `evil.test` resolve through a
 * stubbed resolver; a name that points at 169.254.169.254 is refused before any socket
 * exists, as a diagnostics channel on socket creation shows.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { createServer, type Server } from 'node:http';
import type { Socket } from 'node:net';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { PrismaClient } from '@/prisma/generated/client';
import { createDb } from '@/server/db';
import { createCaller } from '@/server/routers/root';
import { testConnection } from '@/server/services/connectors';
import { BrokerPublishPort } from '@/runtime/connectors/publish-port';
import { egressHttp } from '@/runtime/engine/host/node-ports';
import { runWorkflow } from '@/runtime/engine/runner';
import type { WorkflowDocument } from '@/runtime/engine/types';
import type { CloudEventRecord } from '@/runtime/events/cloudevent';
import { buildRequest, HttpDeliverer } from '@/runtime/events/http-delivery';
import { DEFAULT_DELIVERY, type HttpTarget } from '@/runtime/events/plan';
import { EgressRefused, egressPolicyFromEnv, setEgressPolicy, type EgressPolicy, type Resolver } from '@/runtime/net/egress';
import { freePort, waitFor } from '@/test/helpers/databases';
import { deploy, pipeline, post, startSink, startWorker, structured, undeployAll, type Sink, type Worker } from '@/test/integration/events/helpers';

const databaseUrl = () => inject('databaseUrl');
const dbPort = () => Number(new URL(databaseUrl()).port || 5432);

/** The names tests use, as a DNS that an attacker controls would answer them. */
const stubbedDns: Resolver = async (host) => {
  if (host === 'evil.test') return ['169.254.169.254'];
  if (host === 'evil6.test') return ['::ffff:169.254.169.254'];
  if (host === 'db.evil.test') return ['127.0.0.1'];
  if (host === 'localhost') return ['127.0.0.1'];
  throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND' });
};

/** The policy of a studio or worker on this database, with the stubbed resolver. */
function productPolicy(extra: Record<string, string> = {}): EgressPolicy {
  return egressPolicyFromEnv({ DATABASE_URL: databaseUrl(), ...extra }, { resolve: stubbedDns });
}

/** Sockets the process creates while `during` runs (Node's `net.client.socket` channel). */
async function socketsOpenedDuring(during: () => Promise<unknown>): Promise<string[]> {
  const opened: string[] = [];
  const record = (message: unknown) => {
    const socket = (message as { socket: Socket }).socket;
    opened.push(`${socket.remoteAddress ?? '?'}`);
  };
  subscribe('net.client.socket', record);
  try {
    await during();
  } finally {
    unsubscribe('net.client.socket', record);
  }
  return opened;
}

const event: CloudEventRecord = { specversion: '1.0', id: 'e-1', source: '/security/egress', type: 'com.example.egress', datacontenttype: 'application/json', data: { secret: 'no' } };

function target(url: string): HttpTarget {
  return { task: 'deliver', url, method: 'POST', headers: {}, delivery: { ...DEFAULT_DELIVERY, format: 'binary' } };
}

describe('egress policy: a deployed flow cannot reach what the product runs on', () => {
  let pool: pg.Pool;
  let worker: Worker;
  let workerPort: number;
  const run = randomUUID().slice(0, 8);
  const toDatabase = { name: `egress-db-${run}`, flowId: '' };
  const toWorker = { type: `com.example.egress.self.${run}`, flowId: '' };
  const connectorId = randomUUID();

  beforeAll(async () => {
    pool = new pg.Pool({ connectionString: databaseUrl() });
    // Deployed before the worker starts, so it serves them from its first event.
    workerPort = await freePort();
    ({ flowId: toDatabase.flowId } = await deploy(
      pool,
      pipeline({ name: toDatabase.name, url: `http://127.0.0.1:${dbPort()}/`, delivery: { retry: 5, backoffPolicy: 'constant', backoffDelay: 'PT0.2S' } }),
    ));
    ({ flowId: toWorker.flowId } = await deploy(pool, {
      document: { dsl: '1.0.0', namespace: 'test', name: 'egress-self', version: '0.1.0' },
      schedule: { on: { one: { with: { type: toWorker.type } } } },
      do: [{ probe: { call: 'http', with: { method: 'get', endpoint: `http://127.0.0.1:${workerPort}/health` } } }, { done: { set: { reached: true } } }],
    }));
    await pool.query(
      `INSERT INTO connector_instance (id, name, kind, direction, config, deployed, "updatedAt") VALUES ($1, $2, 'mqtt-source', 'source', $3, true, now())`,
      [connectorId, `egress-${run}`, JSON.stringify({ connection: `mqtt://127.0.0.1:${dbPort()}`, topic: 'x', qos: 1 })],
    );
    worker = await startWorker(databaseUrl(), {}, workerPort);
  });

  afterAll(async () => {
    await worker?.running.stop();
    await undeployAll(pool);
    await pool.query(`DELETE FROM connector_instance WHERE id = $1`, [connectorId]);
    await pool.end();
  });

  it("dead-letters an HTTP target at the database's port at once, with the policy's reason", async () => {
    expect((await post(worker.base, '/events', structured({ id: randomUUID(), source: '/egress', type: `com.example.${toDatabase.name}` }))).status).toBe(202);
    const letter = await waitFor(
      async () => (await pool.query<{ reason: string; attempts: number }>(`SELECT reason, attempts FROM dead_letter WHERE "flowId" = $1`, [toDatabase.flowId])).rows[0],
      30_000,
      'a dead letter',
    );
    expect(letter.reason).toBe(`egress policy refuses 127.0.0.1:${dbPort()} (the product's database) (not retryable)`);
    // A refusal will not change by retrying: the first attempt is the last.
    expect(letter.attempts).toBe(1);
  });

  it("faults a run whose `call: http` targets the worker's own port, saying why", async () => {
    expect((await post(worker.base, '/events', structured({ id: randomUUID(), source: '/egress', type: toWorker.type }))).status).toBe(202);
    const ended = await waitFor(
      async () =>
        (await pool.query<{ status: string; error: { detail?: string } | null; output: unknown }>(`SELECT status, error, output FROM run WHERE "flowId" = $1 AND status IN ('faulted', 'completed')`, [toWorker.flowId])).rows[0],
      30_000,
      'the run to end',
    );
    expect(ended.status).toBe('faulted');
    expect(ended.error?.detail).toContain(`egress policy refuses 127.0.0.1:${workerPort} (the worker)`);
    expect(ended.output).toBeNull();
  });

  it("stops a deployed connector whose broker is the database's port, and shows it failed with the policy's reason", async () => {
    const row = await waitFor(
      async () => (await pool.query<{ status: string; lastError: string | null }>(`SELECT status, "lastError" FROM connector_instance WHERE id = $1 AND status = 'failed'`, [connectorId])).rows[0],
      30_000,
      'the connector to fail',
    );
    expect(row.lastError).toBe(`egress policy refuses 127.0.0.1:${dbPort()} (the product's database)`);
    // Not reconnected with backoff, as a broker that is down would be: refused once.
    expect(worker.running.output().match(/connector refused by the egress policy/g)).toHaveLength(1);
  });
});

describe('egress policy: redirects and names are checked where the connection is made', () => {
  let server: Server;
  let base: string;
  const hits: string[] = [];

  beforeAll(async () => {
    server = createServer((req, res) => {
      hits.push(req.url ?? '');
      const to = new URL(req.url ?? '/', 'http://x').searchParams.get('to');
      if (to) res.writeHead(302, { location: to }).end();
      else res.writeHead(200, { 'content-type': 'application/json' }).end('{"reached":true}');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  });

  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('follows a redirect between allowed addresses, and refuses one to the database', async () => {
    const http = egressHttp(() => productPolicy());
    const allowed = await http.request({ method: 'GET', url: `${base}/?to=${encodeURIComponent(`${base}/landing`)}`, headers: {}, followRedirects: true }, AbortSignal.timeout(10_000));
    expect(allowed.status).toBe(200);
    expect(hits).toContain('/landing');

    const to = `http://127.0.0.1:${dbPort()}/`;
    const refused = http.request({ method: 'GET', url: `${base}/?to=${encodeURIComponent(to)}`, headers: {}, followRedirects: true }, AbortSignal.timeout(10_000));
    await expect(refused).rejects.toThrow(`egress policy refuses 127.0.0.1:${dbPort()} (the product's database)`);
    // The first hop was made; the refusal is the second.
    expect(hits.filter((h) => h.startsWith('/?to=http%3A%2F%2F127.0.0.1%3A' + dbPort()))).toHaveLength(1);
  });

  it('refuses a redirect to a name that resolves to the metadata address, before connecting', async () => {
    const http = egressHttp(() => productPolicy());
    const opened = await socketsOpenedDuring(async () => {
      const refused = http.request({ method: 'GET', url: `${base}/?to=${encodeURIComponent('http://evil.test/latest/meta-data/')}`, headers: {}, followRedirects: true }, AbortSignal.timeout(10_000));
      await expect(refused).rejects.toThrow('egress policy refuses evil.test:80 → 169.254.169.254:80 (link-local range 169.254.0.0/16, where cloud metadata services answer)');
    });
    // One socket, to the loopback server that redirected; none towards the metadata address.
    expect(opened.every((address) => !address.includes('169.254'))).toBe(true);
    expect(opened.length).toBeLessThanOrEqual(1);
  });

  it('refuses a stubbed name for 169.254.169.254 without creating a socket, by fetch and by the delivery agent', async () => {
    const policy = productPolicy();
    const deliverer = new HttpDeliverer(policy);
    try {
      const opened = await socketsOpenedDuring(async () => {
        await expect(policy.fetch('http://evil.test/latest/meta-data/')).rejects.toBeInstanceOf(EgressRefused);
        await expect(policy.fetch('http://evil6.test/')).rejects.toThrow(/evil6\.test:80 → \[::ffff:169\.254\.169\.254\]:80 \(link-local range 169\.254\.0\.0\/16/);
        await expect(policy.fetch('http://[::ffff:a9fe:a9fe]/')).rejects.toThrow(/169\.254\.0\.0\/16/);
        const outcome = await deliverer.send(target('http://evil.test/hook'), buildRequest(event, event.data, false, 'binary'));
        expect(outcome).toEqual({ ok: false, retryable: false, error: expect.stringContaining('egress policy refuses evil.test:80 → 169.254.169.254:80') });
      });
      expect(opened).toEqual([]);
    } finally {
      deliverer.close();
    }
  });

  it('refuses a name that resolves to the database address, where the address alone would be refused too', async () => {
    await expect(productPolicy().fetch(`http://db.evil.test:${dbPort()}/`)).rejects.toThrow(`egress policy refuses db.evil.test:${dbPort()} → 127.0.0.1:${dbPort()} (the product's database)`);
  });
});

describe('egress policy: MESHFLOW_EGRESS_DENY_PRIVATE and MESHFLOW_EGRESS_ALLOW', () => {
  let sink: Sink;

  beforeAll(async () => {
    sink = await startSink();
  });
  afterAll(() => sink.close());

  it('by default, delivers to a loopback sink (loopback is allowed apart from the product’s own ports)', async () => {
    const deliverer = new HttpDeliverer(productPolicy());
    try {
      const outcome = await deliverer.send(target(`${sink.url}/default`), buildRequest(event, event.data, false, 'binary'));
      expect(outcome).toEqual({ ok: true, status: 200 });
    } finally {
      deliverer.close();
    }
  });

  it('with DENY_PRIVATE, refuses the loopback sink: nothing arrives there', async () => {
    const policy = productPolicy({ MESHFLOW_EGRESS_DENY_PRIVATE: 'true' });
    const deliverer = new HttpDeliverer(policy);
    try {
      const outcome = await deliverer.send(target(`${sink.url}/denied`), buildRequest(event, event.data, false, 'binary'));
      expect(outcome).toMatchObject({ ok: false, retryable: false, error: `egress policy refuses ${new URL(sink.url).host} (loopback range 127.0.0.0/8; MESHFLOW_EGRESS_DENY_PRIVATE is on)` });
      await expect(policy.fetch(`http://localhost:${new URL(sink.url).port}/denied`)).rejects.toThrow(/loopback range 127\.0\.0\.0\/8/);
      expect(sink.received.filter((r) => r.url === '/denied')).toEqual([]);
    } finally {
      deliverer.close();
    }
  });

  it('with DENY_PRIVATE and the sink in ALLOW, delivers to it and to nothing else local', async () => {
    const policy = productPolicy({ MESHFLOW_EGRESS_DENY_PRIVATE: 'true', MESHFLOW_EGRESS_ALLOW: `somewhere.example:443, ${new URL(sink.url).host}` });
    const deliverer = new HttpDeliverer(policy);
    try {
      expect(await deliverer.send(target(`${sink.url}/allowed`), buildRequest(event, event.data, false, 'binary'))).toEqual({ ok: true, status: 200 });
      expect(sink.received.filter((r) => r.url === '/allowed')).toHaveLength(1);
      await expect(policy.fetch(`http://127.0.0.1:${dbPort()}/`)).rejects.toThrow(/egress policy refuses/);
    } finally {
      deliverer.close();
    }
  });

  it("an ALLOW entry opens even one of the product's own ports, for an administrator who means it", async () => {
    const policy = productPolicy({ MESHFLOW_EGRESS_ALLOW: `127.0.0.1:${dbPort()}` });
    expect(await policy.check('127.0.0.1', dbPort())).toEqual(['127.0.0.1']);
  });
});

describe('egress policy in the studio: connector tests and test runs', () => {
  let db: PrismaClient;
  const key = randomBytes(32);

  beforeAll(() => {
    db = createDb(databaseUrl());
    setEgressPolicy(productPolicy());
  });
  afterAll(async () => {
    setEgressPolicy(undefined);
    await db.$disconnect();
  });

  it("a connector's test connection to the database's port is refused, for a PostgreSQL source and an HTTP sink", async () => {
    const postgres = await testConnection(db, key, { kind: 'postgres-source', config: { connection: databaseUrl(), table: 'public.run' } });
    expect(postgres).toMatchObject({ ok: false, message: `egress policy refuses 127.0.0.1:${dbPort()} (the product's database)` });
    const byName = await testConnection(db, key, { kind: 'postgres-source', config: { connection: `postgresql://db.evil.test:${dbPort()}/postgres`, table: 'public.run' } });
    expect(byName).toMatchObject({ ok: false, message: `egress policy refuses db.evil.test:${dbPort()} → 127.0.0.1:${dbPort()} (the product's database)` });
    const sink = await testConnection(db, key, { kind: 'http-sink', config: { connection: `http://127.0.0.1:${dbPort()}/events` } });
    expect(sink).toMatchObject({ ok: false, message: `HTTP sink http://127.0.0.1:${dbPort()}: egress policy refuses 127.0.0.1:${dbPort()} (the product's database)` });
    const metadata = await testConnection(db, key, { kind: 'mqtt-source', config: { connection: 'mqtt://evil.test:1883', topic: 'x' } });
    expect(metadata).toMatchObject({ ok: false, message: expect.stringContaining('egress policy refuses evil.test:1883 → 169.254.169.254:1883') });
  });

  it('a connector test to an allowed broker still connects', async () => {
    const mqtt = await testConnection(db, key, { kind: 'mqtt-source', config: { connection: 'mqtt://127.0.0.1:1883', topic: 'meshflow/egress' } });
    expect(mqtt).toMatchObject({ ok: true });
  });

  it("a studio test run of `call: http` to the database's port returns the policy's error, not the response", async () => {
    const caller = createCaller({ db, user: { id: 'e', name: 'Ed', email: 'ed@example.com', role: 'editor' }, workerUrl: 'http://127.0.0.1:1', secretKey: key });
    const graph = {
      document: { name: 'egress-test-run' },
      nodes: [
        { id: 'events', kind: 'cloudevents-endpoint', config: { eventType: event.type } },
        { id: 'call', kind: 'http-request', config: { method: 'get', url: `http://127.0.0.1:${dbPort()}/` } },
      ],
      edges: [{ id: 'events-out-call', source: 'events', target: 'call' }],
    };
    // By default a test run sends nothing: the call is stubbed and shown.
    const stubbed = await caller.designer.testRun({ graph, event });
    expect(stubbed).toMatchObject({ ok: true, status: 'completed' });
    // Asked to call real targets, the call meets the egress policy.
    const result = await caller.designer.testRun({ graph, event, callRealTargets: true });
    expect(result).toMatchObject({ ok: true, status: 'faulted' });
    if (!result.ok) return;
    const detail = JSON.stringify(result.error);
    expect(detail).toContain(`egress policy refuses 127.0.0.1:${dbPort()} (the product's database)`);
    expect(result.nodes.call).toMatchObject({ status: 'faulted' });
    expect(result.output).toBeUndefined();
  });
});

describe('egress policy: OpenAPI documents and operations, broker publishes', () => {
  let server: Server;
  let base: string;

  beforeAll(async () => {
    setEgressPolicy(productPolicy());
    // An OpenAPI document an editor controls, whose server is the product's database.
    server = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' }).end(
        JSON.stringify({
          openapi: '3.0.0',
          info: { title: 'pets', version: '1' },
          servers: [{ url: `http://127.0.0.1:${dbPort()}` }],
          paths: { '/pets': { get: { operationId: 'listPets', responses: { '200': { description: 'ok' } } } } },
        }),
      );
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  });
  afterAll(async () => {
    setEgressPolicy(undefined);
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  const openapiFlow = (documentUrl: string): WorkflowDocument =>
    ({
      document: { dsl: '1.0.0', namespace: 'test', name: 'egress-openapi', version: '0.1.0' },
      do: [{ pets: { call: 'openapi', with: { document: { endpoint: documentUrl }, operationId: 'listPets' } } }],
    }) as unknown as WorkflowDocument;

  it('`call: openapi` fetches an allowed document, then is refused the operation on the database', async () => {
    const result = await runWorkflow(openapiFlow(`${base}/openapi.json`), {}, { timeoutMs: 20_000 });
    expect(result.status).toBe('faulted');
    expect(JSON.stringify('error' in result ? result.error : null)).toContain(`egress policy refuses 127.0.0.1:${dbPort()} (the product's database)`);
  });

  it('`call: openapi` is refused a document behind a name for the metadata address', async () => {
    const result = await runWorkflow(openapiFlow('http://evil.test/openapi.json'), {}, { timeoutMs: 20_000 });
    expect(result.status).toBe('faulted');
    expect(JSON.stringify('error' in result ? result.error : null)).toContain('egress policy refuses evil.test:80 → 169.254.169.254:80');
  });

  it("a broker publish (`call: asyncapi`) to the database's port is refused before the client connects", async () => {
    const port = new BrokerPublishPort();
    try {
      for (const [protocol, url] of [
        ['redis', `redis://127.0.0.1:${dbPort()}`],
        ['mqtt', `mqtt://db.evil.test:${dbPort()}`],
        ['nats', `nats://127.0.0.1:${dbPort()}`],
        ['amqp', `amqp://127.0.0.1:${dbPort()}`],
        ['kafka', `127.0.0.1:9092,127.0.0.1:${dbPort()}`],
      ] as const) {
        const publish = port.publish({ document: null, operation: 'publish', protocol, server: { variables: { url, channel: 'orders' } }, message: { payload: { data: { n: 1 } } } });
        await expect(publish, protocol).rejects.toThrow(/egress policy refuses .*\(the product's database\)/);
      }
    } finally {
      await port.close();
    }
  });
});
