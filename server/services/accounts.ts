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

/**
 * The person behind a session, read from the database on every request: a role change or
 * disabling applies to their next request, whatever a session cookie might still carry.
 * Null when they no longer exist or are disabled.
 */
export async function activeUser(db: PrismaClient, userId: string) {
  const user = await db.user.findUnique({
    where: { id: userId },
    select: { id: true, name: true, email: true, role: true, banned: true },
  });
  if (!user || user.banned) return null;
  return { id: user.id, name: user.name, email: user.email, role: user.role as Role };
}

export async function listUsers(db: PrismaClient) {
  const now = new Date();
  const rows = await db.user.findMany({
    select: {
      id: true,
      name: true,
      email: true,
      role: true,
      banned: true,
      createdAt: true,
      _count: {
        select: {
          sessions: { where: { expiresAt: { gt: now } } },
          apiTokens: { where: { revokedAt: null } },
        },
      },
    },
    orderBy: { createdAt: 'asc' },
  });
  return rows.map(({ _count, banned, ...u }) => ({
    ...u,
    disabled: banned,
    activeSessions: _count.sessions,
    activeTokens: _count.apiTokens,
  }));
}

/**
 * Role changes and disabling run one at a time (an advisory lock), so two admins demoting
 * or disabling each other at once cannot leave the studio without an active admin.
 */
async function asAdminChange<T>(db: PrismaClient, change: (tx: PrismaClient) => Promise<T>): Promise<T> {
  return db.$transaction(async (tx) => {
    await tx.$executeRaw`SELECT pg_advisory_xact_lock(7246003)`;
    return change(tx as unknown as PrismaClient);
  });
}

async function findUser(db: PrismaClient, userId: string) {
  const user = await db.user.findUnique({ where: { id: userId } });
  if (!user) throw new ServiceError('NOT_FOUND', `no user with id ${userId}`);
  return user;
}

async function refuseLastAdmin(db: PrismaClient, user: { id: string; email: string; role: string; banned: boolean }, what: string) {
  if (user.role !== 'admin' || user.banned) return;
  const others = await db.user.count({ where: { role: 'admin', banned: false, id: { not: user.id } } });
  if (others === 0) {
    throw new ServiceError(
      'PRECONDITION_FAILED',
      `cannot ${what} ${user.email}: it is the last active admin; make another person admin first`,
    );
  }
}

export const setRoleInput = z.object({ userId: z.string().min(1), role: z.enum(roles) });

export async function setRole(db: PrismaClient, actorId: string, input: z.infer<typeof setRoleInput>) {
  if (input.userId === actorId && input.role !== 'admin') {
    throw new ServiceError('BAD_REQUEST', 'you cannot remove your own admin role');
  }
  await asAdminChange(db, async (tx) => {
    const user = await findUser(tx, input.userId);
    if (input.role !== 'admin') await refuseLastAdmin(tx, user, `make ${input.role}`);
    await tx.user.update({ where: { id: input.userId }, data: { role: input.role } });
  });
}

export const setDisabledInput = z.object({ userId: z.string().min(1), disabled: z.boolean() });

/**
 * Disables (or re-enables) a person. Disabling ends their sessions and revokes their API
 * tokens at once, and better-auth's admin plugin refuses them a new session, so the next
 * request they make is refused however they authenticate.
 */
export async function setDisabled(db: PrismaClient, actorId: string, input: z.infer<typeof setDisabledInput>) {
  if (input.userId === actorId && input.disabled) {
    throw new ServiceError('BAD_REQUEST', 'you cannot disable your own account; ask another admin');
  }
  return asAdminChange(db, async (tx) => {
    const user = await findUser(tx, input.userId);
    if (!input.disabled) {
      await tx.user.update({ where: { id: user.id }, data: { banned: false, banReason: null, banExpires: null } });
      return { endedSessions: 0, revokedTokens: 0 };
    }
    await refuseLastAdmin(tx, user, 'disable');
    await tx.user.update({ where: { id: user.id }, data: { banned: true, banReason: `disabled by ${actorId}` } });
    const endedSessions = (await tx.session.deleteMany({ where: { userId: user.id } })).count;
    const revokedTokens = (
      await tx.apiToken.updateMany({ where: { userId: user.id, revokedAt: null }, data: { revokedAt: new Date() } })
    ).count;
    return { endedSessions, revokedTokens };
  });
}

export const userIdInput = z.object({ userId: z.string().min(1) });

/** Signs a person out everywhere: every session of theirs ends; their next request must sign in. */
export async function endSessions(db: PrismaClient, input: z.infer<typeof userIdInput>) {
  await findUser(db, input.userId);
  const { count } = await db.session.deleteMany({ where: { userId: input.userId } });
  return { endedSessions: count };
}
