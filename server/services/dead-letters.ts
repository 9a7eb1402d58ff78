/**
 * Dead letters for operators: listed by flow and target with reason and attempts, a page at
 * a time; replayed (one, a selection, or every one the filter shows, in chunks the page
 * drives so it can show progress) through the runtime's own replay, which queues the original
 * logged event — same CloudEvent `id` — for the flow's live deployment (or, when asked, the
 * version that failed); or discarded with a reason that stays on record.
 */
import type pg from 'pg';
import { z } from 'zod';
import { countDeadLetters, discardDeadLetters, listDeadLetters, replayDeadLetters, type ReplayOutcome } from '@/runtime/events/dead-letters';
import { ServiceError } from './errors';
import { cursorInput, decodeCursor, pageOf } from './pages';

export const deadLetterFilterInput = z.object({
  flowId: z.string().optional(),
  target: z.string().trim().max(2000).optional(),
  /** Replayed and discarded ones too. */
  all: z.boolean().default(false),
});

export const listDeadLettersInput = deadLetterFilterInput.extend({
  limit: z.number().int().min(1).max(500).default(100),
  cursor: cursorInput,
});

function keyOf(cursor: string | null | undefined) {
  if (!cursor) return undefined;
  const [createdAt, eventSeq, id] = decodeCursor(cursor, ['s', 's', 's'], 'dead letter') as string[];
  return { createdAt: createdAt!, eventSeq: eventSeq!, id: id! };
}

/** One page, newest first, with the count of every letter the filter matches. */
export async function listDeadLettersForStudio(pool: pg.Pool, input: z.input<typeof listDeadLettersInput>) {
  const q = listDeadLettersInput.parse(input);
  const filter = { flowId: q.flowId || undefined, target: q.target || undefined, all: q.all };
  const [letters, total] = await Promise.all([
    listDeadLetters(pool, { ...filter, limit: q.limit + 1, after: keyOf(q.cursor) }),
    countDeadLetters(pool, filter),
  ]);
  const page = pageOf(letters, q.limit, (l) => [l.createdAt, l.eventSeq, l.id]);
  const { rows: flows } = await pool.query<{ id: string; name: string }>(`SELECT id, name FROM flow WHERE id = ANY($1::text[])`, [
    [...new Set(page.items.map((l) => l.flowId).filter((id): id is string => id !== null))],
  ]);
  const names = new Map(flows.map((f) => [f.id, f.name]));
  return { ...page, total, items: page.items.map((l) => ({ ...l, flowName: l.flowId ? (names.get(l.flowId) ?? null) : null })) };
}

/** Flows that have dead letters waiting, for the page's filter. */
export async function deadLetterFlows(pool: pg.Pool) {
  const { rows } = await pool.query<{ id: string; name: string }>(
    `SELECT DISTINCT f.id, f.name FROM dead_letter l LEFT JOIN deployment d ON d.id = l."deploymentId"
       JOIN flow f ON f.id = coalesce(l."flowId", d."flowId")
      WHERE l."replayedAt" IS NULL AND l."discardedAt" IS NULL ORDER BY f.name`,
  );
  return rows;
}

/** Letters per call: a bulk replay is many calls, each its own transaction, so the page can show progress. */
export const REPLAY_CHUNK = 500;

const replayTo = z.enum(['live', 'original']).default('live');

export const replayInput = z.union([
  z.object({ ids: z.array(z.string().min(1)).min(1, 'choose at least one dead letter').max(REPLAY_CHUNK, `replay at most ${REPLAY_CHUNK} letters per call; send the rest in further calls`), to: replayTo }),
  /** Every pending letter the filter matches, a chunk per call: pass each answer's `nextCursor` back until it is null. */
  z.object({ every: deadLetterFilterInput.omit({ all: true }), to: replayTo, cursor: cursorInput }),
]);

export interface ReplayAnswer {
  replayed: number;
  /** Where the replayed letters went: one entry per flow version. */
  destinations: { flowId: string; flowName: string; version: number; count: number }[];
  refused: ReplayOutcome['refused'];
  /** For `every`: where the next chunk starts, null when this was the last one. */
  nextCursor: string | null;
}

function destinationsOf(outcome: ReplayOutcome): ReplayAnswer['destinations'] {
  const byVersion = new Map<string, ReplayAnswer['destinations'][number]>();
  for (const r of outcome.replayed) {
    const key = `${r.flowId}\0${r.version}`;
    const entry = byVersion.get(key) ?? { flowId: r.flowId, flowName: r.flowName, version: r.version, count: 0 };
    entry.count += 1;
    byVersion.set(key, entry);
  }
  return [...byVersion.values()];
}

export async function replay(pool: pg.Pool, input: z.input<typeof replayInput>): Promise<ReplayAnswer> {
  const q = replayInput.parse(input);
  if ('ids' in q) {
    const outcome = await replayDeadLetters(pool, q.ids, q.to);
    if (outcome.replayed.length === 0) {
      const reasons = [...new Set(outcome.refused.map((r) => r.reason))];
      throw new ServiceError(q.ids.length === 1 && reasons[0]?.startsWith('flow ') ? 'PRECONDITION_FAILED' : 'CONFLICT', `nothing was replayed: ${reasons.join('; ')}`);
    }
    return { replayed: outcome.replayed.length, destinations: destinationsOf(outcome), refused: outcome.refused, nextCursor: null };
  }
  // The chunk is read in the list's order and the cursor moves past it whatever became of
  // each letter, so letters that cannot go (an undeployed flow) are reported once, not retried forever.
  const chunk = await listDeadLetters(pool, {
    flowId: q.every.flowId || undefined,
    target: q.every.target || undefined,
    limit: REPLAY_CHUNK + 1,
    after: keyOf(q.cursor),
  });
  const page = pageOf(chunk, REPLAY_CHUNK, (l) => [l.createdAt, l.eventSeq, l.id]);
  const outcome = await replayDeadLetters(pool, page.items.map((l) => l.id), q.to);
  return { replayed: outcome.replayed.length, destinations: destinationsOf(outcome), refused: outcome.refused, nextCursor: page.nextCursor };
}

export const discardInput = z.object({
  ids: z.array(z.string().min(1)).min(1, 'choose at least one dead letter').max(1000),
  reason: z.string().trim().min(1, 'say why these are discarded').max(500),
});

export async function discard(pool: pg.Pool, input: z.infer<typeof discardInput>): Promise<{ discarded: number }> {
  return { discarded: await discardDeadLetters(pool, input.ids, input.reason) };
}
