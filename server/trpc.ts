/**
 * The tRPC spine, in three parts: context (who is asking, and the ports a procedure may
 * use), initialisation (transformer and error shape), and procedures by role.
 */
import { initTRPC, TRPCError } from '@trpc/server';
import superjson from 'superjson';
import { ZodError } from 'zod';
import type { PrismaClient } from '@/prisma/generated/client';
import { auth } from './auth';
import { db } from './db';
import { env } from './env';
import { activeUser } from './services/accounts';
import { authenticateToken } from './services/api-tokens';
import { ServiceError } from './services/errors';
import { hasRole, type Role } from './services/roles';

// ── 1. context ──────────────────────────────────────────────────────────────

export interface CurrentUser {
  id: string;
  name: string;
  email: string;
  role: Role;
}

export interface Context {
  db: PrismaClient;
  user: CurrentUser | null;
  workerUrl: string;
  secretKey: Buffer;
}

export async function createContext(headers: Headers): Promise<Context> {
  const e = env();
  const database = db();
  let user: CurrentUser | null = null;
  const bearer = headers.get('authorization')?.match(/^Bearer\s+(\S+)$/i)?.[1];
  if (bearer) {
    const owner = await authenticateToken(database, bearer);
    if (owner) user = { ...owner, role: owner.role as Role };
  } else {
    // Role and disabled state are read fresh, not taken from the session.
    const session = await auth().api.getSession({ headers });
    if (session) user = await activeUser(database, session.user.id);
  }
  return {
    db: database,
    user,
    workerUrl: e.MESHFLOW_WORKER_URL,
    secretKey: Buffer.from(e.MESHFLOW_SECRET_KEY, 'base64'),
  };
}

// ── 2. initialisation ───────────────────────────────────────────────────────

const t = initTRPC.context<Context>().create({
  transformer: superjson,
  errorFormatter({ shape, error }) {
    const cause = error.cause;
    return {
      ...shape,
      data: {
        ...shape.data,
        // Field-level problems, so forms can show each next to its input.
        fieldErrors: cause instanceof ZodError ? cause.flatten().fieldErrors : null,
      },
    };
  },
});

export const createCallerFactory = t.createCallerFactory;
export const router = t.router;

// Service errors become the matching tRPC code with the service's message.
const serviceErrors = t.middleware(async ({ next }) => {
  const result = await next();
  if (!result.ok && result.error.cause instanceof ServiceError) {
    throw new TRPCError({ code: result.error.cause.code, message: result.error.cause.message, cause: result.error.cause });
  }
  return result;
});

// ── 3. procedures ───────────────────────────────────────────────────────────

export const publicProcedure = t.procedure.use(serviceErrors);

function withRole(role: Role) {
  return publicProcedure.use(({ ctx, next }) => {
    if (!ctx.user) throw new TRPCError({ code: 'UNAUTHORIZED', message: 'sign in first' });
    if (!hasRole(ctx.user.role, role)) {
      throw new TRPCError({
        code: 'FORBIDDEN',
        message: `this needs the ${role} role; you are ${ctx.user.role}`,
      });
    }
    return next({ ctx: { ...ctx, user: ctx.user } });
  });
}

export const viewerProcedure = withRole('viewer');
export const editorProcedure = withRole('editor');
export const adminProcedure = withRole('admin');
