/**
 * Flows and their immutable versions; deploying writes a deployment row, and the database
 * trigger from migration deployment_notify tells the workers.
 */
import { z } from 'zod';
import type { PrismaClient } from '@/prisma/generated/client';
import { ServiceError } from './errors';

export const flowIdInput = z.object({ flowId: z.string().uuid('must be a flow id') });

export const renameFlowInput = z.object({
  flowId: z.string().uuid('must be a flow id'),
  name: z.string().trim().min(1, 'a name is required').max(120),
});

export const newFlowInput = z.object({
  name: z.string().trim().min(1, 'a name is required').max(120),
  description: z.string().max(2000).default(''),
  graph: z.unknown(),
  dslYaml: z.string().min(1),
  note: z.string().max(500).default(''),
});

export async function listFlows(db: PrismaClient) {
  const flows = await db.flow.findMany({
    orderBy: { updatedAt: 'desc' },
    include: {
      versions: { orderBy: { version: 'desc' }, take: 1, select: { version: true, createdAt: true } },
      deployments: {
        where: { status: 'active' },
        select: { id: true, status: true, flowVersion: { select: { version: true } } },
      },
    },
  });
  return flows.map((f) => ({
    id: f.id,
    name: f.name,
    description: f.description,
    updatedAt: f.updatedAt,
    latestVersion: f.versions[0]?.version ?? null,
    deployedVersion: f.deployments[0]?.flowVersion.version ?? null,
  }));
}

export async function getFlow(db: PrismaClient, flowId: string) {
  const flow = await db.flow.findUnique({
    where: { id: flowId },
    include: {
      versions: { orderBy: { version: 'desc' } },
      deployments: { where: { status: 'active' }, include: { flowVersion: { select: { version: true } } } },
    },
  });
  if (!flow) throw new ServiceError('NOT_FOUND', `no flow with id ${flowId}`);
  return flow;
}

export async function createFlow(db: PrismaClient, input: z.input<typeof newFlowInput>) {
  const data = newFlowInput.parse(input);
  return db.flow.create({
    data: {
      name: data.name,
      description: data.description,
      versions: {
        create: { version: 1, graph: data.graph as object, dslYaml: data.dslYaml, note: data.note },
      },
    },
    include: { versions: true },
  });
}

export async function renameFlow(db: PrismaClient, input: z.infer<typeof renameFlowInput>) {
  const { count } = await db.flow.updateMany({ where: { id: input.flowId }, data: { name: input.name } });
  if (count === 0) throw new ServiceError('NOT_FOUND', `no flow with id ${input.flowId}`);
}

export const deployInput = z.object({
  flowId: z.string().uuid('must be a flow id'),
  version: z.number().int().positive().optional(),
});

/** Activates a version (the newest by default); the version it replaces drains. */
export async function deployFlow(db: PrismaClient, input: z.infer<typeof deployInput>) {
  return db.$transaction(async (tx) => {
    const version = await tx.flowVersion.findFirst({
      where: { flowId: input.flowId, ...(input.version ? { version: input.version } : {}) },
      orderBy: { version: 'desc' },
    });
    if (!version) {
      throw new ServiceError(
        'NOT_FOUND',
        input.version
          ? `flow ${input.flowId} has no version ${input.version}`
          : `flow ${input.flowId} does not exist or has no saved version`,
      );
    }
    await tx.deployment.updateMany({
      where: { flowId: input.flowId, status: 'active' },
      data: { status: 'draining' },
    });
    return tx.deployment.create({ data: { flowId: input.flowId, flowVersionId: version.id } });
  });
}

export async function undeployFlow(db: PrismaClient, flowId: string) {
  const { count } = await db.deployment.updateMany({
    where: { flowId, status: { in: ['active', 'draining'] } },
    data: { status: 'stopped' },
  });
  if (count === 0) throw new ServiceError('PRECONDITION_FAILED', `flow ${flowId} is not deployed`);
}
