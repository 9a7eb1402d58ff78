/**
 * Flow versions through the tRPC API on a real database: saves compile server-side and are
 * refused with node-attached diagnostics, versions are immutable, diffs and rollbacks.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { PrismaClient } from '@/prisma/generated/client';
import { stringify } from 'yaml';
import { compile } from '@/runtime/compiler/compile';
import { demoFlowGraph } from '@/runtime/nodes/demo';
import type { FlowGraph } from '@/runtime/nodes/types';
import { createDb } from '@/server/db';
import { createCaller } from '@/server/routers/root';
import type { Context, CurrentUser } from '@/server/trpc';

let db: PrismaClient;
const secretKey = randomBytes(32);
const editor: CurrentUser = { id: 'editor-1', name: 'Ed', email: 'ed@example.com', role: 'editor' };
const viewer: CurrentUser = { id: 'viewer-1', name: 'Vi', email: 'vi@example.com', role: 'viewer' };
const unique = () => randomBytes(4).toString('hex');

function as(user: CurrentUser) {
  const ctx: Context = { db, user, workerUrl: 'http://127.0.0.1:1', secretKey };
  return createCaller(ctx);
}

function graphNamed(name: string): FlowGraph {
  const g = demoFlowGraph();
  return { ...g, document: { ...g.document, name } };
}

function withUrl(g: FlowGraph, url: string): FlowGraph {
  return { ...g, nodes: g.nodes.map((n) => (n.id === 'notify' ? { ...n, config: { ...n.config, url } } : n)) };
}

beforeAll(() => {
  process.env.DATABASE_URL = inject('databaseUrl');
  process.env.MESHFLOW_AUTH_SECRET = randomBytes(32).toString('hex');
  process.env.MESHFLOW_SECRET_KEY = secretKey.toString('base64');
  process.env.MESHFLOW_WORKER_PUBLIC_URL = 'https://hooks.example.com/';
  db = createDb(inject('databaseUrl'));
});
afterAll(async () => {
  await db.$disconnect();
});

describe('flow versions', () => {
  it('creates v1 from a graph, appends immutable versions, and lists them newest first', async () => {
    const api = as(editor);
    const created = await api.flows.create({ name: `orders ${unique()}`, graph: demoFlowGraph() });
    expect(created).toMatchObject({ ok: true, version: 1 });
    if (!created.ok) return;
    expect(created.yaml).toContain('dsl: 1.0.3');

    const v2 = await api.flows.saveVersion({ flowId: created.flowId, graph: withUrl(demoFlowGraph(), 'http://localhost:4011/orders'), note: 'new endpoint' });
    expect(v2).toMatchObject({ ok: true, version: 2 });

    const versions = await as(viewer).flows.versions({ flowId: created.flowId });
    expect(versions.items.map((v) => [v.version, v.note])).toEqual([
      [2, 'new endpoint'],
      [1, ''],
    ]);
    const first = await as(viewer).flows.version({ flowId: created.flowId, version: 1 });
    expect(first.yaml).toContain('http://localhost:4010/orders');
    expect(first.graph.nodes.map((n) => n.id)).toEqual(['orders-webhook', 'large-orders', 'summary', 'notify']);
  });

  it('refuses to save a graph with errors and says which node is wrong', async () => {
    const api = as(editor);
    const created = await api.flows.create({ name: `refusals ${unique()}`, graph: demoFlowGraph() });
    if (!created.ok) throw new Error('setup failed');
    const broken = demoFlowGraph();
    broken.nodes = broken.nodes.map((n) => (n.id === 'summary' ? { ...n, config: { expression: '{ total: (.data.total }' } } : n));
    const refused = await api.flows.saveVersion({ flowId: created.flowId, graph: broken });
    expect(refused.ok).toBe(false);
    expect(refused.diagnostics).toContainEqual(expect.objectContaining({ severity: 'error', code: 'invalid-expression', nodeId: 'summary' }));

    const missingUrl = demoFlowGraph();
    missingUrl.nodes = missingUrl.nodes.map((n) => (n.id === 'notify' ? { ...n, config: { ...n.config, url: '' } } : n));
    const refusedToo = await api.flows.saveVersion({ flowId: created.flowId, graph: missingUrl });
    expect(refusedToo.diagnostics).toContainEqual(expect.objectContaining({ code: 'invalid-config', nodeId: 'notify' }));

    expect((await api.flows.versions({ flowId: created.flowId })).items.map((v) => v.version)).toEqual([1]);
  });

  it('checks expressions against the catalog schema of the source event type', async () => {
    const type = `com.example.order.${unique()}`;
    await db.eventType.create({
      data: { type, schemas: { create: { version: 1, schema: { type: 'object', properties: { orderId: { type: 'string' }, total: { type: 'number' } } } } } },
    });
    const g = demoFlowGraph();
    g.nodes = g.nodes.map((n) =>
      n.id === 'orders-webhook' ? { ...n, config: { ...n.config, eventType: type } } : n.id === 'summary' ? { ...n, config: { expression: '{ id: .data.orderId, cents: .data.total.cents }' } } : n,
    );
    const compiled = await as(viewer).flows.compile({ graph: g });
    expect(compiled.fields.summary?.map((f) => f.path)).toContain('.data.total');
    expect(compiled.fields.notify).toEqual([
      { path: '.id', type: 'string' },
      { path: '.cents', type: 'any' },
    ]);
    const refused = await as(editor).flows.create({ name: `typed ${unique()}`, graph: g });
    expect(refused.ok).toBe(false);
    expect(refused.diagnostics).toContainEqual(expect.objectContaining({ code: 'unknown-field', nodeId: 'summary', message: '.data.total.cents cannot exist: .data.total is a number' }));
  });

  it('lets a viewer compile and read but not save', async () => {
    const compiled = await as(viewer).flows.compile({ graph: demoFlowGraph() });
    expect(compiled.yaml).toBe(compile(demoFlowGraph()).yaml);
    await expect(as(viewer).flows.create({ name: 'nope', graph: demoFlowGraph() })).rejects.toMatchObject({ code: 'FORBIDDEN' });
  });

  it('diffs two versions as a graph change list and a unified YAML diff', async () => {
    const api = as(editor);
    const created = await api.flows.create({ name: `diff ${unique()}`, graph: demoFlowGraph() });
    if (!created.ok) throw new Error('setup failed');
    const next = withUrl(demoFlowGraph(), 'http://localhost:4011/orders');
    next.nodes = [...next.nodes, { id: 'audit', kind: 'log', position: { x: 1120, y: 0 }, config: { message: '.' } }];
    next.edges = [...next.edges, { id: 'notify-audit', source: 'notify', target: 'audit' }];
    await api.flows.saveVersion({ flowId: created.flowId, graph: next });

    const diff = await as(viewer).flows.diff({ flowId: created.flowId, from: 1, to: 2 });
    expect(diff.graph.nodes.added.map((n) => n.id)).toEqual(['audit']);
    expect(diff.graph.nodes.removed).toEqual([]);
    expect(diff.graph.nodes.changed.map((c) => [c.id, c.fields])).toEqual([['notify', ['config']]]);
    expect(diff.graph.edges.added.map((e) => e.id)).toEqual(['notify-audit']);
    expect(diff.yaml).toContain('--- v1.yaml');
    expect(diff.yaml).toContain('+++ v2.yaml');
    expect(diff.yaml).toMatch(/^-.*http:\/\/localhost:4010\/orders$/m);
    expect(diff.yaml).toMatch(/^\+.*http:\/\/localhost:4011\/orders$/m);
  });

  it('rolls back by adding a version that copies the old one', async () => {
    const api = as(editor);
    const created = await api.flows.create({ name: `rollback ${unique()}`, graph: demoFlowGraph() });
    if (!created.ok) throw new Error('setup failed');
    await api.flows.saveVersion({ flowId: created.flowId, graph: withUrl(demoFlowGraph(), 'http://localhost:4099/x') });
    const rolled = await api.flows.rollback({ flowId: created.flowId, version: 1 });
    expect(rolled).toMatchObject({ ok: true, version: 3 });
    const [v1, v3] = await Promise.all([api.flows.version({ flowId: created.flowId, version: 1 }), api.flows.version({ flowId: created.flowId, version: 3 })]);
    expect(v3.yaml).toBe(v1.yaml);
    expect(v3.note).toBe('rollback to v1');
    const diff = await api.flows.diff({ flowId: created.flowId, from: 1, to: 3 });
    expect(diff.graph.nodes).toEqual({ added: [], removed: [], changed: [] });
    await expect(api.flows.rollback({ flowId: created.flowId, version: 9 })).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('imports a DSL document written by hand as a new flow, and refuses one that is not DSL 1.0', async () => {
    const api = as(editor);
    const yaml = stringify({
      document: { dsl: '1.0.0', namespace: 'examples', name: `hand-written-${unique()}`, version: '1.0.0' },
      do: [{ greet: { set: { greeting: '${ "hello " + .name }' } } }, { notify: { call: 'http', with: { method: 'post', endpoint: 'http://localhost:4010/x', body: '${ . }' } } }],
    });
    const imported = await api.flows.importDsl({ yaml });
    expect(imported).toMatchObject({ ok: true, version: 1 });
    if (!imported.ok) return;
    const v1 = await api.flows.version({ flowId: imported.flowId, version: 1 });
    expect(v1.graph.nodes.map((n) => n.id)).toEqual(['greet', 'notify']);
    expect(v1.graph.edges).toHaveLength(1);

    const bad = await api.flows.importDsl({ yaml: 'document: { dsl: "0.8", name: x }\nstates: []\n' });
    expect(bad.ok).toBe(false);
    expect(bad.diagnostics.length).toBeGreaterThan(0);
  });

  it('saves by document name: the first deploy of a file creates the flow, the next adds a version', async () => {
    const api = as(editor);
    const name = `by-name-${unique()}`;
    const first = await api.flows.saveByName({ graph: graphNamed(name) });
    expect(first).toMatchObject({ ok: true, version: 1, created: true });
    const second = await api.flows.saveByName({ graph: withUrl(graphNamed(name), 'http://localhost:4012/o') });
    expect(second).toMatchObject({ ok: true, version: 2 });
    expect(second.ok && first.ok && second.flowId === first.flowId).toBe(true);
  });

  it('deploys with the webhook URLs the worker serves, and lists deployments', async () => {
    const api = as(editor);
    const created = await api.flows.create({ name: `deploy ${unique()}`, graph: demoFlowGraph() });
    if (!created.ok) throw new Error('setup failed');
    const deployed = await api.flows.deploy({ flowId: created.flowId });
    expect(deployed).toMatchObject({ status: 'active', version: 1, webhooks: ['https://hooks.example.com/hooks/orders'] });
    await api.flows.saveVersion({ flowId: created.flowId, graph: withUrl(demoFlowGraph(), 'http://localhost:4013/o') });
    await api.flows.deploy({ flowId: created.flowId });
    const listed = (await api.flows.list()).find((f) => f.id === created.flowId)!;
    expect(listed.deployedVersion).toBe(2);
    expect(listed.deployments.map((d) => [d.version, d.status])).toEqual([
      [2, 'active'],
      [1, 'draining'],
    ]);
    await api.flows.undeploy({ flowId: created.flowId });
  });
});
