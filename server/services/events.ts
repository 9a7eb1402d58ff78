import { z } from 'zod';
import type { PrismaClient } from '@/prisma/generated/client';

export const listEventsInput = z.object({
  type: z.string().trim().max(200).optional(),
  limit: z.number().int().min(1).max(200).default(50),
});

export async function listEvents(db: PrismaClient, input: z.infer<typeof listEventsInput>) {
  const events = await db.event.findMany({
    where: input.type ? { type: { startsWith: input.type } } : undefined,
    orderBy: { seq: 'desc' },
    take: input.limit,
  });
  return events.map((e) => ({
    seq: e.seq.toString(),
    id: e.id,
    source: e.source,
    type: e.type,
    subject: e.subject,
    receivedAt: e.receivedAt,
  }));
}
