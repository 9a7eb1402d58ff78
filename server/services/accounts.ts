/**
 * People and their roles. Accounts are written in better-auth's own shape (a user row and a
 * "credential" account holding its password hash), so sign-in through better-auth works for
 * them; creating them here rather than through its sign-up route lets the owner set-up, the
 * admin screen and automation share one path that needs no browser request.
 */
import { randomUUID } from 'node:crypto';
import { hashPassword } from 'better-auth/crypto';
import { z } from 'zod';
import type { PrismaClient } from '@/prisma/generated/client';
import { ServiceError } from './errors';
import { roles, type Role } from './roles';

export const newAccountInput = z.object({
  name: z.string().trim().min(1, 'a name is required').max(100),
  email: z.string().trim().toLowerCase().email('must be an email address'),
  password: z.string().min(8, 'at least 8 characters').max(128),
});

export async function needsOwner(db: PrismaClient): Promise<boolean> {
  return (await db.user.count()) === 0;
}

export async function createAccount(
  db: PrismaClient,
  input: z.infer<typeof newAccountInput>,
  role: Role,
): Promise<{ id: string; email: string; role: Role }> {
  const { name, email, password } = newAccountInput.parse(input);
  if (await db.user.findUnique({ where: { email } })) {
    throw new ServiceError('CONFLICT', `an account with the email ${email} already exists`);
  }
  const id = randomUUID();
  const hash = await hashPassword(password);
  await db.user.create({
    data: {
      id,
      name,
      email,
      role,
      accounts: { create: { id: randomUUID(), accountId: id, providerId: 'credential', password: hash } },
    },
  });
  return { id, email, role };
}

/** The first account is the owner (admin); refused once anyone exists. */
export async function createOwner(db: PrismaClient, input: z.infer<typeof newAccountInput>) {
  return db.$transaction(async (tx) => {
    // Serialise concurrent set-ups so two first visitors cannot both become owner.
    await tx.$executeRaw`SELECT pg_advisory_xact_lock(7246002)`;
    if ((await tx.user.count()) > 0) {
      throw new ServiceError('PRECONDITION_FAILED', 'the owner account already exists; sign in instead');
    }
    return createAccount(tx as unknown as PrismaClient, input, 'admin');
  });
}

/** Automation: MESHFLOW_OWNER_EMAIL/PASSWORD (and optional _NAME) create the owner on first start. */
export async function ensureOwnerFromEnv(
  db: PrismaClient,
  source: Record<string, string | undefined>,
): Promise<'created' | 'exists' | 'not-configured'> {
  const email = source.MESHFLOW_OWNER_EMAIL;
  const password = source.MESHFLOW_OWNER_PASSWORD;
  if (!email || !password) return 'not-configured';
  if (!(await needsOwner(db))) return 'exists';
  await createOwner(db, { email, password, name: source.MESHFLOW_OWNER_NAME ?? 'Owner' });
  return 'created';
}

export async function listUsers(db: PrismaClient) {
  return db.user.findMany({
    select: { id: true, name: true, email: true, role: true, createdAt: true },
    orderBy: { createdAt: 'asc' },
  });
}

export const setRoleInput = z.object({ userId: z.string().min(1), role: z.enum(roles) });

export async function setRole(db: PrismaClient, actorId: string, input: z.infer<typeof setRoleInput>) {
  if (input.userId === actorId && input.role !== 'admin') {
    throw new ServiceError('BAD_REQUEST', 'you cannot remove your own admin role');
  }
  const user = await db.user.findUnique({ where: { id: input.userId } });
  if (!user) throw new ServiceError('NOT_FOUND', `no user with id ${input.userId}`);
  await db.user.update({ where: { id: input.userId }, data: { role: input.role } });
}
