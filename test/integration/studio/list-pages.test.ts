/**
 * Every studio list, read through the tRPC API on a database of its own (so event sequence
 * numbers run 1…1200 and cross 9/10, 99/100 and 999/1000), is ordered by its real key and
 * pages through everything with `nextCursor`: nothing skipped, nothing repeated, even when
 * rows arrive between pages.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { applyMigrations } from '@/prisma/migrator';
import type { PrismaClient } from '@/prisma/generated/client';
import { createDb } from '@/server/db';
import { createCaller } from '@/server/routers/root';
import type { Context } from '@/server/trpc';
import { createScratchDatabase } from '@/test/helpers/databases';

const N = 1200;
const descending = Array.from({ length: N }, (_, i) => N - i);

let scratch: { url: string; drop: () => Promise<void> };
let pool: pg.Pool;
let db: PrismaClient;
let api: ReturnType<typeof createCaller>;
let flowId: string;

/** Follows `nextCursor` from the first page to the last, returning every page. */
async function allPages<T>(fetch: (cursor: string | null) => Promise<{ items: T[]; nextCursor: string | null }>): Promise<T[][]> {
  const pages: T[][] = [];
  let cursor: string | null = null;
  do {
    const page = await fetch(cursor);
    pages.push(page.items);
    cursor = page.nextCursor;
  } while (cursor !== null && pages.length < 100);
  return pages;
}

beforeAll(async () => {
  scratch = await createScratchDatabase(inject('adminUrl'));
  await applyMigrations(scratch.url);
  process.env.DATABASE_URL = scratch.url;
  process.env.MESHFLOW_AUTH_SECRET = randomBytes(32).toString('hex');
  process.env.MESHFLOW_SECRET_KEY = randomBytes(32).toString('base64');
  pool = new pg.Pool({ connectionString: scratch.url });
  db = createDb(scratch.url);
  const ctx: Context = { db, user: { id: 'viewer-1', name: 'Vi', email: 'vi@example.com', role: 'viewer' }, workerUrl: 'http://127.0.0.1:1', secretKey: randomBytes(32) };
  api = createCaller(ctx);

  // One flow with versions 1…N and a deployment of v1; N events (seq 1…N), all received in
  // the same instant, each delivered by the pipeline (one Runs entry each) and dead-lettered once.
  flowId = randomUUID();
  await pool.query(`INSERT INTO flow (id, name, "updatedAt") VALUES ($1, 'paged', now())`, [flowId]);
  await pool.query(
    `INSERT INTO flow_version (id, "flowId", version, graph, "dslYaml", note, "createdAt")
     SELECT gen_random_uuid()::text, $1, v, '{}', 'document: {}', 'note ' || v, timestamp '2026-01-01' FROM generate_series(1, $2::int) v`,
    [flowId, N],
  );
  const deploymentId = randomUUID();
  await pool.query(
    `INSERT INTO deployment (id, "flowId", "flowVersionId", "updatedAt") SELECT $1, $2, id, now() FROM flow_version WHERE "flowId" = $2 AND version = 1`,
    [deploymentId, flowId],
  );
  await pool.query(
    `INSERT INTO event (id, source, type, "receivedAt") SELECT 'e-' || n, '/paged', 'com.example.paged', timestamp '2026-01-02 10:00:00' FROM generate_series(1, $1::int) n ORDER BY n`,
    [N],
  );
  await pool.query(`INSERT INTO delivery_outcome ("eventSeq", "deploymentId", outcome, attempt, "at") SELECT seq, $1, 'delivered', 1, "receivedAt" FROM event`, [deploymentId]);
  await pool.query(
    `INSERT INTO dead_letter (id, "eventSeq", "flowId", "deploymentId", target, reason, attempts, "createdAt")
     SELECT gen_random_uuid()::text, seq, $1, $2, 'http://127.0.0.1:1/down', 'HTTP 503', 3, timestamp '2026-01-02 10:00:01' FROM event`,
    [flowId, deploymentId],
  );
});

afterAll(async () => {
  await db?.$disconnect();
  await pool?.end();
  const { pool: shared } = await import('@/server/db');
  await shared().end();
  await scratch?.drop();
});

describe('list pages', () => {
  it('lists events newest first by sequence number, 9 after 10 and 999 after 1000, over pages that miss nothing', async () => {
    const first = await api.events.list({ type: 'com.example.paged', limit: 200 });
    expect(first.items.slice(0, 3).map((e) => e.seq)).toEqual(['1200', '1199', '1198']);
    // An event arriving after the first page does not shift the next ones.
    await pool.query(`INSERT INTO event (id, source, type) VALUES ('late', '/paged', 'com.example.paged')`);
    const pages = [first.items, ...(await allPages((cursor) => (cursor ? api.events.list({ type: 'com.example.paged', limit: 200, cursor }) : Promise.resolve({ items: [], nextCursor: first.nextCursor }))))];
    const seqs = pages.flat().map((e) => Number(e.seq));
    expect(seqs).toEqual(descending);
    expect(pages.filter((p) => p.length > 0).map((p) => p.length)).toEqual([200, 200, 200, 200, 200, 200]);
    expect(pages.flat().find((e) => e.seq === '10')?.id).toBe('e-10');
    // The live tail's last rows are the newest by number too, not by text.
    expect((await api.events.list({ type: 'com.example.paged', limit: 3 })).items.map((e) => e.id)).toEqual(['late', 'e-1200', 'e-1199']);
    expect((await api.events.list({ type: 'com.example.paged', beforeSeq: '11', limit: 3 })).items.map((e) => e.seq)).toEqual(['10', '9', '8']);
  });

  it('lists runs newest first, then by event sequence number, over pages', async () => {
    const pages = await allPages((cursor) => api.runs.list({ flowId, limit: 150, ...(cursor ? { cursor } : {}) }));
    expect(pages).toHaveLength(16);
    const all = pages.flat();
    // Each event has two entries (its delivery and its dead letter), both started when it arrived.
    expect(all.map((r) => Number(r.eventSeq))).toEqual(descending.flatMap((n) => [n, n]));
    expect(new Set(all.map((r) => r.id)).size).toBe(2 * N);
  });

  it('lists dead letters newest first, then by event sequence number, with the total, over pages', async () => {
    const pages = await allPages((cursor) => api.deadLetters.list({ flowId, limit: 500, ...(cursor ? { cursor } : {}) }));
    expect(pages.map((p) => p.length)).toEqual([500, 500, 200]);
    expect(pages.flat().map((l) => Number(l.eventSeq))).toEqual(descending);
    expect((await api.deadLetters.list({ flowId, limit: 1 })).total).toBe(N);
  });

  it('lists versions newest first by number, over pages', async () => {
    const pages = await allPages((cursor) => api.flows.versions({ flowId, limit: 200, ...(cursor ? { cursor } : {}) }));
    expect(pages).toHaveLength(6);
    expect(pages.flat().map((v) => v.version)).toEqual(descending);
  });

  it('refuses a cursor it did not hand out, saying what to do', async () => {
    await expect(api.events.list({ cursor: 'not-a-cursor' })).rejects.toThrow(/cursor is not one this event list handed out.*first page/);
    await expect(api.runs.list({ cursor: Buffer.from('[1]').toString('base64url') })).rejects.toThrow(/run list/);
  });
});
