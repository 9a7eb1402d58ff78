/**
 * API tokens for the CLI and scripts: `Authorization: Bearer mf_…`. Only a SHA-256 of the
 * token is stored; the token itself is shown once, at creation.
 */
import { createHash, randomBytes } from 'node:crypto';
import { z } from 'zod';
import type { PrismaClient } from '@/prisma/generated/client';
import { ServiceError } from './errors';

const PREFIX = 'mf_';

const digest = (token: string) => createHash('sha256').update(token).digest('hex');

export const createTokenInput = z.object({ name: z.string().trim().min(1, 'a name is required').max(100) });

export async function createToken(db: PrismaClient, userId: string, input: z.infer<typeof createTokenInput>) {
  const token = PREFIX + randomBytes(24).toString('base64url');
  const row = await db.apiToken.create({
    data: { name: input.name, userId, prefix: token.slice(0, 8), tokenHash: digest(token) },
  });
  return { id: row.id, name: row.name, token };
}

export async function listTokens(db: PrismaClient, userId: string) {
  return db.apiToken.findMany({
    where: { userId, revokedAt: null },
    select: { id: true, name: true, prefix: true, createdAt: true, lastUsedAt: true },
    orderBy: { createdAt: 'desc' },
  });
}

export async function revokeToken(db: PrismaClient, userId: string, id: string) {
  const { count } = await db.apiToken.updateMany({
    where: { id, userId, revokedAt: null },
    data: { revokedAt: new Date() },
  });
  if (count === 0) throw new ServiceError('NOT_FOUND', `no active token with id ${id}`);
}

/** Revokes every active token of a person (an admin's action); returns how many. */
export async function revokeUserTokens(db: PrismaClient, userId: string) {
  if (!(await db.user.findUnique({ where: { id: userId }, select: { id: true } }))) {
    throw new ServiceError('NOT_FOUND', `no user with id ${userId}`);
  }
  const { count } = await db.apiToken.updateMany({
    where: { userId, revokedAt: null },
    data: { revokedAt: new Date() },
  });
  return { revokedTokens: count };
}

/**
 * The user a bearer token belongs to, read fresh on every request (role included), or null
 * when the token is unknown or revoked or its owner is disabled.
 */
export async function authenticateToken(db: PrismaClient, token: string) {
  if (!token.startsWith(PREFIX)) return null;
  const row = await db.apiToken.findUnique({
    where: { tokenHash: digest(token) },
    include: { user: { select: { id: true, name: true, email: true, role: true, banned: true } } },
  });
  if (!row || row.revokedAt || row.user.banned) return null;
  await db.apiToken.update({ where: { id: row.id }, data: { lastUsedAt: new Date() } });
  const { banned: _banned, ...user } = row.user;
  return user;
}
