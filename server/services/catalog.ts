import { z } from 'zod';
import type { PrismaClient } from '@/prisma/generated/client';

export const catalogSearchInput = z.object({ search: z.string().trim().max(200).optional() });

export async function listEventTypes(db: PrismaClient, input: z.infer<typeof catalogSearchInput>) {
  const q = input.search;
  const types = await db.eventType.findMany({
    where: q
      ? {
          OR: [
            { type: { contains: q, mode: 'insensitive' } },
            { source: { contains: q, mode: 'insensitive' } },
            { description: { contains: q, mode: 'insensitive' } },
          ],
        }
      : undefined,
    orderBy: { type: 'asc' },
    include: { schemas: { orderBy: { version: 'desc' }, take: 1, select: { version: true } } },
  });
  return types.map((t) => ({
    id: t.id,
    type: t.type,
    source: t.source,
    description: t.description,
    owner: t.owner,
    schemaVersion: t.schemas[0]?.version ?? null,
    exampleCount: Array.isArray(t.examples) ? t.examples.length : 0,
  }));
}
