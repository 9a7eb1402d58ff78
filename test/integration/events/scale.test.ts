import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { waitFor } from '@/test/helpers/databases';
import { backendEnv, backends, backlogInJetStream, deploy, dropStreams, pipeline, startSink, startWorker, streamPrefix, undeployAll, type Sink, type Worker } from '@/test/integration/events/helpers';

/** The killed worker's leases are short, so its claims come back within the test. */
const KILLED_LEASE_MS = 2_000;
/**
 * On PostgreSQL the other leases outlast the test: what the SIGTERM'd worker held must come back
 * by release, not expiry. On JetStream the lease is the consumer's ack wait, one for all workers,
 * which the live ones keep renewing for what they hold: the release shows in the drain line.
 */
const LONG_LEASE_MS = 600_000;
const DRAIN_MS = 1_000;

/** Object keys sorted: a redelivery sends the event as read back from jsonb, whose key order differs. */
function canonical(body: string): string {
  const sort = (v: unknown): unknown =>
    Array.isArray(v) ? v.map(sort) : v !== null && typeof v === 'object' ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, x]) => [k, sort(x)])) : v;
  return JSON.stringify(sort(JSON.parse(body)));
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.each(backends)('three workers on %s: SIGKILL loses nothing, SIGTERM hands work back', (backend) => {
  const prefix = streamPrefix('scale');
  const jetstream = backend === 'jetstream';
  let pool: pg.Pool;
  let sink: Sink;
  const run = randomUUID().slice(0, 8);
  const ids = { a: `a-${run}`, b: `b-${run}`, c: `c-${run}` };
  let a: Worker;
  let b: Worker;
  let c: Worker;
  let deploymentId: string;

  beforeAll(async () => {
    pool = new pg.Pool({ connectionString: inject('databaseUrl') });
    sink = await startSink();
    sink.delayMs = 30;
    ({ deploymentId } = await deploy(pool, pipeline({ name: 'scale', url: `${sink.url}/scale`, delivery: { retry: 20, backoffPolicy: 'constant', backoffDelay: 'PT0.2S', timeout: 'PT60S' } })));
    const common = { ...backendEnv(backend, prefix), MESHFLOW_DELIVERY_CONCURRENCY: '16', MESHFLOW_DRAIN_TIMEOUT_MS: String(DRAIN_MS) };
    const longLease = String(jetstream ? KILLED_LEASE_MS : LONG_LEASE_MS);
    // One first: on JetStream it creates the streams the others then find.
    a = await startWorker(inject('databaseUrl'), { ...common, MESHFLOW_WORKER_ID: ids.a, MESHFLOW_DELIVERY_LEASE_MS: String(KILLED_LEASE_MS) });
    [b, c] = await Promise.all([
      startWorker(inject('databaseUrl'), { ...common, MESHFLOW_WORKER_ID: ids.b, MESHFLOW_DELIVERY_LEASE_MS: longLease }),
      startWorker(inject('databaseUrl'), { ...common, MESHFLOW_WORKER_ID: ids.c, MESHFLOW_DELIVERY_LEASE_MS: longLease }),
    ]);
  }, 120_000);

  afterAll(async () => {
    for (const w of [a, b, c]) await w?.running.stop('SIGKILL');
    await sink?.close();
    await undeployAll(pool);
    await pool.end();
    if (jetstream) await dropStreams(prefix);
  });

  it('delivers every accepted event once killed and drained workers are gone; repeats carry the same id', { timeout: 300_000 }, async () => {
    const accepted = new Map<string, string>();
    const acceptedBy = new Map<string, number>();
    const sent = new Set<string>();
    let seq = 0;
    let stop = false;
    const producer = async (lane: number) => {
      while (!stop) {
        const n = seq++;
        const id = `${run}-${n}`;
        const target = [a, b, c][(n + lane) % 3]!;
        const body = JSON.stringify({ specversion: '1.0', id, source: '/scale', type: 'com.example.scale', data: { id, n } });
        sent.add(id);
        try {
          const res = await fetch(`${target.base}/events`, { method: 'POST', headers: { 'content-type': 'application/cloudevents+json' }, body });
          await res.arrayBuffer();
          if (res.status >= 200 && res.status < 300) {
            accepted.set(id, body);
            acceptedBy.set(target.base, (acceptedBy.get(target.base) ?? 0) + 1);
          }
        } catch {
          // A killed or draining worker refuses the connection: the event was never acknowledged.
          await sleep(20);
        }
      }
    };
    const lanes = Array.from({ length: 12 }, (_, i) => producer(i));

    // Work spreads: each worker delivers some of it.
    // Leased: claimed rows, and deliveries the worker's own ingress handed it (delivery_handoff).
    const leasedBy = async (owner: string) =>
      Number(
        (
          await pool.query(
            `SELECT (SELECT count(*) FROM delivery WHERE "leaseOwner" = $1 AND "availableAt" > LOCALTIMESTAMP)
                  + (SELECT count(*) FROM delivery_handoff WHERE "leaseOwner" = $1 AND "availableAt" > LOCALTIMESTAMP) AS n`,
            [owner],
          )
        ).rows[0].n,
      );
    await sleep(1_500);

    // SIGKILL under load: a holds claims that come back when its lease ends.
    a.running.child.kill('SIGKILL');
    await a.running.exited;
    await sleep(1_000);

    // SIGTERM with deliveries stuck in flight: a slow target keeps b's claims open well past its drain deadline.
    const holdFrom = Date.now();
    // Longer than finding the held deliveries can take on a loaded machine, and under the target's 60 s timeout.
    sink.delayMs = 30_000;
    // Held: at the sink since the slow-down, unanswered. In flight at b: held, and leased to b.
    const heldAtB = async () => {
      const held = new Set(sink.received.filter((r) => r.at >= holdFrom).map((r) => String(r.headers['ce-id'])));
      // JetStream does not say which worker holds a message: held at the sink is what counts (b's among them).
      if (jetstream) return [...held];
      const { rows } = await pool.query<{ id: string }>(
        `SELECT e.id FROM delivery d JOIN event e ON e.seq = d."eventSeq" WHERE d."leaseOwner" = $1 AND d."availableAt" > LOCALTIMESTAMP
         UNION
         SELECT e.id FROM delivery_handoff h CROSS JOIN LATERAL jsonb_array_elements(h.items) AS it JOIN event e ON e.seq = (it->>0)::bigint
          WHERE h."leaseOwner" = $1 AND h."availableAt" > LOCALTIMESTAMP`,
        [ids.b],
      );
      return rows.filter((r) => held.has(r.id)).map((r) => r.id);
    };
    const stuck = await waitFor(async () => ((await heldAtB()).length >= 3 ? heldAtB() : undefined), 30_000, 'deliveries held in flight at b');
    const inFlightAtB = stuck.length;
    const exit = await b.running.stop('SIGTERM');
    expect(exit.code).toBe(0);
    // Its leases were handed back, not left to expire.
    if (!jetstream) expect(await leasedBy(ids.b)).toBe(0);
    const drainLine = b.running.output().split('\n').find((l) => /deliveries drained|drain deadline reached/.test(l));
    expect(drainLine, b.running.output().slice(-2_000)).toMatch(/drain deadline reached; the rest handed back .*released=[1-9]/);
    sink.delayMs = 30;

    await sleep(1_000);
    stop = true;
    await Promise.all(lanes);

    const wanted = [...accepted.keys()];
    // Delivered: answered on a live connection (b's held requests died with it).
    const seen = () => new Set(sink.received.filter((r) => r.answered).map((r) => String(r.headers['ce-id'])));
    // A request that died with its worker is delivered again, its event acknowledged or not (a worker
    // killed between recording an event and answering its sender still delivers it later, from the log).
    const died = () => sink.received.filter((r) => r.answered === false).map((r) => String(r.headers['ce-id']));
    // b's lease is ten minutes: what it held arrives now only because it was released.
    await waitFor(
      async () => ([...wanted, ...stuck, ...died()].every((id) => seen().has(id)) ? true : undefined),
      150_000,
      'every accepted event, and every request that died with its worker, delivered',
    ).catch((error: Error) => {
      // Say what is missing and what the live worker logged, so a failure can be read.
      const missing = [...wanted, ...stuck, ...died()].filter((id) => !seen().has(id));
      const notes = c.running.output().split('\n').filter((l) => /warn|error/i.test(l)).slice(-20).join('\n');
      throw new Error(`${error.message}; ${missing.length} not delivered (${missing.slice(0, 5).join(', ')}…); worker c's warnings:\n${notes}`);
    });

    const byId = new Map<string, string[]>();
    for (const r of sink.received) byId.set(String(r.headers['ce-id']), [...(byId.get(String(r.headers['ce-id'])) ?? []), r.body]);
    const repeats = [...byId.values()].filter((bodies) => bodies.length > 1);
    expect(wanted.filter((id) => !byId.has(id))).toEqual([]);
    expect([...byId.keys()].every((id) => sent.has(id))).toBe(true);
    for (const bodies of repeats) expect(new Set(bodies.map(canonical)).size).toBe(1);
    // What b held when it stopped went out again, from another worker (on JetStream: every request that died with its worker).
    if (!jetstream) for (const id of stuck) expect(byId.get(id)?.length ?? 0, id).toBeGreaterThanOrEqual(2);
    if (jetstream) expect(died().length).toBeGreaterThan(0);
    for (const id of died()) expect(sink.received.some((r) => r.answered && String(r.headers['ce-id']) === id), id).toBe(true);
    // Each of the three ingress ports acknowledged events.
    expect(acceptedBy.size).toBe(3);
    // This flow's queue empties (other tests' flows may still be retrying theirs under the day-long default policy).
    const queued = async () =>
      jetstream ? ((await backlogInJetStream(prefix)).get(deploymentId) ?? 0) : Number((await pool.query(`SELECT count(*) AS n FROM delivery WHERE "deploymentId" = $1`, [deploymentId])).rows[0].n);
    await waitFor(async () => ((await queued()) === 0 ? true : undefined), 30_000, 'an empty queue');
    console.log(
      `scale test on ${backend}: accepted ${accepted.size} (${[...acceptedBy.values()].join('/')} by port), in flight at b's SIGTERM ${inFlightAtB}, ` +
        `deliveries ${sink.received.length}, distinct ${byId.size}, repeated ${repeats.length}`,
    );
  });
});
