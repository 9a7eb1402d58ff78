import { randomBytes } from 'node:crypto';
import { TRPCError } from '@trpc/server';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { PrismaClient } from '@/prisma/generated/client';
import { createDb } from '@/server/db';
import { createCaller } from '@/server/routers/root';
import { createAccount, createOwner, ensureOwnerFromEnv } from '@/server/services/accounts';
import type { Context, CurrentUser } from '@/server/trpc';

let db: PrismaClient;
const secretKey = randomBytes(32);

function callerAs(user: CurrentUser | null) {
  const ctx: Context = { db, user, workerUrl: 'http://127.0.0.1:1', secretKey };
  return createCaller(ctx);
}

async function expectCode(promise: Promise<unknown>, code: TRPCError['code']) {
  await expect(promise).rejects.toMatchObject({ code });
}

const unique = () => randomBytes(4).toString('hex');

async function makeFlow() {
  return db.flow.create({
    data: { name: `flow-${unique()}`, versions: { create: { version: 1, graph: {}, dslYaml: 'document: {}' } } },
  });
}

describe('accounts, roles and API tokens', () => {
  let admin: CurrentUser;
  let editor: CurrentUser;
  let viewer: CurrentUser;

  beforeAll(async () => {
    process.env.DATABASE_URL = inject('databaseUrl');
    process.env.MESHFLOW_AUTH_SECRET = randomBytes(32).toString('hex');
    process.env.MESHFLOW_SECRET_KEY = secretKey.toString('base64');
    db = createDb(inject('databaseUrl'));
    await db.user.deleteMany();
    const make = async (role: 'admin' | 'editor' | 'viewer') => {
      const email = `${role}-${unique()}@example.com`;
      const a = await createAccount(db, { name: role, email, password: 'correct horse' }, role);
      return { id: a.id, name: role, email, role };
    };
    admin = await make('admin');
    editor = await make('editor');
    viewer = await make('viewer');
  });
  afterAll(async () => {
    await db.$disconnect();
  });

  it('refuses a second owner once anyone exists', async () => {
    await expect(createOwner(db, { name: 'x', email: `x-${unique()}@example.com`, password: 'longenough' })).rejects.toThrow(
      /already exists/,
    );
    expect(await ensureOwnerFromEnv(db, { MESHFLOW_OWNER_EMAIL: 'a@b.co', MESHFLOW_OWNER_PASSWORD: 'longenough' })).toBe('exists');
  });

  it('asks anonymous callers to sign in', async () => {
    await expectCode(callerAs(null).flows.list(), 'UNAUTHORIZED');
    expect(await callerAs(null).account.needsOwner()).toBe(false);
  });

  it('lets a viewer read but not deploy, rename or create connectors', async () => {
    const flow = await makeFlow();
    const asViewer = callerAs(viewer);
    expect((await asViewer.flows.list()).map((f) => f.id)).toContain(flow.id);
    await expectCode(asViewer.flows.deploy({ flowId: flow.id }), 'FORBIDDEN');
    await expectCode(asViewer.flows.rename({ flowId: flow.id, name: 'nope' }), 'FORBIDDEN');
    await expectCode(
      asViewer.connectors.create({ name: 'c', kind: 'mqtt-source' }),
      'FORBIDDEN',
    );
    expect(await db.deployment.count({ where: { flowId: flow.id } })).toBe(0);
  });

  it('lets an editor deploy; redeploying drains the previous deployment', async () => {
    const flow = await makeFlow();
    const asEditor = callerAs(editor);
    const first = await asEditor.flows.deploy({ flowId: flow.id });
    const second = await asEditor.flows.deploy({ flowId: flow.id });
    const rows = await db.deployment.findMany({ where: { flowId: flow.id } });
    expect(rows.find((d) => d.id === first.deploymentId)?.status).toBe('draining');
    expect(rows.find((d) => d.id === second.deploymentId)?.status).toBe('active');
    expect((await asEditor.flows.list()).find((f) => f.id === flow.id)?.deployedVersion).toBe(1);
    await asEditor.flows.undeploy({ flowId: flow.id });
    await expectCode(asEditor.flows.undeploy({ flowId: flow.id }), 'PRECONDITION_FAILED');
  });

  it('names the missing version when deploying one that does not exist', async () => {
    const flow = await makeFlow();
    await expect(callerAs(editor).flows.deploy({ flowId: flow.id, version: 9 })).rejects.toThrow(/has no version 9/);
  });

  it('keeps user management for admins', async () => {
    await expectCode(callerAs(editor).account.users(), 'FORBIDDEN');
    const created = await callerAs(admin).account.createUser({
      name: 'New',
      email: `new-${unique()}@example.com`,
      password: 'longenough',
      role: 'editor',
    });
    expect(created.role).toBe('editor');
    await callerAs(admin).account.setRole({ userId: created.id, role: 'viewer' });
    expect((await db.user.findUniqueOrThrow({ where: { id: created.id } })).role).toBe('viewer');
    await expect(callerAs(admin).account.setRole({ userId: admin.id, role: 'viewer' })).rejects.toThrow(/own admin role/);
  });

  it('stores connector secrets encrypted, never in plain text', async () => {
    const c = await callerAs(editor).connectors.create({
      name: 'broker',
      kind: 'rabbitmq-source',
      config: { connection: 'amqp://127.0.0.1' },
      secrets: { password: 'hunter2-very-secret' },
    });
    const row = await db.connectorInstance.findUniqueOrThrow({ where: { id: c.id } });
    expect(row.secrets).toBeTruthy();
    expect(row.secrets).not.toContain('hunter2');
  });

  it('authenticates API tokens as their owner until revoked', async () => {
    const { createContext } = await import('@/server/trpc');
    const created = await callerAs(viewer).account.createToken({ name: 'ci' });
    expect(created.token).toMatch(/^mf_/);
    const stored = await db.apiToken.findUniqueOrThrow({ where: { id: created.id } });
    expect(stored.tokenHash).not.toContain(created.token);

    const ctx = await createContext(new Headers({ authorization: `Bearer ${created.token}` }));
    expect(ctx.user?.id).toBe(viewer.id);
    const asToken = createCaller(ctx);
    expect(Array.isArray(await asToken.flows.list())).toBe(true);
    await expectCode(asToken.flows.deploy({ flowId: (await makeFlow()).id }), 'FORBIDDEN');

    await callerAs(viewer).account.revokeToken({ id: created.id });
    const after = await createContext(new Headers({ authorization: `Bearer ${created.token}` }));
    expect(after.user).toBeNull();
  });
});
