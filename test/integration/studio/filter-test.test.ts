import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { PrismaClient } from '@/prisma/generated/client';
import { createDb } from '@/server/db';
import { createCaller } from '@/server/routers/root';

const event = {
  specversion: '1.0',
  id: 'o-1',
  source: '/shop/orders',
  type: 'com.example.order.created',
  datacontenttype: 'application/json',
  data: { total: 150, customer: { tier: 'gold' } },
};

describe('testing a filter in the studio without deploying', () => {
  let db: PrismaClient;
  let test: (filter: unknown, e?: unknown) => ReturnType<ReturnType<typeof createCaller>['events']['testFilter']>;

  beforeAll(() => {
    db = createDb(inject('databaseUrl'));
    const caller = createCaller({
      db,
      user: { id: 'u', name: 'v', email: 'v@example.com', role: 'viewer' },
      workerUrl: 'http://127.0.0.1:1',
      secretKey: randomBytes(32),
    });
    test = (filter, e = event) =>
      caller.events.testFilter({
        filter: typeof filter === 'string' ? filter : JSON.stringify(filter),
        event: typeof e === 'string' ? e : JSON.stringify(e),
      });
  });
  afterAll(() => db.$disconnect());

  it('answers match or no match for each kind of filter, as a viewer', async () => {
    expect(await test({ exact: { type: 'com.example.order.created' } })).toEqual({ ok: true, matches: true });
    expect(await test({ prefix: { source: '/billing' } })).toEqual({ ok: true, matches: false });
    expect(await test({ sql: "type LIKE 'com.example.%' AND source = '/shop/orders'" })).toEqual({ ok: true, matches: true });
    expect(await test({ pattern: { data: { total: [{ numeric: ['>', 100] }] } } })).toEqual({ ok: true, matches: true });
    expect(await test({ pattern: { data: { customer: { tier: ['silver'] } } } })).toEqual({ ok: true, matches: false });
    expect(await test({ jq: '.data.total > 200' })).toEqual({ ok: true, matches: false });
  });

  it('says where an invalid filter is wrong', async () => {
    const result = await test({ all: [{ exact: { type: 'x' } }, { sql: 'type = ' }] });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.problems[0]).toMatchObject({ where: 'filter', path: '/all/1/sql' });
  });

  it('names the missing attribute of an invalid event, and bad JSON', async () => {
    const noSource = await test({ exact: { type: 'x' } }, { ...event, source: undefined });
    expect(noSource).toMatchObject({ ok: false, problems: [{ where: 'event', path: 'source' }] });
    const bad = await test('{"exact":', event);
    expect(bad).toMatchObject({ ok: false, problems: [{ where: 'filter', message: expect.stringMatching(/not valid JSON/) }] });
  });
});
