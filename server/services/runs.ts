import { z } from 'zod';
import type { PrismaClient } from '@/prisma/generated/client';

export const listRunsInput = z.object({
  flowId: z.string().uuid().optional(),
  limit: z.number().int().min(1).max(200).default(50),
});

export async function listRuns(db: PrismaClient, input: z.infer<typeof listRunsInput>) {
  const runs = await db.run.findMany({
    where: input.flowId ? { flowId: input.flowId } : undefined,
    orderBy: { startedAt: 'desc' },
    take: input.limit,
    include: { flow: { select: { name: true } }, flowVersion: { select: { version: true } } },
  });
  return runs.map((r) => ({
    id: r.id,
    flowId: r.flowId,
    flowName: r.flow.name,
    version: r.flowVersion.version,
    status: r.status,
    startedAt: r.startedAt,
    endedAt: r.endedAt,
  }));
}
