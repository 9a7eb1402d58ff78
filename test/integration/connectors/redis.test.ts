import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { waitFor } from '@/test/helpers/databases';
import { startSink, startWorker, undeployAll, type Sink, type Worker } from '@/test/integration/events/helpers';
import { bodiesAt, deploySourceFlow, waitForConnected, withBrokerDown } from '@/test/integration/connectors/helpers';

const URL = 'redis://127.0.0.1:6379';
const REDIS = {
  stop: 'redis-cli -p 6379 shutdown nosave',
  start: 'redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no --dir /var/lib/redis --logfile /var/log/redis/ci.log',
  ready: async () => {
    const r = new Redis(URL, { lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0 });
    r.on('error', () => {});
    await r.connect();
    await r.ping();
    r.disconnect();
    return true;
  },
};

/**
 * Redis runs here without persistence (`--save ""`, no AOF): a restart empties it, taking
 * the stream, the consumer group and its pending list along. What the consumer guarantees is
 * that every entry committed before the restart was delivered (acks follow commits), and that
 * no entry added after the restart is skipped although the group had to be created anew.
 */
describe('Redis Streams source on the real Redis', () => {
  let pool: pg.Pool;
  let sink: Sink;
  let worker: Worker;
  const run = randomUUID().slice(0, 8);
  const stream = `mf-${run}`;

  beforeAll(async () => {
    pool = new pg.Pool({ connectionString: inject('databaseUrl') });
    sink = await startSink();
    await deploySourceFlow(pool, { kind: 'redis-stream-source', connection: { connection: URL, stream, group: 'meshflow' }, type: 'io.meshflow.redis.message', sink, path: 'redis' });
    worker = await startWorker(inject('databaseUrl'));
    await waitForConnected(worker.running.output, 1);
  });

  afterAll(async () => {
    await worker?.running.stop();
    await sink?.close();
    await undeployAll(pool);
    await pool.end();
    const r = new Redis(URL);
    await r.del(stream);
    r.disconnect();
  });

  it('delivers every entry, and after a restart without persistence skips none added since', async () => {
    const producer = new Redis(URL, { retryStrategy: () => 100, maxRetriesPerRequest: null });
    producer.on('error', () => {});
    for (let n = 0; n < 200; n++) await producer.xadd(stream, '*', 'order', String(n));
    await waitFor(async () => (bodiesAt(sink, 'redis').length >= 200 ? true : undefined), 30_000, '200 entries at the sink');
    // Everything before the restart was committed; only then was it acknowledged.
    const pending = (await producer.xpending(stream, 'meshflow')) as [number, ...unknown[]];
    expect(pending[0]).toBe(0);

    await withBrokerDown(REDIS, async () => {
      await new Promise((r) => setTimeout(r, 500));
    });
    // Added at once, before the consumer has reconnected and found its group gone.
    for (let n = 200; n < 300; n++) await producer.xadd(stream, '*', 'order', String(n));
    producer.disconnect();

    await waitFor(async () => (new Set(bodiesAt(sink, 'redis').map((b) => (b as { order: string }).order)).size === 300 ? true : undefined), 60_000, 'all 300 entries at the sink');
    expect(bodiesAt(sink, 'redis')).toContainEqual({ order: '299' });
    expect(worker.running.output()).toMatch(/connector session failed; reconnecting/);
  });

  it('a batch with messages the event log cannot store delivers the rest, and nothing is redelivered forever', async () => {
    const producer = new Redis(URL);
    const marker = `poison-${run}`;
    const bad = (extra: Record<string, unknown>) => JSON.stringify({ specversion: '1.0', id: randomUUID(), source: '/poison', type: 'io.meshflow.redis.message', ...extra });
    // One pipeline: the consumer reads them as one batch and commits them together.
    const pipeline = producer.pipeline();
    for (let n = 0; n < 30; n++) {
      if (n === 10) pipeline.xadd(stream, '*', 'event', bad({ data: { note: 'a\u0000b' } }));
      if (n === 20) pipeline.xadd(stream, '*', 'event', bad({ time: '2025-13-01T00:00:00Z' }));
      pipeline.xadd(stream, '*', 'marker', marker, 'n', String(n));
    }
    // Plain payloads jsonb cannot hold as JSON are kept as text instead of refused.
    pipeline.xadd(stream, '*', 'data', JSON.stringify({ marker, note: '\u0000' }));
    pipeline.xadd(stream, '*', 'data', `{"marker":"${marker}","deep":${'['.repeat(100)}${']'.repeat(100)}}`);
    await pipeline.exec();
    const marked = () => bodiesAt(sink, 'redis').filter((b) => JSON.stringify(b).includes(marker));
    await waitFor(async () => (marked().length >= 32 ? true : undefined), 30_000, '32 entries at the sink');
    expect(marked().filter((b) => typeof b === 'object' && b !== null && 'n' in b).map((b) => Number((b as { n: string }).n)).sort((a, b) => a - b)).toEqual(Array.from({ length: 30 }, (_, n) => n));
    const kept = sink.received.filter((r) => r.url === '/redis' && r.body.includes(marker) && !r.body.includes('"n"'));
    expect(kept.map((r) => r.headers['content-type'])).toEqual(['text/plain; charset=utf-8', 'text/plain; charset=utf-8']);
    await waitFor(async () => (((await producer.xpending(stream, 'meshflow')) as [number])[0] === 0 ? true : undefined), 10_000, 'every entry acknowledged');
    expect(worker.running.output()).toMatch(/message dropped.*U\+0000/);
    expect(worker.running.output()).toMatch(/message dropped.*month 13/);
    producer.disconnect();
  });
});
