/**
 * Accounts and sessions, by better-auth on the Prisma adapter (its password hashing and
 * cookie sessions). Public sign-up is closed at the route (app/api/auth): accounts are made
 * by the owner set-up and by admins through server/services/accounts.ts.
 */
import { betterAuth } from 'better-auth';
import { prismaAdapter } from 'better-auth/adapters/prisma';
import { nextCookies } from 'better-auth/next-js';
import { db } from './db';
import { env } from './env';

function createAuth() {
  const e = env();
  const origins = [`http://localhost:${e.PORT}`, `http://127.0.0.1:${e.PORT}`];
  if (e.MESHFLOW_PUBLIC_URL) origins.push(new URL(e.MESHFLOW_PUBLIC_URL).origin);
  return betterAuth({
    database: prismaAdapter(db(), { provider: 'postgresql' }),
    secret: e.MESHFLOW_AUTH_SECRET,
    baseURL: e.MESHFLOW_PUBLIC_URL ?? `http://localhost:${e.PORT}`,
    trustedOrigins: origins,
    emailAndPassword: { enabled: true, minPasswordLength: 8, autoSignIn: true },
    user: {
      additionalFields: {
        role: { type: 'string', required: false, defaultValue: 'viewer', input: false },
      },
    },
    telemetry: { enabled: false },
    // Slows password guessing without locking out a team that signs in and out often.
    rateLimit: { enabled: true, window: 60, max: 200, customRules: { '/sign-in/email': { window: 60, max: 20 } } },
    plugins: [nextCookies()],
  });
}

type Auth = ReturnType<typeof createAuth>;
const globalForAuth = globalThis as unknown as { meshflowAuth?: Auth };

export function auth(): Auth {
  globalForAuth.meshflowAuth ??= createAuth();
  return globalForAuth.meshflowAuth;
}
