/**
 * Accounts and sessions, by better-auth on the Prisma adapter (its password hashing and
 * cookie sessions). Public sign-up is closed at the route (app/api/auth): accounts are made
 * by the owner set-up and by admins through server/services/accounts.ts.
 */
import { betterAuth } from 'better-auth';
import { prismaAdapter } from 'better-auth/adapters/prisma';
import { APIError, createAuthMiddleware, isAPIError } from 'better-auth/api';
import { nextCookies } from 'better-auth/next-js';
import { admin } from 'better-auth/plugins/admin';
import { clientAddressHeader } from './client-address';
import { db } from './db';
import { env } from './env';
import { accountLimit, accountRetryAfter, recordFailedSignIn, recordSuccessfulSignIn } from './login-limits';

/** Sign-in attempts per client address and minute (better-auth's limiter). */
export const addressLimit = { window: 60, max: 20 } as const;

const signInEmail = (body: unknown) => {
  const email = (body as { email?: unknown } | undefined)?.email;
  return typeof email === 'string' ? email.trim().toLowerCase() : null;
};

// Per-account limit: refuse before the password is checked once an email has too many failures.
const beforeHook = createAuthMiddleware(async (ctx) => {
  if (ctx.path !== '/sign-in/email') return;
  const email = signInEmail(ctx.body);
  const retryAfter = email ? accountRetryAfter(email) : null;
  if (retryAfter !== null) {
    throw new APIError(
      'TOO_MANY_REQUESTS',
      {
        message: `too many failed sign-ins for this account (${accountLimit.failures} in ${accountLimit.windowSeconds / 60} minutes); try again in ${retryAfter} s or ask an admin to reset the password`,
        code: 'ACCOUNT_SIGN_IN_LIMIT',
      },
      { 'Retry-After': String(retryAfter) },
    );
  }
});

const afterHook = createAuthMiddleware(async (ctx) => {
  if (ctx.path !== '/sign-in/email') return;
  const email = signInEmail(ctx.body);
  if (!email) return;
  const returned = ctx.context.returned;
  if (isAPIError(returned)) {
    if (returned.statusCode === 401) recordFailedSignIn(email);
  } else {
    recordSuccessfulSignIn(email);
  }
});

const adminPlugin = admin({
  defaultRole: 'viewer',
  bannedUserMessage: 'this account is disabled; ask an admin of this studio to re-enable it',
});

/** The admin plugin's own HTTP routes (ban, set-role, impersonate, …): all closed. */
export const closedAdminPaths = Object.values(adminPlugin.endpoints).map((endpoint) => endpoint.path);

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
    // Slows password guessing without locking out a team that signs in and out often: per
    // client address here, per account in the hooks. The address comes only from the header
    // the studio's server stamps (server/client-address.ts), never from X-Forwarded-For as sent.
    rateLimit: { enabled: true, window: 60, max: 200, customRules: { '/sign-in/email': addressLimit } },
    advanced: { ipAddress: { ipAddressHeaders: [clientAddressHeader()] } },
    hooks: { before: beforeHook, after: afterHook },
    // The admin plugin supplies the `banned` fields and refuses a disabled person a new session.
    // Its HTTP routes are closed: people are managed through the tRPC account router, which
    // keeps the last admin and works the same for sessions and API tokens.
    plugins: [adminPlugin, nextCookies()],
    disabledPaths: closedAdminPaths,
  });
}

type Auth = ReturnType<typeof createAuth>;
const globalForAuth = globalThis as unknown as { meshflowAuth?: Auth };

export function auth(): Auth {
  globalForAuth.meshflowAuth ??= createAuth();
  return globalForAuth.meshflowAuth;
}
