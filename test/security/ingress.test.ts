/**
 * Threat: one sender's malformed or slow requests deny service to every other sender.
 * Malformed events are refused one by one (each its own 400), valid events committed in the
 * same group commits all go in, a commit the database refuses fails only the request at
 * fault, and slow clients are cut off by header and body deadlines while others are served.
 */
import { randomUUID } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { IngressError, type CloudEventRecord } from '@/runtime/events/cloudevent';
import { EventLog } from '@/runtime/events/event-log';
import { waitFor } from '@/test/helpers/databases';
import { post, startWorker, structured, type Worker } from '@/test/integration/events/helpers';
import { malformedCases } from '@/test/integration/events/malformed';

const VALID = 2000;
const IN_FLIGHT = 200;

/** Runs `tasks` with at most `limit` under way at once. */
async function concurrently<T>(tasks: (() => Promise<T>)[], limit: number): Promise<T[]> {
  const results: T[] = new Array<T>(tasks.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: limit }, async () => {
      while (next < tasks.length) {
        const i = next++;
        results[i] = await tasks[i]!();
      }
    }),
  );
  return results;
}

function openSocket(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => resolve(socket));
    socket.on('error', reject);
  });
}

/** Resolves with what the server sent once it closes the connection. */
function closed(socket: Socket): Promise<string> {
  let received = '';
  socket.on('data', (chunk: Buffer) => (received += chunk.toString('utf8')));
  return new Promise((resolve) => socket.on('close', () => resolve(received)));
}

describe('ingress isolation', () => {
  let pool: pg.Pool;
  let worker: Worker;
  // Slow clients meet a worker with short deadlines (the defaults are 10 s and 30 s).
  let strict: Worker;

  beforeAll(async () => {
    pool = new pg.Pool({ connectionString: inject('databaseUrl') });
    worker = await startWorker(inject('databaseUrl'));
    strict = await startWorker(inject('databaseUrl'), { MESHFLOW_HEADERS_TIMEOUT_MS: '2000', MESHFLOW_BODY_TIMEOUT_MS: '2000' });
  });

  afterAll(async () => {
    await worker?.running.stop();
    await strict?.running.stop();
    await pool?.end();
  });

  it(`accepts all ${VALID} valid events sent concurrently with malformed ones, and answers each malformed one with its own 400`, async () => {
    const tag = randomUUID().slice(0, 8);
    const source = `/isolation/${tag}`;
    // Keep-alive connections are reused throughout: none may be closed under a request (the
    // worker outlasts Node's 5 s idle timeout, which a loaded event loop overran here).
    const send = (init: RequestInit) => post(worker.base, '/events', init);
    const bad = malformedCases(tag);
    // Every malformed case several times, spread through the valid traffic so they share commits with it.
    const badRounds = 4;
    const tasks: (() => Promise<{ kind: 'valid' | number; status: number; body: Record<string, unknown> }>)[] = [];
    for (let i = 0; i < VALID; i++) {
      tasks.push(async () => ({ kind: 'valid', ...(await send(structured({ id: `ok-${i}`, source, type: 'com.example.isolation', data: { i } }))) }));
      if (i % Math.floor(VALID / (bad.length * badRounds)) === 0) {
        const k = (i / Math.floor(VALID / (bad.length * badRounds))) % bad.length;
        tasks.push(async () => ({ kind: k, ...(await send(bad[k]!.init)) }));
      }
    }
    const results = await concurrently(tasks, IN_FLIGHT);

    const valid = results.filter((r) => r.kind === 'valid');
    expect(valid).toHaveLength(VALID);
    expect(valid.filter((r) => r.status !== 202).map((r) => `${r.status} ${JSON.stringify(r.body)}`)).toEqual([]);
    const { rows } = await pool.query<{ n: number }>('SELECT count(*)::int AS n FROM event WHERE source = $1', [source]);
    expect(rows[0]!.n).toBe(VALID);

    const failures: string[] = [];
    const seen = new Set<number>();
    for (const r of results) {
      if (r.kind === 'valid') continue;
      seen.add(r.kind);
      const c = bad[r.kind]!;
      if (r.status !== 400 || r.body.status !== 400 || typeof r.body.detail !== 'string') failures.push(`${c.name}: ${r.status} ${JSON.stringify(r.body)}`);
      if (c.attribute !== undefined && r.body.attribute !== c.attribute) failures.push(`${c.name}: attribute ${String(r.body.attribute)}, expected ${c.attribute}`);
      for (const [key, value] of Object.entries(c.problem ?? {})) if (r.body[key] !== value) failures.push(`${c.name}: ${key} ${JSON.stringify(r.body[key])}, expected ${JSON.stringify(value)}`);
    }
    expect(failures).toEqual([]);
    expect(seen.size).toBe(bad.length);
    const { rows: leaked } = await pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM event WHERE id LIKE $1`, [`bad-${tag}-%`]);
    expect(leaked[0]!.n).toBe(0);
  });

  it('fails only the request the database refuses: the others of its commit are stored', async () => {
    // Straight to the log, past ingress validation: the database's own refusal must stay with its request.
    const log = new EventLog(pool, { maxBatch: 1000 });
    const source = `/bisect/${randomUUID().slice(0, 8)}`;
    const event = (id: string, extra: Partial<CloudEventRecord> = {}): CloudEventRecord => ({ specversion: '1.0', id, source, type: 'com.example.bisect', ...extra });
    const appends = Array.from({ length: 300 }, (_, i) => {
      const bad = i === 17 || i === 211;
      const e = bad ? event(`bad-${i}`, { data: { note: 'a\u0000b' } }) : event(`ok-${i}`, { data: { i } });
      return log.append([{ event: e, ingress: 'events', routes: [] }]);
    });
    const settled = await Promise.allSettled(appends);
    const refused = settled.flatMap((s, i) => (s.status === 'rejected' ? [i] : []));
    expect(refused).toEqual([17, 211]);
    for (const i of refused) {
      const reason = (settled[i] as PromiseRejectedResult).reason as IngressError;
      expect(reason).toBeInstanceOf(IngressError);
      expect(reason.status).toBe(400);
      expect(reason.message).toMatch(/Unicode|\\u0000/);
    }
    const { rows } = await pool.query<{ n: number }>('SELECT count(*)::int AS n FROM event WHERE source = $1', [source]);
    expect(rows[0]!.n).toBe(298);
  });

  it('cuts off clients that send their headers too slowly, or nothing at all, while serving others', async () => {
    const slow = await Promise.all(Array.from({ length: 20 }, () => openSocket(strict.port)));
    const silent = await Promise.all(Array.from({ length: 5 }, () => openSocket(strict.port)));
    const outcomes = [...slow, ...silent].map(closed);
    const drips = slow.map((socket) => {
      socket.write('POST /events HTTP/1.1\r\nHost: 127.0.0.1\r\n');
      return setInterval(() => socket.write('x-slow: 1\r\n'), 300);
    });
    try {
      // Served meanwhile.
      const res = await post(strict.base, '/events', structured({ id: randomUUID(), source: '/slowloris', type: 't' }));
      expect(res.status).toBe(202);
      const answers = await waitFor(async () => {
        const done = await Promise.race([Promise.all(outcomes), new Promise<undefined>((r) => setTimeout(r, 500))]);
        return done;
      }, 30_000, 'the server closing the slow connections');
      for (const answer of answers) expect(answer === '' || answer.startsWith('HTTP/1.1 408')).toBe(true);
    } finally {
      drips.forEach(clearInterval);
      [...slow, ...silent].forEach((s) => s.destroy());
    }
    expect((await post(strict.base, '/events', structured({ id: randomUUID(), source: '/slowloris', type: 't' }))).status).toBe(202);
  });

  it('answers 408 with a problem to a client that sends its body too slowly, and closes the connection', async () => {
    const socket = await openSocket(strict.port);
    const outcome = closed(socket);
    const event = JSON.stringify({ specversion: '1.0', id: randomUUID(), source: '/slow-body', type: 't', data: 'x'.repeat(200) });
    socket.write(`POST /events HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/cloudevents+json\r\nContent-Length: ${event.length}\r\n\r\n`);
    let sent = 0;
    const drip = setInterval(() => {
      if (sent < event.length && !socket.destroyed) socket.write(event[sent++]!);
    }, 200);
    try {
      const answer = await waitFor(async () => Promise.race([outcome, new Promise<undefined>((r) => setTimeout(r, 500))]), 30_000, 'the 408');
      expect(answer).toMatch(/^HTTP\/1\.1 408/);
      expect(answer).toContain('application/problem+json');
      expect(answer).toMatch(/"detail":"the body did not arrive within 2000 ms/);
    } finally {
      clearInterval(drip);
      socket.destroy();
    }
    const { rows } = await pool.query('SELECT 1 FROM event WHERE source = $1', ['/slow-body']);
    expect(rows).toHaveLength(0);
  });
});
