import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { waitFor } from '@/test/helpers/databases';
import { backendEnv, backends, backlogInJetStream, deploy, dropStreams, pipeline, startSink, startWorker, streamPrefix, undeployAll, type Sink, type Worker } from '@/test/integration/events/helpers';

const LEASE_MS = 2000;

/**
 * A JSON body with object keys sorted: a first attempt sends the event as it arrived, a
 * redelivery as read back from the log, whose jsonb `data` has its keys in jsonb's order.
 */
function canonical(body: string): string {
  const sort = (v: unknown): unknown =>
    Array.isArray(v) ? v.map(sort) : v !== null && typeof v === 'object' ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, x]) => [k, sort(x)])) : v;
  return JSON.stringify(sort(JSON.parse(body)));
}

describe.each(backends)('crash test on %s: SIGKILL one of two workers under load', (backend) => {
  const prefix = streamPrefix('crash');
  const jetstream = backend === 'jetstream';
  let pool: pg.Pool;
  let deploymentId: string;
  let sink: Sink;
  const workers: Worker[] = [];

  beforeAll(async () => {
    pool = new pg.Pool({ connectionString: inject('databaseUrl') });
    sink = await startSink();
    // A slow target keeps deliveries in flight, so the killed worker dies holding claims.
    sink.delayMs = 30;
    ({ deploymentId } = await deploy(pool, pipeline({ name: 'crash', url: `${sink.url}/crash`, delivery: { retry: 20, backoffPolicy: 'constant', backoffDelay: 'PT0.2S' } })));
    const env = { ...backendEnv(backend, prefix), MESHFLOW_DELIVERY_LEASE_MS: String(LEASE_MS), MESHFLOW_DELIVERY_CONCURRENCY: '16' };
    workers.push(await startWorker(inject('databaseUrl'), env), await startWorker(inject('databaseUrl'), env));
  });

  afterAll(async () => {
    for (const w of workers) await w.running.stop();
    await sink?.close();
    await undeployAll(pool);
    await pool.end();
    if (jetstream) await dropStreams(prefix);
  });

  it('delivers every accepted event; repeats carry the same CloudEvent id', async () => {
    const [a, b] = workers as [Worker, Worker];
    const accepted = new Map<string, string>();
    const sent = new Set<string>();
    const run = randomUUID().slice(0, 8);
    let seq = 0;
    let killedAt = 0;
    let stop = false;
    const producer = async (lane: number) => {
      while (!stop) {
        const id = `${run}-${seq++}`;
        const target = (seq + lane) % 2 === 0 ? a : b;
        const body = JSON.stringify({ specversion: '1.0', id, source: '/crash', type: 'com.example.crash', data: { id, n: seq } });
        sent.add(id);
        try {
          const res = await fetch(`${target.base}/events`, { method: 'POST', headers: { 'content-type': 'application/cloudevents+json' }, body });
          await res.arrayBuffer();
          if (res.status === 202) accepted.set(id, body);
        } catch {
          // The killed worker refuses connections: those events were never accepted.
        }
      }
    };
    const lanes = Array.from({ length: 20 }, (_, i) => producer(i));
    await new Promise((r) => setTimeout(r, 1500));
    const inFlightBefore = jetstream ? 'not counted on JetStream' : Number((await pool.query(`SELECT count(*) AS n FROM delivery WHERE "leaseOwner" IS NOT NULL`)).rows[0].n);
    a.running.child.kill('SIGKILL');
    killedAt = accepted.size;
    await a.running.exited;
    await new Promise((r) => setTimeout(r, 1500));
    stop = true;
    await Promise.all(lanes);

    workers[0] = await startWorker(inject('databaseUrl'), { ...backendEnv(backend, prefix), MESHFLOW_DELIVERY_LEASE_MS: String(LEASE_MS) }, a.port);
    const ids = [...accepted.keys()];
    const seen = () => new Set(sink.received.map((r) => String(r.headers['ce-id'])));
    await waitFor(async () => (ids.every((id) => seen().has(id)) ? true : undefined), 30_000, 'every accepted event at the sink');

    const byId = new Map<string, string[]>();
    for (const r of sink.received) byId.set(String(r.headers['ce-id']), [...(byId.get(String(r.headers['ce-id'])) ?? []), r.body]);
    const duplicates = [...byId.values()].filter((bodies) => bodies.length > 1);
    // Every delivery is of a sent event (one committed just before the kill may have lost its
    // reply, so not every delivered event was acknowledged), and a repeat is the same event.
    expect([...byId.keys()].every((id) => sent.has(id))).toBe(true);
    for (const bodies of duplicates) expect(new Set(bodies.map(canonical)).size).toBe(1);
    expect(sink.received.length).toBeGreaterThanOrEqual(accepted.size);
    // This flow's queue empties once the last deliveries are recorded (other tests' flows may still be retrying theirs).
    const queued = async () =>
      jetstream ? ((await backlogInJetStream(prefix)).get(deploymentId) ?? 0) : Number((await pool.query(`SELECT count(*) AS n FROM delivery WHERE "deploymentId" = $1`, [deploymentId])).rows[0].n);
    await waitFor(async () => ((await queued()) === 0 ? true : undefined), 30_000, 'an empty queue');
    console.log(
      `crash test on ${backend}: accepted ${accepted.size} (${killedAt} before the kill), claims in flight at the kill ${inFlightBefore}, ` +
        `deliveries ${sink.received.length}, distinct ${byId.size}, redelivered ${duplicates.length}, ` +
        `committed without a reply ${[...byId.keys()].filter((id) => !accepted.has(id)).length}`,
    );
  });
});
