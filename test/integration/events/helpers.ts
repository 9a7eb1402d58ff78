/** Shared by the data-plane integration tests: workers, HTTP sinks, deployments of DSL documents. */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import pg from 'pg';
import { stringify } from 'yaml';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { deleteStreams } from '@/runtime/events/jetstream/streams';
import { DEFAULT_RETRY, NOT_RETRIED_WHEN, retryPolicy } from '@/runtime/nodes/retry-policy';
import { freePort, waitFor } from '@/test/helpers/databases';
import { startNode, type Running } from '@/test/helpers/processes';

export interface Worker {
  base: string;
  port: number;
  running: Running;
}

export async function startWorker(databaseUrl: string, env: Record<string, string> = {}, port?: number): Promise<Worker> {
  const p = port ?? (await freePort());
  const running = startNode(['runtime/worker/main.ts'], {
    DATABASE_URL: databaseUrl,
    WORKER_PORT: String(p),
    WORKER_HOST: '127.0.0.1',
    MESHFLOW_DELIVERY_POLL_MS: '50',
    ...env,
  });
  const base = `http://127.0.0.1:${p}`;
  await waitFor(async () => ((await fetch(`${base}/health`)).ok ? true : undefined), 30_000, `worker on ${p}: ${running.output()}`);
  return { base, port: p, running };
}

export interface Received {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
  at: number;
  /** The status the sink answered with. */
  status: number;
  /** Set once the answer went out on a live connection (not when the sender was gone by then). */
  answered?: boolean;
}

export interface Sink {
  url: string;
  received: Received[];
  /** Decides each response's status; 200 unless set. */
  respond: (request: Received) => number;
  /** How long the sink takes to answer. */
  delayMs: number;
  /** How long the sink takes to answer one request, when it differs by request. */
  delayFor?: (request: Received) => number;
  close: () => Promise<void>;
}

export async function startSink(): Promise<Sink> {
  const sink: Sink = { url: '', received: [], respond: () => 200, delayMs: 0, close: async () => {} };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const request: Received = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8'), at: Date.now(), status: 0 };
      request.status = sink.respond(request);
      sink.received.push(request);
      // The sender may be gone before the answer (a worker killed or stopped mid-request): then
      // Node has closed the response, and may have detached its socket.
      let gone = false;
      res.on('close', () => {
        if (!res.writableFinished) gone = true;
      });
      const answer = () => {
        request.answered = !gone && res.socket !== null && !res.socket.destroyed;
        res.writeHead(request.status);
        res.end();
      };
      const delay = sink.delayFor?.(request) ?? sink.delayMs;
      if (delay > 0) setTimeout(answer, delay);
      else answer();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address() as { port: number };
  sink.url = `http://127.0.0.1:${address.port}`;
  sink.close = () =>
    new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return sink;
}

/** Saves a DSL document (and the graph it came from, if any) as a flow's only version and deploys it; returns the deployment id. */
export async function deploy(pool: pg.Pool, document: unknown, options: { name?: string; graph?: unknown } = {}): Promise<{ flowId: string; deploymentId: string }> {
  const flowId = randomUUID();
  const versionId = randomUUID();
  const deploymentId = randomUUID();
  const yaml = typeof document === 'string' ? document : stringify(document);
  await pool.query(`INSERT INTO flow (id, name, "updatedAt") VALUES ($1, $2, now())`, [flowId, options.name ?? `test-${flowId.slice(0, 8)}`]);
  await pool.query(`INSERT INTO flow_version (id, "flowId", version, graph, "dslYaml") VALUES ($1, $2, 1, $3, $4)`, [versionId, flowId, JSON.stringify(options.graph ?? {}), yaml]);
  await pool.query(`INSERT INTO deployment (id, "flowId", "flowVersionId", "updatedAt") VALUES ($1, $2, $3, now())`, [deploymentId, flowId, versionId]);
  return { flowId, deploymentId };
}

export async function undeployAll(pool: pg.Pool): Promise<void> {
  await pool.query(`UPDATE deployment SET status = 'stopped' WHERE status <> 'stopped'`);
}

/** Waits until the worker's webhook `id` answers something other than 404 (its deployment is loaded). */
export async function waitForHook(base: string, id: string): Promise<void> {
  await waitFor(
    async () => {
      const res = await fetch(`${base}/hooks/${id}`, { method: 'POST', headers: { 'content-type': 'application/x-probe' }, body: '' });
      await res.arrayBuffer();
      return res.status !== 404 ? true : undefined;
    },
    10_000,
    `webhook ${id}`,
  );
}

/** A pipeline document: listen on `with`, then the given tasks, then an HTTP call to `url`. */
/**
 * A pipeline flow as the studio writes it: its HTTP target wrapped in try/catch with the retry
 * policy stated in the task (`delivery.retry`, `backoffPolicy`, `backoffDelay`; unset, the
 * default policy, runtime/nodes/retry-policy.ts). The other delivery options stay in its
 * metadata. `bare: true` writes a plain `call: http` instead, which is tried once.
 */
export function pipeline(options: {
  name: string;
  with?: Record<string, unknown>;
  sources?: unknown[];
  tasks?: Record<string, unknown>[];
  url: string;
  delivery?: Record<string, unknown>;
  bare?: boolean;
}): Record<string, unknown> {
  const { retry, backoffPolicy, backoffDelay, ...tunable } = options.delivery ?? {};
  const call = { call: 'http', with: { method: 'post', endpoint: options.url, body: '${ . }' } };
  const policy = retryPolicy({
    attempts: typeof retry === 'number' ? retry : DEFAULT_RETRY.attempts,
    delay: typeof backoffDelay === 'string' ? backoffDelay : DEFAULT_RETRY.delay,
    backoff: backoffPolicy === 'constant' || backoffPolicy === 'linear' ? backoffPolicy : 'exponential',
  });
  const target = options.bare ? call : { try: [{ request: call }], catch: { errors: { with: { type: 'https://serverlessworkflow.io/spec/1.0.0/errors/communication' } }, exceptWhen: NOT_RETRIED_WHEN, retry: policy } };
  return {
    document: {
      dsl: '1.0.0',
      namespace: 'test',
      name: options.name,
      version: '0.1.0',
      ...(options.sources ? { metadata: { meshflow: { sources: options.sources } } } : {}),
    },
    schedule: { on: { one: { with: options.with ?? { type: `com.example.${options.name}` } } } },
    do: [...(options.tasks ?? []), { deliver: { ...target, ...(Object.keys(tunable).length > 0 ? { metadata: { meshflow: { delivery: tunable } } } : {}) } }],
  };
}

export function structured(event: Record<string, unknown>): RequestInit {
  return { method: 'POST', headers: { 'content-type': 'application/cloudevents+json' }, body: JSON.stringify({ specversion: '1.0', ...event }) };
}

export async function post(base: string, path: string, init: RequestInit): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${base}${path}`, init);
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
}

/** The event backends the data-plane suites run on: PostgreSQL, and the real JetStream on 127.0.0.1:4222. */
export const backends = ['postgres', 'jetstream'] as const;
export type Backend = (typeof backends)[number];

export const NATS_URL = 'nats://127.0.0.1:4222';

/** A stream prefix of its own per suite and run, so parallel runs on one NATS server never meet. */
export function streamPrefix(suite: string): string {
  return `T_${suite}_${randomUUID().slice(0, 8)}`;
}

/** The worker settings of a backend; JetStream keeps its streams in memory under `prefix`. */
export function backendEnv(backend: Backend, prefix: string): Record<string, string> {
  return backend === 'jetstream'
    ? { MESHFLOW_EVENT_BACKEND: 'jetstream', MESHFLOW_NATS_URL: NATS_URL, MESHFLOW_JETSTREAM_PREFIX: prefix, MESHFLOW_JETSTREAM_STORAGE: 'memory' }
    : {};
}

/** Deletes the streams (and so the consumers) a suite's workers created under `prefix`. */
export async function dropStreams(prefix: string): Promise<void> {
  const nc = await connect({ servers: NATS_URL });
  try {
    await deleteStreams(await jetstreamManager(nc), prefix);
  } finally {
    await nc.close();
  }
}

/** The JetStream event log under `prefix`: how many events it holds, and how it is kept. */
export async function loggedInJetStream(prefix: string): Promise<{ messages: number; storage: string; replicas: number; maxAgeMs: number; dedupeWindowMs: number }> {
  const nc = await connect({ servers: NATS_URL });
  try {
    const info = await (await jetstreamManager(nc)).streams.info(`${prefix}_EVENTS`);
    return {
      messages: info.state.messages,
      storage: info.config.storage,
      replicas: info.config.num_replicas,
      maxAgeMs: info.config.max_age / 1e6,
      dedupeWindowMs: (info.config.duplicate_window ?? 0) / 1e6,
    };
  } finally {
    await nc.close();
  }
}

/** Deliveries left in the JetStream work queue under `prefix`, by deployment. */
export async function backlogInJetStream(prefix: string): Promise<Map<string, number>> {
  const nc = await connect({ servers: NATS_URL });
  try {
    const info = await (await jetstreamManager(nc)).streams.info(`${prefix}_DELIVERIES`, { subjects_filter: `${prefix}.deliver.>` });
    const counts = new Map<string, number>();
    for (const [subject, n] of Object.entries(info.state.subjects ?? {})) {
      const id = subject.slice(subject.lastIndexOf('.') + 1);
      counts.set(id, (counts.get(id) ?? 0) + n);
    }
    return counts;
  } finally {
    await nc.close();
  }
}
