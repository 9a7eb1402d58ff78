/**
 * Threat model (SECURITY.md): accounts, sessions, API tokens and login limits.
 *
 * Each attack runs over real HTTP against the studio's own auth and tRPC handlers, behind the
 * same client-address stamping the studio's server applies to every request, on a real
 * database. Clients connect from different loopback addresses (127.0.0.x) where the test
 * needs different peers.
 */
import { randomBytes } from 'node:crypto';
import { createServer, request as httpRequest, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fetchRequestHandler } from '@trpc/server/adapters/fetch';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { PrismaClient } from '@/prisma/generated/client';
import { parseTrustProxy, stampClientAddress, type TrustProxy } from '@/server/client-address';
import { createDb } from '@/server/db';
import type { CurrentUser } from '@/server/trpc';

let db: PrismaClient;
let server: Server;
let base: string;
let trust: TrustProxy = parseTrustProxy(undefined);
const password = 'correct horse battery';
const unique = () => randomBytes(4).toString('hex');

/** A Node request as the fetch Request the studio's route handlers receive. */
async function toWebRequest(req: IncomingMessage): Promise<Request> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const headers = new Headers();
  for (const [name, value] of Object.entries(req.headers)) {
    if (typeof value === 'string') headers.set(name, value);
    else if (Array.isArray(value)) for (const v of value) headers.append(name, v);
  }
  const body = chunks.length ? Buffer.concat(chunks) : undefined;
  return new Request(new URL(req.url ?? '/', base), { method: req.method, headers, body });
}

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** One HTTP request from a chosen local address (so the server sees that peer). */
function send(
  path: string,
  options: { method?: string; headers?: Record<string, string>; body?: unknown; from?: string } = {},
): Promise<Reply> {
  const url = new URL(path, base);
  const payload = options.body === undefined ? undefined : JSON.stringify(options.body);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: url.hostname,
        port: url.port,
        path: url.pathname + url.search,
        method: options.method ?? (payload ? 'POST' : 'GET'),
        localAddress: options.from ?? '127.0.0.1',
        headers: {
          origin: base,
          ...(payload ? { 'content-type': 'application/json' } : {}),
          ...options.headers,
        },
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

function signIn(email: string, pw: string, extra: { from?: string; forwardedFor?: string } = {}) {
  return send('/api/auth/sign-in/email', {
    body: { email, password: pw },
    from: extra.from,
    headers: extra.forwardedFor ? { 'x-forwarded-for': extra.forwardedFor } : {},
  });
}

async function sessionCookie(email: string, from: string): Promise<string> {
  const res = await signIn(email, password, { from });
  expect(res.status, res.body).toBe(200);
  const setCookie = ([] as string[]).concat(res.headers['set-cookie'] ?? []);
  return setCookie.map((c) => c.split(';')[0]).join('; ');
}

/** A tRPC call over HTTP with a session cookie or a bearer token; returns status and data/error. */
async function trpc(
  path: string,
  auth: { cookie?: string; token?: string },
  input?: unknown,
  kind: 'query' | 'mutation' = 'query',
): Promise<{ status: number; code?: string; message?: string; data?: unknown }> {
  const headers: Record<string, string> = {};
  if (auth.cookie) headers.cookie = auth.cookie;
  if (auth.token) headers.authorization = `Bearer ${auth.token}`;
  const wrapped = { json: input ?? null };
  const res =
    kind === 'query'
      ? await send(`/api/trpc/${path}?input=${encodeURIComponent(JSON.stringify(wrapped))}`, { headers })
      : await send(`/api/trpc/${path}`, { headers, body: wrapped });
  const parsed = JSON.parse(res.body) as {
    result?: { data?: { json?: unknown } };
    error?: { json?: { message?: string; data?: { code?: string } } };
  };
  return {
    status: res.status,
    code: parsed.error?.json?.data?.code,
    message: parsed.error?.json?.message,
    data: parsed.result?.data?.json,
  };
}

async function makePerson(role: 'admin' | 'editor' | 'viewer'): Promise<CurrentUser> {
  const { createAccount } = await import('@/server/services/accounts');
  const email = `${role}-${unique()}@example.com`;
  const a = await createAccount(db, { name: `${role} ${email}`, email, password }, role);
  return { id: a.id, name: `${role} ${email}`, email, role };
}

async function makeFlow() {
  return db.flow.create({
    data: { name: `flow-${unique()}`, versions: { create: { version: 1, graph: {}, dslYaml: 'document: {}' } } },
  });
}

beforeAll(async () => {
  server = createServer(async (req, res) => {
    try {
      // What instrumentation.ts installs on the studio's server, under the current trust setting.
      stampClientAddress(req, trust);
      const request = await toWebRequest(req);
      const { auth } = await import('@/server/auth');
      const { appRouter } = await import('@/server/routers/root');
      const { createContext } = await import('@/server/trpc');
      const response = req.url?.startsWith('/api/auth/')
        ? await auth().handler(request)
        : await fetchRequestHandler({
            endpoint: '/api/trpc',
            req: request,
            router: appRouter,
            createContext: () => createContext(request.headers),
          });
      const headers: Record<string, string | string[]> = {};
      response.headers.forEach((value, name) => {
        if (name !== 'set-cookie') headers[name] = value;
      });
      const cookies = response.headers.getSetCookie();
      if (cookies.length) headers['set-cookie'] = cookies;
      res.writeHead(response.status, headers);
      res.end(Buffer.from(await response.arrayBuffer()));
    } catch (error) {
      res.writeHead(500).end(String(error));
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  base = `http://localhost:${port}`;
  process.env.PORT = String(port);
  process.env.DATABASE_URL = inject('databaseUrl');
  process.env.MESHFLOW_AUTH_SECRET = randomBytes(32).toString('hex');
  process.env.MESHFLOW_SECRET_KEY = randomBytes(32).toString('base64');
  process.env.MESHFLOW_WORKER_URL = 'http://127.0.0.1:1';
  db = createDb(inject('databaseUrl'));
  await db.user.deleteMany();
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
  await db.$disconnect();
});

describe('login limits', () => {
  it('are not bypassed by sending a different X-Forwarded-For on each attempt', async () => {
    trust = parseTrustProxy(undefined);
    const statuses: number[] = [];
    for (let i = 0; i < 25; i++) {
      // A different unknown email each time, so only the per-address limit can stop this.
      const res = await signIn(`nobody-${unique()}@example.com`, 'wrong-password', {
        from: '127.0.0.5',
        forwardedFor: `198.51.100.${i + 1}`,
      });
      statuses.push(res.status);
    }
    expect(statuses.slice(0, 20).every((s) => s === 401)).toBe(true);
    expect(statuses.slice(20)).toEqual([429, 429, 429, 429, 429]);
  });

  it('believe X-Forwarded-For from a trusted proxy, and only then', async () => {
    trust = parseTrustProxy('127.0.0.6');
    // Through the trusted proxy, each forwarded client has its own bucket…
    for (let i = 0; i < 22; i++) {
      const res = await signIn(`nobody-${unique()}@example.com`, 'wrong-password', {
        from: '127.0.0.6',
        forwardedFor: `203.0.113.${i + 1}`,
      });
      expect(res.status).toBe(401);
    }
    // …one client behind it is limited…
    const one: number[] = [];
    for (let i = 0; i < 21; i++) {
      one.push((await signIn(`nobody-${unique()}@example.com`, 'x', { from: '127.0.0.6', forwardedFor: '203.0.113.200' })).status);
    }
    expect(one.at(-1)).toBe(429);
    // …and a peer that is not the proxy gains nothing by rotating the header.
    const direct: number[] = [];
    for (let i = 0; i < 21; i++) {
      direct.push(
        (await signIn(`nobody-${unique()}@example.com`, 'x', { from: '127.0.0.7', forwardedFor: `192.0.2.${i + 1}` })).status,
      );
    }
    expect(direct.at(-1)).toBe(429);
    trust = parseTrustProxy(undefined);
  });

  it('holds per account when the attempts come from many addresses', async () => {
    const victim = await makePerson('viewer');
    const statuses: number[] = [];
    for (let i = 0; i < 10; i++) {
      statuses.push((await signIn(victim.email, `guess-${i}`, { from: `127.0.1.${i + 1}` })).status);
    }
    expect(statuses).toEqual(Array(10).fill(401));
    const blocked = await signIn(victim.email, 'guess-10', { from: '127.0.1.50' });
    expect(blocked.status).toBe(429);
    expect(blocked.body).toMatch(/too many failed sign-ins for this account/);
    expect(Number(blocked.headers['retry-after'])).toBeGreaterThan(0);
    // Even the right password waits: the guesser must not learn it was right.
    expect((await signIn(victim.email, password, { from: '127.0.1.51' })).status).toBe(429);
    // Another account from the same addresses is unaffected.
    const other = await makePerson('viewer');
    expect((await signIn(other.email, password, { from: '127.0.1.1' })).status).toBe(200);
  });
});

describe('disabling, demoting and revoking', () => {
  let admin: CurrentUser;
  let adminCookie: string;

  beforeAll(async () => {
    admin = await makePerson('admin');
    adminCookie = await sessionCookie(admin.email, '127.0.2.1');
  });

  it("refuses a disabled person's session and API token on the next request, and their sign-in", async () => {
    const person = await makePerson('editor');
    const cookie = await sessionCookie(person.email, '127.0.2.2');
    const created = await trpc('account.createToken', { cookie }, { name: 'ci' }, 'mutation');
    const token = (created.data as { token: string }).token;
    expect((await trpc('flows.list', { cookie })).status).toBe(200);
    expect((await trpc('flows.list', { token })).status).toBe(200);

    const disabled = await trpc('account.setDisabled', { cookie: adminCookie }, { userId: person.id, disabled: true }, 'mutation');
    expect(disabled.status).toBe(200);
    expect(disabled.data).toMatchObject({ endedSessions: 1, revokedTokens: 1 });

    expect(await trpc('flows.list', { cookie })).toMatchObject({ status: 401, code: 'UNAUTHORIZED' });
    expect(await trpc('flows.list', { token })).toMatchObject({ status: 401, code: 'UNAUTHORIZED' });
    const again = await signIn(person.email, password, { from: '127.0.2.3' });
    expect(again.status).toBe(403);
    expect(again.body).toMatch(/this account is disabled/);

    const listed = await trpc('account.users', { cookie: adminCookie });
    expect((listed.data as Array<{ id: string; disabled: boolean }>).find((u) => u.id === person.id)?.disabled).toBe(true);

    // Re-enabled, they sign in again; the revoked token stays revoked.
    await trpc('account.setDisabled', { cookie: adminCookie }, { userId: person.id, disabled: false }, 'mutation');
    const back = await sessionCookie(person.email, '127.0.2.4');
    expect((await trpc('flows.list', { cookie: back })).status).toBe(200);
    expect((await trpc('flows.list', { token })).status).toBe(401);
  });

  it('applies a demotion from editor to viewer on the next request, by session and by token', async () => {
    const person = await makePerson('editor');
    const cookie = await sessionCookie(person.email, '127.0.2.5');
    const token = ((await trpc('account.createToken', { cookie }, { name: 'deploy' }, 'mutation')).data as { token: string }).token;
    const flow = await makeFlow();
    expect((await trpc('flows.deploy', { cookie }, { flowId: flow.id }, 'mutation')).status).toBe(200);

    expect((await trpc('account.setRole', { cookie: adminCookie }, { userId: person.id, role: 'viewer' }, 'mutation')).status).toBe(200);

    const bySession = await trpc('flows.deploy', { cookie }, { flowId: flow.id }, 'mutation');
    expect(bySession).toMatchObject({ status: 403, code: 'FORBIDDEN' });
    expect(bySession.message).toMatch(/needs the editor role; you are viewer/);
    expect(await trpc('flows.deploy', { token }, { flowId: flow.id }, 'mutation')).toMatchObject({ status: 403 });
    expect((await trpc('account.me', { cookie })).data).toMatchObject({ role: 'viewer' });
    expect(await db.deployment.count({ where: { flowId: flow.id } })).toBe(1);
  });

  it("ends someone else's sessions and revokes their tokens", async () => {
    const person = await makePerson('viewer');
    const cookie = await sessionCookie(person.email, '127.0.2.6');
    const other = await sessionCookie(person.email, '127.0.2.7');
    const token = ((await trpc('account.createToken', { cookie }, { name: 'script' }, 'mutation')).data as { token: string }).token;

    // Not for non-admins, not even against themselves.
    expect(await trpc('account.endSessions', { cookie }, { userId: admin.id }, 'mutation')).toMatchObject({ status: 403 });
    expect(await trpc('account.revokeUserTokens', { token }, { userId: admin.id }, 'mutation')).toMatchObject({ status: 403 });

    const ended = await trpc('account.endSessions', { cookie: adminCookie }, { userId: person.id }, 'mutation');
    expect(ended.data).toEqual({ endedSessions: 2 });
    expect((await trpc('account.me', { cookie })).data).toBeNull();
    expect((await trpc('flows.list', { cookie: other })).status).toBe(401);
    expect((await trpc('flows.list', { token })).status).toBe(200);

    const revoked = await trpc('account.revokeUserTokens', { cookie: adminCookie }, { userId: person.id }, 'mutation');
    expect(revoked.data).toEqual({ revokedTokens: 1 });
    expect((await trpc('flows.list', { token })).status).toBe(401);
  });

  it("keeps better-auth's own admin routes closed (they skip the last-admin and token rules)", async () => {
    for (const path of ['/api/auth/admin/set-role', '/api/auth/admin/ban-user', '/api/auth/admin/impersonate-user']) {
      const res = await send(path, { headers: { cookie: adminCookie }, body: { userId: admin.id, role: 'viewer' } });
      expect(res.status, path).toBe(404);
    }
    expect((await db.user.findUniqueOrThrow({ where: { id: admin.id } })).role).toBe('admin');
  });

  it('never leaves the studio without an active admin', async () => {
    const { createCaller } = await import('@/server/routers/root');
    const second = await makePerson('admin');
    const callerAs = (user: CurrentUser) =>
      createCaller({ db, user, workerUrl: 'http://127.0.0.1:1', secretKey: randomBytes(32) });
    // Make every other admin a viewer, so `second` and `admin` are the only ones left.
    for (const u of await db.user.findMany({ where: { role: 'admin', id: { notIn: [admin.id, second.id] } } })) {
      await db.user.update({ where: { id: u.id }, data: { role: 'viewer' } });
    }

    // Themselves: refused by name.
    await expect(callerAs(admin).account.setDisabled({ userId: admin.id, disabled: true })).rejects.toThrow(/cannot disable your own/);
    await expect(callerAs(admin).account.setRole({ userId: admin.id, role: 'editor' })).rejects.toThrow(/own admin role/);

    // Two admins demoting each other at once: the first wins, the second (authorised a moment
    // before it lost its role) cannot remove the last admin.
    await callerAs(admin).account.setRole({ userId: second.id, role: 'editor' });
    await expect(callerAs(second).account.setRole({ userId: admin.id, role: 'viewer' })).rejects.toMatchObject({
      code: 'PRECONDITION_FAILED',
      message: expect.stringMatching(/last active admin/),
    });
    await expect(callerAs(second).account.setDisabled({ userId: admin.id, disabled: true })).rejects.toThrow(/last active admin/);
    expect(await db.user.findUniqueOrThrow({ where: { id: admin.id } })).toMatchObject({ role: 'admin', banned: false });

    // With a second active admin again, disabling one is allowed.
    await callerAs(admin).account.setRole({ userId: second.id, role: 'admin' });
    await callerAs(second).account.setDisabled({ userId: admin.id, disabled: true });
    expect((await db.user.findUniqueOrThrow({ where: { id: admin.id } })).banned).toBe(true);
    await callerAs(second).account.setDisabled({ userId: admin.id, disabled: false });
  });

});
