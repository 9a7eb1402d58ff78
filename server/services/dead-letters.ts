/**
 * Dead letters for operators: listed by flow and target with reason and attempts; replayed
 * (one, a selection, or every one the filter shows) through the runtime's own replay, which
 * queues the original logged event — same CloudEvent `id` — for its deployment again; or
 * discarded with a reason that stays on record.
 */
import type pg from 'pg';
import { z } from 'zod';
import { discardDeadLetters, listDeadLetters, replayDeadLetters } from '@/runtime/events/dead-letters';
import { ServiceError } from './errors';

export const deadLetterFilterInput = z.object({
  flowId: z.string().optional(),
  target: z.string().trim().max(2000).optional(),
  /** Replayed and discarded ones too. */
  all: z.boolean().default(false),
});

export async function listDeadLettersForStudio(pool: pg.Pool, input: z.input<typeof deadLetterFilterInput>) {
  const q = deadLetterFilterInput.parse(input);
  const letters = (await listDeadLetters(pool, { flowId: q.flowId, all: q.all, limit: 500 })).filter((l) => !q.target || l.target === q.target);
  const { rows: flows } = await pool.query<{ id: string; name: string }>(`SELECT id, name FROM flow WHERE id = ANY($1::text[])`, [
    [...new Set(letters.map((l) => l.flowId).filter((id): id is string => id !== null))],
  ]);
  const names = new Map(flows.map((f) => [f.id, f.name]));
  return letters.map((l) => ({ ...l, flowName: l.flowId ? (names.get(l.flowId) ?? null) : null }));
}

export const replayInput = z.union([
  z.object({ ids: z.array(z.string().min(1)).min(1, 'choose at least one dead letter').max(1000) }),
  z.object({ every: deadLetterFilterInput.omit({ all: true }) }),
]);

export async function replay(pool: pg.Pool, input: z.infer<typeof replayInput>): Promise<{ replayed: number }> {
  const ids = 'ids' in input ? input.ids : (await listDeadLettersForStudio(pool, { ...input.every, all: false })).map((l) => l.id);
  if (ids.length === 0) return { replayed: 0 };
  const replayed = await replayDeadLetters(pool, ids);
  if (replayed.length === 0 && 'ids' in input) {
    throw new ServiceError('CONFLICT', 'none of these dead letters can be replayed: they were replayed or discarded already, or their deployment is gone');
  }
  return { replayed: replayed.length };
}

export const discardInput = z.object({
  ids: z.array(z.string().min(1)).min(1, 'choose at least one dead letter').max(1000),
  reason: z.string().trim().min(1, 'say why these are discarded').max(500),
});

export async function discard(pool: pg.Pool, input: z.infer<typeof discardInput>): Promise<{ discarded: number }> {
  return { discarded: await discardDeadLetters(pool, input.ids, input.reason) };
}
