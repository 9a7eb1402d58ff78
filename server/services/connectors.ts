import { z } from 'zod';
import type { PrismaClient } from '@/prisma/generated/client';
import { encryptSecrets } from './secrets';

export async function listConnectors(db: PrismaClient) {
  return db.connectorInstance.findMany({
    orderBy: { createdAt: 'desc' },
    select: { id: true, name: true, kind: true, direction: true, status: true, lastError: true, createdAt: true },
  });
}

export const newConnectorInput = z.object({
  name: z.string().trim().min(1, 'a name is required').max(120),
  kind: z.string().min(1),
  direction: z.enum(['source', 'target']),
  config: z.record(z.string(), z.unknown()).default({}),
  secrets: z.record(z.string(), z.string()).default({}),
});

export async function createConnector(db: PrismaClient, key: Buffer, input: z.input<typeof newConnectorInput>) {
  const data = newConnectorInput.parse(input);
  const hasSecrets = Object.keys(data.secrets).length > 0;
  return db.connectorInstance.create({
    data: {
      name: data.name,
      kind: data.kind,
      direction: data.direction,
      config: data.config as object,
      secrets: hasSecrets ? encryptSecrets(key, data.secrets) : null,
    },
    select: { id: true, name: true, kind: true, direction: true, status: true },
  });
}
