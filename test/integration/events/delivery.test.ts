import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { compile } from '@/runtime/compiler/compile';
import { listDeadLetters, replayDeadLetters } from '@/runtime/events/dead-letters';
import { demoFlowGraph } from '@/runtime/nodes/demo';
import { waitFor } from '@/test/helpers/databases';
import {
  backendEnv,
  backends,
  deploy,
  dropStreams,
  loggedInJetStream,
  pipeline,
  post,
  startSink,
  startWorker,
  streamPrefix,
  structured,
  undeployAll,
  waitForHook,
  type Received,
  type Sink,
  type Worker,
} from '@/test/integration/events/helpers';

type Node = { kind: string; config: Record<string, unknown> };

/** A studio flow: a CloudEvents endpoint for `type`, the given nodes in a line, an HTTP request to `url`. */
function flow(name: string, type: string, nodes: Node[], url: string): unknown {
  const all = [
    { id: 'source', kind: 'cloudevents-endpoint', config: { eventType: type } },
    ...nodes.map((n, i) => ({ id: `step-${i}`, ...n })),
    { id: 'target', kind: 'http-request', config: { method: 'post', url, body: '.' } },
  ];
  const graph = {
    document: { namespace: 'test', name, version: '0.1.0' },
    nodes: all,
    edges: all.slice(1).map((n, i) => ({ id: `e${i}`, source: all[i]!.id, target: n.id })),
  };
  const { document, diagnostics } = compile(graph);
  expect(diagnostics).toEqual([]);
  return document;
}

describe.each(backends)('delivery on %s', (backend) => {
  const prefix = streamPrefix('delivery');
  let pool: pg.Pool;
  let worker: Worker;
  let sink: Sink;
  const at = (path: string) => sink.received.filter((r) => r.url === path);
  const json = (r: Received) => JSON.parse(r.body) as unknown;

  // [case, filter node, events that pass (subject/data), events that fail]
  const filterCases: [string, Node, Record<string, unknown>[], Record<string, unknown>[]][] = [
    ['exact', { kind: 'attribute-filter', config: { filters: [{ exact: { subject: 'a' } }] } }, [{ subject: 'a' }], [{ subject: 'ab' }, {}]],
    ['prefix', { kind: 'attribute-filter', config: { filters: [{ prefix: { subject: 'ord' } }] } }, [{ subject: 'order' }], [{ subject: 'xorder' }]],
    ['suffix', { kind: 'attribute-filter', config: { filters: [{ suffix: { subject: '.json' } }] } }, [{ subject: 'a.json' }], [{ subject: 'a.jsonx' }]],
    ['all', { kind: 'attribute-filter', config: { filters: [{ all: [{ prefix: { subject: 'a' } }, { suffix: { subject: 'z' } }] }] } }, [{ subject: 'abz' }], [{ subject: 'ab' }]],
    ['any', { kind: 'attribute-filter', config: { filters: [{ any: [{ exact: { subject: 'x' } }, { exact: { subject: 'y' } }] }] } }, [{ subject: 'y' }], [{ subject: 'z' }]],
    ['not', { kind: 'attribute-filter', config: { filters: [{ not: { exact: { subject: 'x' } } }] } }, [{ subject: 'y' }], [{ subject: 'x' }]],
    ['cesql-dialect', { kind: 'attribute-filter', config: { filters: [{ sql: "subject LIKE 'k%' AND tier = 'gold'" }] } }, [{ subject: 'kk', tier: 'gold' }], [{ subject: 'kk', tier: 'tin' }]],
    ['cesql-node', { kind: 'cesql-filter', config: { expression: "EXISTS tier AND subject = 'hi'" } }, [{ subject: 'hi', tier: 'x' }], [{ subject: 'hi' }]],
    ['pattern', { kind: 'data-pattern', config: { pattern: { data: { total: [{ numeric: ['>', 100] }], status: [{ 'anything-but': 'void' }] } } } }, [{ data: { total: 150, status: 'paid' } }], [{ data: { total: 50, status: 'paid' } }, { data: { total: 150, status: 'void' } }]],
    ['jq', { kind: 'jq-filter', config: { expression: '.data.n > 2' } }, [{ data: { n: 3 } }], [{ data: { n: 1 } }]],
  ];

  // Events this suite sent arrived after this moment (the database keeps other files' rows too).
  let since: Date;

  beforeAll(async () => {
    pool = new pg.Pool({ connectionString: inject('databaseUrl') });
    since = (await pool.query<{ now: Date }>('SELECT LOCALTIMESTAMP AS now')).rows[0]!.now;
    sink = await startSink();
    sink.respond = (r) => (r.url.startsWith('/fail-always') ? 500 : r.url === '/bad-request' ? 400 : 200);
    for (const [name, node] of filterCases) await deploy(pool, flow(`filter-${name}`, `com.example.filter.${name}`, [node], `${sink.url}/filter-${name}`));
    await deploy(pool, flow('t-jq', 'com.example.t.jq', [{ kind: 'jq-transform', config: { expression: '{ order: .data.id, who: .subject }' } }], `${sink.url}/t-jq`));
    await deploy(
      pool,
      flow('t-template', 'com.example.t.template', [{ kind: 'template-transform', config: { values: { id: '$.data.id', src: '$.source' }, template: '{"orderId": "${id}", "from": "${src}"}', parseJson: true } }], `${sink.url}/t-template`),
    );
    await deploy(pool, flow('t-mapping', 'com.example.t.mapping', [{ kind: 'field-mapping', config: { mappings: [{ to: 'total', from: '.data.total * 2' }, { to: 'type', from: '.type' }] } }], `${sink.url}/t-mapping`));
    await deploy(
      pool,
      flow('t-filter-after', 'com.example.t.after', [{ kind: 'jq-transform', config: { expression: '{ n: (.data.n + 1) }' } }, { kind: 'jq-filter', config: { expression: '.n > 5' } }], `${sink.url}/t-after`),
    );
    // Documents written by hand: the task is what runs (metadata cannot swap in another transform).
    const hand = (name: string, tasks: Record<string, unknown>[], delivery?: Record<string, unknown>) => pipeline({ name, url: `${sink.url}/${name}`, tasks, delivery });
    await deploy(pool, hand('t-constant', [{ shape: { set: { fixed: true } } }]));
    await deploy(pool, hand('t-original', [], { format: 'structured' }));
    await deploy(pool, flow('t-eventmesh', 'com.example.t-eventmesh', [{ kind: 'template-transform', config: { values: { name: '$.data.name' }, template: 'Hello ${name}', parseJson: false } }], `${sink.url}/t-eventmesh`));
    await deploy(pool, hand('t-broken', [{ shape: { set: { result: '${ .data | error("boom") }' }, output: { as: '${ .result }' } } }]));
    await deploy(pool, pipeline({ name: 'fmt-json', url: `${sink.url}/fmt-json`, delivery: { format: 'json' } }));
    await deploy(pool, pipeline({ name: 'retry', url: `${sink.url}/fail-always`, delivery: { retry: 2, backoffPolicy: 'linear', backoffDelay: 'PT0.2S' } }));
    await deploy(pool, pipeline({ name: 'bad-request', url: `${sink.url}/bad-request`, delivery: { retry: 5, backoffDelay: 'PT0.05S' } }));
    await deploy(pool, pipeline({ name: 'ordered', url: `${sink.url}/ordered`, delivery: { orderingKey: 'subject', retry: 10, backoffPolicy: 'constant', backoffDelay: 'PT0.05S' } }));
    await deploy(pool, pipeline({ name: 'dups', url: `${sink.url}/dups` }));
    // A plain `call: http` written by hand, its metadata asking for retries the task does not state.
    await deploy(pool, pipeline({ name: 'plain', url: `${sink.url}/plain-down`, bare: true, delivery: { retry: 5, backoffDelay: 'PT0.05S' } }));
    const demo = demoFlowGraph();
    (demo.nodes.find((n) => n.id === 'notify')!.config as { url: string }).url = `${sink.url}/demo`;
    await deploy(pool, compile(demo).document);
    worker = await startWorker(inject('databaseUrl'), backendEnv(backend, prefix));
    await waitForHook(worker.base, 'orders');
  });

  afterAll(async () => {
    await worker?.running.stop();
    await sink?.close();
    await undeployAll(pool);
    await pool.end();
    if (backend === 'jetstream') await dropStreams(prefix);
  });

  const send = (type: string, extra: Record<string, unknown> = {}) => post(worker.base, '/events', structured({ id: randomUUID(), source: '/delivery-test', type, ...extra }));

  it('applies every filter dialect end to end: only matching events reach the target', async () => {
    let expected = 0;
    for (const [name, , pass, fail] of filterCases) {
      for (const e of [...fail, ...pass]) expect((await send(`com.example.filter.${name}`, e)).status).toBe(202);
      expected += pass.length;
    }
    await waitFor(async () => (sink.received.filter((r) => r.url.startsWith('/filter-')).length >= expected ? true : undefined), 10_000, 'filtered deliveries');
    await new Promise((r) => setTimeout(r, 300));
    for (const [name, , pass] of filterCases) {
      const got = at(`/filter-${name}`);
      expect(got.map((r) => r.headers['ce-subject'] ?? null), name).toEqual(pass.map((e) => (e.subject as string | undefined) ?? null));
    }
  });

  it('applies each transform kind: jq, template, field mapping, constant, original, EventMesh template', async () => {
    await send('com.example.t.jq', { subject: 'alice', data: { id: 7 } });
    await send('com.example.t.template', { data: { id: 'o-1' } });
    await send('com.example.t.mapping', { data: { total: 21 } });
    await send('com.example.t.after', { data: { n: 1 } });
    await send('com.example.t.after', { data: { n: 9 } });
    await send('com.example.t-constant', { data: 1 });
    const original = randomUUID();
    await post(worker.base, '/events', structured({ id: original, source: '/delivery-test', type: 'com.example.t-original', tenant: 'acme', data: { keep: 'me' } }));
    await send('com.example.t-eventmesh', { data: { name: 'Ada' } });
    const paths = ['/t-jq', '/t-template', '/t-mapping', '/t-after', '/t-constant', '/t-original', '/t-eventmesh'];
    await waitFor(async () => (paths.every((p) => at(p).length > 0) ? true : undefined), 10_000, 'transformed deliveries');
    expect(json(at('/t-jq')[0]!)).toEqual({ order: 7, who: 'alice' });
    expect(json(at('/t-template')[0]!)).toEqual({ orderId: 'o-1', from: '/delivery-test' });
    expect(json(at('/t-mapping')[0]!)).toEqual({ total: 42, type: 'com.example.t.mapping' });
    expect(at('/t-after').map(json)).toEqual([{ n: 10 }]);
    expect(json(at('/t-constant')[0]!)).toEqual({ fixed: true });
    const structuredEvent = at('/t-original')[0]!;
    expect(structuredEvent.headers['content-type']).toContain('application/cloudevents+json');
    expect(json(structuredEvent)).toMatchObject({ specversion: '1.0', id: original, tenant: 'acme', data: { keep: 'me' } });
    const text = at('/t-eventmesh')[0]!;
    expect(text.body).toBe('Hello Ada');
    expect(text.headers['content-type']).toContain('text/plain');
    expect(text.headers['ce-type']).toBe('com.example.t-eventmesh');
  });

  it('delivers in binary mode by default and as plain JSON on request', async () => {
    const id = randomUUID();
    await post(worker.base, '/events', structured({ id, source: '/delivery-test', type: 'com.example.fmt-json', data: { a: 1 } }));
    await waitFor(async () => (at('/fmt-json').length > 0 ? true : undefined), 5000, 'json delivery');
    const got = at('/fmt-json')[0]!;
    expect(got.headers['idempotency-key']).toBe(id);
    expect(got.headers['ce-id']).toBeUndefined();
    expect(json(got)).toMatchObject({ id, type: 'com.example.fmt-json', data: { a: 1 } });
  });

  it('dead-letters an event whose transform fails, without retrying', async () => {
    const id = randomUUID();
    await send('com.example.t-broken', { id, data: 1 });
    const letter = await waitFor(async () => (await listDeadLetters(pool, {})).find((l) => l.eventId === id), 5000, 'dead letter');
    expect(letter.reason).toContain('boom');
    expect(letter.attempts).toBe(1);
    expect(at('/t-broken')).toHaveLength(0);
  });

  it('retries with backoff, dead-letters after the last retry, and replays on demand', async () => {
    const id = randomUUID();
    await post(worker.base, '/events', structured({ id, source: '/delivery-test', type: 'com.example.retry' }));
    const letter = await waitFor(async () => (await listDeadLetters(pool, {})).find((l) => l.eventId === id), 10_000, 'dead letter');
    const attempts = at('/fail-always').filter((r) => r.headers['ce-id'] === id);
    expect(attempts).toHaveLength(3);
    expect(attempts.every((r) => r.headers['ce-id'] === id)).toBe(true);
    const gaps = [attempts[1]!.at - attempts[0]!.at, attempts[2]!.at - attempts[1]!.at];
    expect(gaps[0]).toBeGreaterThanOrEqual(180);
    expect(gaps[1]).toBeGreaterThanOrEqual(380);
    expect(letter).toMatchObject({ attempts: 3, target: `${sink.url}/fail-always`, replayedAt: null });
    expect(letter.reason).toContain('HTTP 500');

    sink.respond = (r) => (r.url === '/bad-request' ? 400 : 200);
    expect((await replayDeadLetters(pool, [letter.id])).replayed.map((r) => r.id)).toEqual([letter.id]);
    expect(await replayDeadLetters(pool, [letter.id])).toEqual({ replayed: [], refused: [{ id: letter.id, reason: 'it was replayed already' }] });
    await waitFor(async () => (at('/fail-always').filter((r) => r.headers['ce-id'] === id).length === 4 ? true : undefined), 5000, 'the replay');
    expect((await listDeadLetters(pool, {})).find((l) => l.id === letter.id)).toBeUndefined();
    expect((await listDeadLetters(pool, { all: true })).find((l) => l.id === letter.id)?.replayedAt).not.toBeNull();
    await new Promise((r) => setTimeout(r, 300));
    expect(at('/fail-always').filter((r) => r.headers['ce-id'] === id)).toHaveLength(4);
  });

  it('does not retry a status that retrying cannot change', async () => {
    const id = randomUUID();
    await post(worker.base, '/events', structured({ id, source: '/delivery-test', type: 'com.example.bad-request' }));
    const letter = await waitFor(async () => (await listDeadLetters(pool, {})).find((l) => l.eventId === id), 5000, 'dead letter');
    expect(letter.attempts).toBe(1);
    expect(letter.reason).toContain('not retryable');
  });

  it('tries a plain call without a retry of its own once, as the engine would, and dead-letters it', async () => {
    const previous = sink.respond;
    sink.respond = (r) => (r.url === '/plain-down' ? 503 : previous(r));
    const id = randomUUID();
    await post(worker.base, '/events', structured({ id, source: '/delivery-test', type: 'com.example.plain' }));
    const letter = await waitFor(async () => (await listDeadLetters(pool, {})).find((l) => l.eventId === id), 5000, 'dead letter');
    expect(letter).toMatchObject({ attempts: 1, reason: expect.stringContaining('HTTP 503') });
    await new Promise((r) => setTimeout(r, 300));
    expect(at('/plain-down').filter((r) => r.headers['ce-id'] === id)).toHaveLength(1);
    sink.respond = previous;
  });

  it('delivers events with the same ordering key in order, even through retries', async () => {
    const failedOnce = new Set<string>();
    const previous = sink.respond;
    sink.respond = (r) => {
      if (r.url !== '/ordered') return previous(r);
      const id = String(r.headers['ce-id']);
      // Every third event fails its first attempt: later events of its key must wait.
      if (Number(id.split('-')[1]) % 3 === 0 && !failedOnce.has(id)) {
        failedOnce.add(id);
        return 503;
      }
      return 200;
    };
    const keys = ['k1', 'k2', 'k3'];
    const sent: Record<string, string[]> = { k1: [], k2: [], k3: [] };
    const run = randomUUID().slice(0, 8);
    for (let i = 0; i < 30; i++) {
      const key = keys[i % 3]!;
      const id = `${run}-${i}`;
      sent[key]!.push(id);
      expect((await post(worker.base, '/events', structured({ id, source: '/ordered', type: 'com.example.ordered', subject: key }))).status).toBe(202);
    }
    const delivered = () => at('/ordered').filter((r) => String(r.headers['ce-id']).startsWith(run));
    await waitFor(async () => (delivered().length >= 30 + failedOnce.size && failedOnce.size > 0 ? true : undefined), 15_000, 'ordered deliveries');
    for (const key of keys) {
      const successes = delivered().filter((r) => r.headers['ce-subject'] === key && r.status === 200);
      expect(successes.map((r) => r.headers['ce-id']), key).toEqual(sent[key]);
    }
    sink.respond = previous;
  });

  it('delivers a repeated event once', async () => {
    const id = randomUUID();
    for (let i = 0; i < 3; i++) await post(worker.base, '/events', structured({ id, source: '/dups', type: 'com.example.dups' }));
    await waitFor(async () => (at('/dups').length > 0 ? true : undefined), 5000, 'delivery');
    await new Promise((r) => setTimeout(r, 300));
    expect(at('/dups')).toHaveLength(1);
  });

  it('routes the studio demo flow: webhook, data pattern, jq transform, HTTP target with retry', async () => {
    const order = (total: number) => ({ id: randomUUID(), source: '/shop', type: 'com.example.order.created', data: { orderId: `o-${total}`, total, customer: { id: 'c1' } } });
    expect((await post(worker.base, '/hooks/orders', structured(order(50)))).status).toBe(202);
    expect((await post(worker.base, '/hooks/orders', structured(order(500)))).status).toBe(202);
    await waitFor(async () => (at('/demo').length > 0 ? true : undefined), 5000, 'demo delivery');
    await new Promise((r) => setTimeout(r, 200));
    expect(at('/demo').map(json)).toEqual([{ orderId: 'o-500', customer: 'c1', total: 500 }]);
  });

  it('keeps the event log and the deliveries on the chosen backend', async () => {
    const pending = Number(
      (await pool.query<{ n: string }>(`SELECT count(*) AS n FROM delivery d JOIN event e ON e.seq = d."eventSeq" WHERE e."receivedAt" >= $1`, [since])).rows[0]!.n,
    );
    const outcomes = Number((await pool.query<{ n: string }>(`SELECT count(*) AS n FROM delivery_outcome WHERE outcome = 'delivered'`)).rows[0]!.n);
    // The studio's records are in PostgreSQL on both.
    expect(outcomes).toBeGreaterThan(0);
    if (backend === 'jetstream') {
      const log = await loggedInJetStream(prefix);
      expect(log.messages).toBeGreaterThan(40);
      // The worker's settings: memory storage (as the suite asks), one replica, the retention and duplicate window by default.
      expect(log).toMatchObject({ storage: 'memory', replicas: 1, maxAgeMs: 168 * 3_600_000, dedupeWindowMs: 3_600_000 });
      // No pipeline delivery went through PostgreSQL's queue (the replay above did, by design, and is done).
      expect(pending).toBe(0);
    }
  });

  it('exports delivery outcomes and backlog as metrics', async () => {
    const text = await (await fetch(`${worker.base}/metrics`)).text();
    expect(text).toMatch(/meshflow_deliveries_total\{deployment="[^"]+",flow="[^"]+",outcome="delivered"\} \d+/);
    expect(text).toMatch(/meshflow_deliveries_total\{deployment="[^"]+",flow="[^"]+",outcome="retried"\} \d+/);
    expect(text).toMatch(/meshflow_deliveries_total\{deployment="[^"]+",flow="[^"]+",outcome="dead_lettered"\} \d+/);
    expect(text).toMatch(/meshflow_delivery_latency_seconds_count\{deployment="[^"]+"\} \d+/);
    expect(text).toMatch(/meshflow_delivery_backlog\{deployment="[^"]+"\} 0/);
  });
});
