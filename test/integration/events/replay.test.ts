/**
 * Dead-letter replay against a real worker and a loopback sink: a replay goes to the flow as
 * it is deployed now (the fixed version), through the worker's normal delivery, with the
 * original CloudEvent id; the version that failed only when chosen; an undeployed flow's
 * letters stay put with a clear reason; and "replay all" goes through every letter in chunks.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { PrismaClient } from '@/prisma/generated/client';
import type { FlowGraph } from '@/runtime/nodes/types';
import { createDb } from '@/server/db';
import { createCaller } from '@/server/routers/root';
import type { Context } from '@/server/trpc';
import { freePort, waitFor } from '@/test/helpers/databases';
import { backendEnv, backends, dropStreams, post, startSink, startWorker, streamPrefix, structured, type Sink, type Worker } from '@/test/integration/events/helpers';

describe.each(backends)('on %s', (backend) => {
  const prefix = streamPrefix('replay');
  const tag = randomUUID().slice(0, 8);
  const type = `com.example.replay.${tag}`;

  let db: PrismaClient;
  let pool: pg.Pool;
  let sink: Sink;
  let worker: Worker;
  let api: ReturnType<typeof createCaller>;
  let flowId: string;
  let deadUrl: string;

  function line(url: string): FlowGraph {
    return {
      document: { namespace: 'test', name: 'replay', version: '0.1.0' },
      nodes: [
        { id: 'source', kind: 'cloudevents-endpoint', position: { x: 0, y: 0 }, config: { eventType: type } },
        { id: 'deliver', kind: 'http-request', position: { x: 250, y: 0 }, config: { method: 'post', url, body: '.', retry: { attempts: 1, delay: 'PT0.1S', backoff: 'constant' } } },
      ],
      edges: [{ id: 'e', source: 'source', target: 'deliver' }],
    };
  }

  async function save(url: string): Promise<number> {
    const saved = await api.flows.saveVersion({ flowId, graph: line(url) });
    if (!saved.ok) throw new Error(JSON.stringify(saved.diagnostics));
    return saved.version;
  }

  /** Posts an event until the worker routes it (it loads a new deployment within a second) and waits for its dead letter. */
  async function deadLetterOf(eventId: string) {
    expect((await post(worker.base, '/events', structured({ id: eventId, source: '/replay', type, data: { n: 1 } }))).status).toBe(202);
    return waitFor(async () => (await api.deadLetters.list({ flowId })).items.find((l) => l.eventId === eventId), 20_000, `the dead letter of ${eventId}`);
  }

  const received = (eventId: string) => sink.received.filter((r) => r.headers['ce-id'] === eventId);

  beforeAll(async () => {
    process.env.DATABASE_URL = inject('databaseUrl');
    process.env.MESHFLOW_AUTH_SECRET ??= randomBytes(32).toString('hex');
    process.env.MESHFLOW_SECRET_KEY ??= randomBytes(32).toString('base64');
    db = createDb(inject('databaseUrl'));
    pool = new pg.Pool({ connectionString: inject('databaseUrl') });
    const ctx: Context = { db, user: { id: 'editor-1', name: 'Ed', email: 'ed@example.com', role: 'editor' }, workerUrl: 'http://127.0.0.1:1', secretKey: randomBytes(32) };
    api = createCaller(ctx);
    sink = await startSink();
    deadUrl = `http://127.0.0.1:${await freePort()}/down`;
    // v1 and v2 point at a port nothing listens on; v2 is deployed.
    const created = await api.flows.create({ name: `Replay ${tag}`, graph: line(deadUrl) });
    if (!created.ok) throw new Error(JSON.stringify(created.diagnostics));
    flowId = created.flowId;
    expect(await save(deadUrl)).toBe(2);
    await api.flows.deploy({ flowId });
    worker = await startWorker(inject('databaseUrl'), backendEnv(backend, prefix));
  });

  afterAll(async () => {
    await worker?.running.stop();
    await sink?.close();
    await pool?.query(`UPDATE deployment SET status = 'stopped' WHERE "flowId" = $1`, [flowId]);
    await pool?.end();
    await db?.$disconnect();
    if (backend === 'jetstream') await dropStreams(prefix);
  });

  describe('dead-letter replay', () => {
    let fixedVersion: number;

    it('sends a replay to the live, fixed version with the original event id, and says which version', async () => {
      const eventId = `first-${tag}`;
      const letter = await deadLetterOf(eventId);
      expect(letter).toMatchObject({ version: 2, replayedAt: null });
      expect(letter.reason).toMatch(/ECONNREFUSED|connect|refused/i);

      fixedVersion = await save(`${sink.url}/fixed`);
      expect(fixedVersion).toBe(3);
      await api.flows.deploy({ flowId });
      const answer = await api.deadLetters.replay({ ids: [letter.id] });
      expect(answer).toMatchObject({ replayed: 1, destinations: [{ flowId, version: 3, count: 1 }], refused: [] });

      const hit = await waitFor(async () => received(eventId)[0], 15_000, 'the replayed event at the fixed target');
      expect(hit.url).toBe('/fixed');
      expect(JSON.parse(hit.body)).toEqual({ n: 1 });
      const after = (await api.deadLetters.list({ flowId, all: true })).items.find((l) => l.id === letter.id);
      expect(after).toMatchObject({ replayedToVersion: 3 });
      expect(after?.replayedAt).not.toBeNull();
      // Nothing dead-lettered it again.
      expect((await api.deadLetters.list({ flowId })).items.filter((l) => l.eventId === eventId)).toEqual([]);
    });

    it('replays to the version that failed when that is chosen', async () => {
      // The event arrives while v3 is live, so make v4 broken, deploy it, and let it fail there.
      const broken = await save(deadUrl);
      await api.flows.deploy({ flowId });
      // Until the worker has loaded v4 an event still goes to v3 and arrives; each try is a new event.
      let tries = 0;
      const letter = await waitFor(async () => {
        tries += 1;
        await post(worker.base, '/events', structured({ id: `original-${tries}-${tag}`, source: '/replay', type, data: { n: 2 } }));
        await new Promise((resolve) => setTimeout(resolve, 300));
        return (await api.deadLetters.list({ flowId })).items.find((l) => l.eventId.startsWith('original-') && l.version === broken);
      }, 30_000, 'a dead letter from the broken version');
      const eventId = letter.eventId;
      await api.flows.deploy({ flowId, version: fixedVersion });
      const answer = await api.deadLetters.replay({ ids: [letter.id], to: 'original' });
      expect(answer.destinations).toEqual([expect.objectContaining({ version: broken })]);
      // It fails again at the broken version: a new letter for the same event, and nothing at the sink.
      await waitFor(async () => (await api.deadLetters.list({ flowId })).items.find((l) => l.eventId === eventId && l.id !== letter.id), 20_000, 'the second dead letter');
      expect(received(eventId)).toEqual([]);
    });

    it('leaves the letters of an undeployed flow waiting, and says why and what would work', async () => {
      const waiting = (await api.deadLetters.list({ flowId })).items[0]!;
      await api.flows.undeploy({ flowId });
      await expect(api.deadLetters.replay({ ids: [waiting.id] })).rejects.toThrow(/is not deployed: deploy it and replay again, or replay to the original version v4/);
      const still = (await api.deadLetters.list({ flowId })).items.find((l) => l.id === waiting.id);
      expect(still?.replayedAt).toBeNull();
      await api.flows.deploy({ flowId, version: fixedVersion });
    });

    it('replays every letter the filter matches, in chunks, not just the first 500', async () => {
      const total = 1200;
      const { rows: deployment } = await pool.query<{ id: string }>(
        `SELECT d.id FROM deployment d JOIN flow_version v ON v.id = d."flowVersionId" WHERE d."flowId" = $1 AND v.version = 2`,
        [flowId],
      );
      // Letters as the worker writes them: the event logged (considered by the one deployment), its delivery at v2 failed for good.
      await pool.query(
        `WITH e AS (
           INSERT INTO event (id, source, type, data, considered) SELECT 'bulk-' || n || '-' || $3, '/replay', $4, '{"n": 3}', 1 FROM generate_series(1, $1::int) n RETURNING seq
         )
         INSERT INTO dead_letter (id, "eventSeq", "flowId", "deploymentId", target, reason, attempts)
         SELECT gen_random_uuid()::text, seq, $2, $5, $6, 'HTTP 503', 1 FROM e`,
        [total, flowId, tag, type, deployment[0]!.id, deadUrl],
      );
      const pending = (await api.deadLetters.list({ flowId, limit: 1 })).total;
      expect(pending).toBeGreaterThanOrEqual(total);
      let cursor: string | null = null;
      let calls = 0;
      let replayed = 0;
      do {
        const answer: Awaited<ReturnType<typeof api.deadLetters.replay>> = await api.deadLetters.replay({ every: { flowId }, cursor });
        calls += 1;
        replayed += answer.replayed;
        expect(answer.destinations.every((d) => d.version === fixedVersion)).toBe(true);
        cursor = answer.nextCursor;
      } while (cursor);
      expect(calls).toBe(Math.ceil(pending / 500));
      expect(replayed).toBe(pending);
      expect((await api.deadLetters.list({ flowId })).total).toBe(0);
      await waitFor(
        async () => (new Set(sink.received.filter((r) => String(r.headers['ce-id']).startsWith('bulk-')).map((r) => r.headers['ce-id'])).size === total ? true : undefined),
        60_000,
        'every bulk-replayed event at the fixed target',
      );
    });
  });
});
