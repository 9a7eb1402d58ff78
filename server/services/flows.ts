/**
 * Flows and their immutable versions; deploying writes a deployment row, and the database
 * trigger from migration deployment_notify tells the workers.
 *
 * Every save compiles the graph here, with the engine's validator and the catalog's event
 * schemas, so a version in the database always holds a graph and the DSL it compiles to, and
 * a graph with errors is never stored: the caller gets the diagnostics, attached to node ids.
 */
import { createTwoFilesPatch } from 'diff';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import type { PrismaClient } from '@/prisma/generated/client';
import { compileAndValidate, type CompileResult } from '@/runtime/compiler/compile';
import { Deployment } from '@/runtime/compiler/deployment';
import { documentNameFor } from '@/runtime/compiler/document-name';
import { decompile } from '@/runtime/compiler/decompile';
import { hasErrors, type Diagnostic } from '@/runtime/compiler/diagnostics';
import { validateDocument } from '@/runtime/compiler/validate';
import { PlanError, planFromDocument } from '@/runtime/events/plan';
import { getNodeDefinition, isSourceDefinition, type FlowGraph, type GraphEdge, type GraphNode } from '@/runtime/nodes';
import { ServiceError } from './errors';
import { cursorInput, decodeCursor, pageOf, type Page } from './pages';

const flowId = z.string().uuid('must be a flow id');
const versionNumber = z.number().int().positive('versions start at 1');
const flowName = z.string().trim().min(1, 'a name is required').max(120);
const note = z.string().max(500).default('');
/** The compiler checks the graph's shape itself and reports problems as diagnostics. */
const graph = z.unknown();

export const flowIdInput = z.object({ flowId });
export const renameFlowInput = z.object({ flowId, name: flowName });
export const createFlowInput = z.object({ name: flowName, description: z.string().max(2000).default(''), graph, note });
export const saveVersionInput = z.object({ flowId, graph, note });
export const saveByNameInput = z.object({ graph, note });
/** `name`: the flow's title, so the preview carries the document name a save would write. */
export const compileGraphInput = z.object({ graph, name: flowName.optional() });
export const versionInput = z.object({ flowId, version: versionNumber });
export const listVersionsInput = z.object({ flowId, limit: z.number().int().min(1).max(200).default(50), cursor: cursorInput });
export const diffInput = z.object({ flowId, from: versionNumber, to: versionNumber });
export const rollbackInput = z.object({ flowId, version: versionNumber, note: z.string().max(500).optional() });
export const importDslInput = z.object({ name: flowName.optional(), yaml: z.string().min(1, 'the document is empty'), note });

/** A save either stores a version or is refused with the diagnostics that stopped it. */
export type SaveResult =
  | { ok: true; flowId: string; version: number; yaml: string; diagnostics: Diagnostic[] }
  | { ok: false; diagnostics: Diagnostic[] };

export async function listFlows(db: PrismaClient) {
  const flows = await db.flow.findMany({
    orderBy: { updatedAt: 'desc' },
    include: {
      versions: { orderBy: { version: 'desc' }, take: 1, select: { version: true, createdAt: true } },
      deployments: {
        where: { status: { in: ['active', 'draining'] } },
        orderBy: { createdAt: 'desc' },
        select: { id: true, status: true, createdAt: true, flowVersion: { select: { version: true } } },
      },
    },
  });
  return flows.map((f) => ({
    id: f.id,
    name: f.name,
    description: f.description,
    updatedAt: f.updatedAt,
    latestVersion: f.versions[0]?.version ?? null,
    deployedVersion: f.deployments.find((d) => d.status === 'active')?.flowVersion.version ?? null,
    deployments: f.deployments.map((d) => ({ id: d.id, status: d.status, version: d.flowVersion.version, createdAt: d.createdAt })),
  }));
}

export async function getFlow(db: PrismaClient, id: string) {
  const flow = await db.flow.findUnique({
    where: { id },
    include: {
      versions: { orderBy: { version: 'desc' } },
      deployments: { where: { status: 'active' }, include: { flowVersion: { select: { version: true } } } },
    },
  });
  if (!flow) throw new ServiceError('NOT_FOUND', `no flow with id ${id}`);
  return flow;
}

export async function renameFlow(db: PrismaClient, input: z.infer<typeof renameFlowInput>) {
  const { count } = await db.flow.updateMany({ where: { id: input.flowId }, data: { name: input.name } });
  if (count === 0) throw new ServiceError('NOT_FOUND', `no flow with id ${input.flowId}`);
}

// ── compiling ───────────────────────────────────────────────────────────────

/**
 * The latest catalog schema of each event type the graph's sources consume, for the
 * compiler's type inference. Unknown types are simply absent: inference then stays silent.
 */
export async function schemasForGraph(db: PrismaClient, input: unknown): Promise<Record<string, unknown>> {
  const nodes = isRecord(input) && Array.isArray(input.nodes) ? (input.nodes as unknown[]) : [];
  const types = new Set<string>();
  for (const node of nodes) {
    if (!isRecord(node) || typeof node.kind !== 'string') continue;
    const def = getNodeDefinition(node.kind);
    const type = isRecord(node.config) ? node.config.eventType : undefined;
    if (def && isSourceDefinition(def) && typeof type === 'string') types.add(type);
  }
  if (types.size === 0) return {};
  const rows = await db.eventType.findMany({
    where: { type: { in: [...types] } },
    select: { type: true, schemas: { orderBy: { version: 'desc' }, take: 1, select: { schema: true } } },
  });
  return Object.fromEntries(rows.flatMap((r) => (r.schemas[0] ? [[r.type, r.schemas[0].schema]] : [])));
}

/** `title`: the flow's, whose DSL-valid form becomes the document name (the graph's own when absent). */
export async function compileGraph(db: PrismaClient, input: unknown, title?: string): Promise<CompileResult> {
  return compileAndValidate(input, { schemas: await schemasForGraph(db, input), ...(title !== undefined ? { name: documentNameFor(title) } : {}) });
}

/** The compile the canvas shows in its YAML panel: nothing is saved. */
export async function compileFlowGraph(db: PrismaClient, input: z.infer<typeof compileGraphInput>) {
  const { yaml, diagnostics, fields } = await compileGraph(db, input.graph, input.name);
  return { yaml, diagnostics, fields };
}

/** The graph as stored: its document carries the name it compiled with, so the saved graph, its YAML and an export agree. */
function withDocumentName(input: unknown, title: string): object {
  if (!isRecord(input)) return input as object;
  return { ...input, document: { ...(isRecord(input.document) ? input.document : {}), name: documentNameFor(title) } };
}

// ── versions ────────────────────────────────────────────────────────────────

/** Compiles and, when free of errors, appends version `latest + 1` (1 for a new flow). */
async function storeVersion(
  db: PrismaClient,
  target: { flowId: string } | { name: string; description: string },
  input: unknown,
  versionNote: string,
): Promise<SaveResult> {
  const title =
    'name' in target ? target.name : (await db.flow.findUnique({ where: { id: target.flowId }, select: { name: true } }))?.name;
  if (title === undefined) throw new ServiceError('NOT_FOUND', `no flow with id ${'flowId' in target ? target.flowId : ''}`);
  const compiled = await compileGraph(db, input, title);
  if (!compiled.document || hasErrors(compiled.diagnostics)) return { ok: false, diagnostics: compiled.diagnostics };
  const stored = withDocumentName(input, title);
  if ('name' in target) {
    const flow = await db.flow.create({
      data: {
        name: target.name,
        description: target.description,
        versions: { create: { version: 1, graph: stored, dslYaml: compiled.yaml, note: versionNote } },
      },
    });
    return { ok: true, flowId: flow.id, version: 1, yaml: compiled.yaml, diagnostics: compiled.diagnostics };
  }
  const version = await db.$transaction(async (tx) => {
    // Serialises concurrent saves of one flow, so two never take the same number.
    const locked = await tx.$queryRaw<{ id: string }[]>`SELECT id FROM flow WHERE id = ${target.flowId} FOR UPDATE`;
    if (locked.length === 0) throw new ServiceError('NOT_FOUND', `no flow with id ${target.flowId}`);
    const latest = await tx.flowVersion.aggregate({ where: { flowId: target.flowId }, _max: { version: true } });
    const next = (latest._max.version ?? 0) + 1;
    await tx.flowVersion.create({ data: { flowId: target.flowId, version: next, graph: stored, dslYaml: compiled.yaml, note: versionNote } });
    await tx.flow.update({ where: { id: target.flowId }, data: { updatedAt: new Date() } });
    return next;
  });
  return { ok: true, flowId: target.flowId, version, yaml: compiled.yaml, diagnostics: compiled.diagnostics };
}

export async function createFlow(db: PrismaClient, input: z.input<typeof createFlowInput>): Promise<SaveResult> {
  const data = createFlowInput.parse(input);
  return storeVersion(db, { name: data.name, description: data.description }, data.graph, data.note);
}

export async function saveVersion(db: PrismaClient, input: z.input<typeof saveVersionInput>): Promise<SaveResult> {
  const data = saveVersionInput.parse(input);
  return storeVersion(db, { flowId: data.flowId }, data.graph, data.note);
}

function documentNameOf(input: unknown): string | undefined {
  const doc = isRecord(input) && isRecord(input.document) ? input.document : undefined;
  return typeof doc?.name === 'string' && doc.name.trim() !== '' ? doc.name.trim() : undefined;
}

/**
 * For files deployed from git or CI: a new version of the flow of the same name — a flow so
 * named in the studio, else the flow whose newest version carries that DSL document name —
 * or a new flow of that name.
 */
export async function saveByName(db: PrismaClient, input: z.input<typeof saveByNameInput>): Promise<SaveResult & { created?: boolean }> {
  const data = saveByNameInput.parse(input);
  const name = documentNameOf(data.graph);
  if (!name) return createFlow(db, { name: 'flow', graph: data.graph, note: data.note });
  const byName = await db.flow.findFirst({ where: { name }, orderBy: { createdAt: 'asc' }, select: { id: true } });
  const byDocument = byName
    ? undefined
    : await db.flowVersion.findFirst({
        where: { graph: { path: ['document', 'name'], equals: name } },
        orderBy: { createdAt: 'desc' },
        select: { flowId: true },
      });
  const existing = byName?.id ?? byDocument?.flowId;
  if (existing) return saveVersion(db, { flowId: existing, graph: data.graph, note: data.note });
  const created = await createFlow(db, { name, graph: data.graph, note: data.note });
  return created.ok ? { ...created, created: true } : created;
}

/** Newest first, by version number; each page continues below the last one's version. */
export async function listVersions(db: PrismaClient, input: z.input<typeof listVersionsInput>) {
  const q = listVersionsInput.parse(input);
  const before = q.cursor ? Number(decodeCursor(q.cursor, ['n'], 'version')[0]) : undefined;
  const flow = await db.flow.findUnique({
    where: { id: q.flowId },
    select: {
      versions: {
        where: before === undefined ? {} : { version: { lt: before } },
        orderBy: { version: 'desc' },
        take: q.limit + 1,
        select: { version: true, note: true, createdAt: true, deployments: { select: { id: true, status: true, createdAt: true } } },
      },
    },
  });
  if (!flow) throw new ServiceError('NOT_FOUND', `no flow with id ${q.flowId}`);
  const page: Page<(typeof flow.versions)[number]> = pageOf(flow.versions, q.limit, (v) => [v.version]);
  return page;
}

export async function getVersion(db: PrismaClient, input: z.infer<typeof versionInput>) {
  const row = await db.flowVersion.findUnique({ where: { flowId_version: { flowId: input.flowId, version: input.version } } });
  if (!row) throw new ServiceError('NOT_FOUND', `flow ${input.flowId} has no version ${input.version}`);
  return { version: row.version, note: row.note, createdAt: row.createdAt, graph: row.graph as unknown as FlowGraph, yaml: row.dslYaml };
}

export interface GraphDiff {
  nodes: { added: GraphNode[]; removed: GraphNode[]; changed: { id: string; from: GraphNode; to: GraphNode; fields: string[] }[] };
  edges: { added: GraphEdge[]; removed: GraphEdge[]; changed: { id: string; from: GraphEdge; to: GraphEdge }[] };
}

function byId<T extends { id: string }>(items: unknown): Map<string, T> {
  return new Map((Array.isArray(items) ? (items as T[]) : []).map((item) => [item.id, item]));
}

const same = (a: unknown, b: unknown) => JSON.stringify(a ?? null) === JSON.stringify(b ?? null);

/** Nodes and edges matched by id; a node's `fields` name what differs (kind, label, config, position). */
export function diffGraphs(from: FlowGraph, to: FlowGraph): GraphDiff {
  const [fromNodes, toNodes] = [byId<GraphNode>(from.nodes), byId<GraphNode>(to.nodes)];
  const [fromEdges, toEdges] = [byId<GraphEdge>(from.edges), byId<GraphEdge>(to.edges)];
  const result: GraphDiff = { nodes: { added: [], removed: [], changed: [] }, edges: { added: [], removed: [], changed: [] } };
  for (const [id, node] of toNodes) {
    const before = fromNodes.get(id);
    if (!before) {
      result.nodes.added.push(node);
      continue;
    }
    const fields = (['kind', 'label', 'config', 'position'] as const).filter((key) => !same(before[key], node[key]));
    if (fields.length > 0) result.nodes.changed.push({ id, from: before, to: node, fields });
  }
  for (const [id, node] of fromNodes) if (!toNodes.has(id)) result.nodes.removed.push(node);
  for (const [id, edge] of toEdges) {
    const before = fromEdges.get(id);
    if (!before) result.edges.added.push(edge);
    else if (!same(before, edge)) result.edges.changed.push({ id, from: before, to: edge });
  }
  for (const [id, edge] of fromEdges) if (!toEdges.has(id)) result.edges.removed.push(edge);
  return result;
}

export async function diffVersions(db: PrismaClient, input: z.infer<typeof diffInput>) {
  const [from, to] = await Promise.all([
    getVersion(db, { flowId: input.flowId, version: input.from }),
    getVersion(db, { flowId: input.flowId, version: input.to }),
  ]);
  return {
    from: input.from,
    to: input.to,
    graph: diffGraphs(from.graph, to.graph),
    yaml: createTwoFilesPatch(`v${input.from}.yaml`, `v${input.to}.yaml`, from.yaml, to.yaml, '', '', { context: 3 }),
  };
}

/** A new version with the graph of an older one; history is never rewritten. */
export async function rollbackFlow(db: PrismaClient, input: z.infer<typeof rollbackInput>): Promise<SaveResult> {
  const old = await getVersion(db, input);
  return saveVersion(db, { flowId: input.flowId, graph: old.graph, note: input.note ?? `rollback to v${input.version}` });
}

/** A DSL 1.0 document (YAML or JSON) opened as a new flow. */
export async function importDsl(db: PrismaClient, input: z.input<typeof importDslInput>): Promise<SaveResult> {
  const data = importDslInput.parse(input);
  let document: unknown;
  try {
    document = parseYaml(data.yaml);
  } catch (error) {
    return { ok: false, diagnostics: [{ severity: 'error', code: 'invalid-document', message: `not YAML or JSON: ${(error as Error).message}` }] };
  }
  const problems = await validateDocument(document);
  const decompiled = decompile(document);
  const diagnostics = [...problems, ...decompiled.diagnostics];
  if (hasErrors(diagnostics)) return { ok: false, diagnostics };
  const doc = decompiled.graph.document;
  return createFlow(db, { name: data.name ?? doc.title ?? doc.name, graph: decompiled.graph, note: data.note || 'imported' });
}

// ── deployments ─────────────────────────────────────────────────────────────

export const deployInput = z.object({ flowId, version: versionNumber.optional() });

/**
 * The public URLs of the webhooks a DSL document serves, as the data plane reads them
 * (runtime/events/plan.ts), so the two can never disagree.
 */
export function webhookUrls(dslYaml: string, workerPublicUrl: string): string[] {
  try {
    const base = workerPublicUrl.replace(/\/+$/, '');
    return planFromDocument(Deployment.parse(dslYaml)).hooks.map((hook) => `${base}/hooks/${encodeURIComponent(hook.id)}`);
  } catch (error) {
    if (error instanceof PlanError) return [];
    throw error;
  }
}

/**
 * The secrets a version reads (its `use.secrets`, its webhooks' keys) must be defined before it
 * goes live; otherwise its runs would fault and its webhooks refuse every request.
 */
async function requireSecrets(db: Pick<PrismaClient, 'secret'>, dslYaml: string): Promise<void> {
  let names: string[];
  try {
    const doc = Deployment.parse(dslYaml);
    const use = doc.document.use as { secrets?: unknown } | undefined;
    const declared = Array.isArray(use?.secrets) ? use.secrets.filter((n): n is string => typeof n === 'string') : [];
    const hooks = planFromDocument(doc).hooks.flatMap((h) => (h.secret === undefined ? [] : [h.secret]));
    names = [...new Set([...declared, ...hooks])];
  } catch (error) {
    if (error instanceof PlanError) return;
    throw error;
  }
  if (names.length === 0) return;
  const defined = new Set((await db.secret.findMany({ where: { name: { in: names } }, select: { name: true } })).map((s) => s.name));
  const missing = names.filter((n) => !defined.has(n));
  if (missing.length > 0) {
    const list = missing.map((n) => `"${n}"`).join(', ');
    throw new ServiceError('PRECONDITION_FAILED', `cannot deploy: the flow reads the secret${missing.length === 1 ? '' : 's'} ${list}, not defined; define ${missing.length === 1 ? 'it' : 'them'} on the Secrets page first`);
  }
}

/**
 * Before the newest version is deployed: when it was saved under another document name (a
 * flow saved before names followed titles, or renamed since), it is saved again under the
 * title's name, so what runs is known by the flow's name. A graph that no longer saves cleanly
 * (the catalog changed under it) deploys as it was.
 */
async function nameNewestVersion(db: PrismaClient, flowId: string): Promise<void> {
  const flow = await db.flow.findUnique({
    where: { id: flowId },
    select: { name: true, versions: { orderBy: { version: 'desc' }, take: 1, select: { graph: true } } },
  });
  const newest = flow?.versions[0];
  if (!flow || !newest) return;
  const name = documentNameFor(flow.name);
  if (documentNameOf(newest.graph) === name) return;
  await storeVersion(db, { flowId }, newest.graph, `named after the flow: ${name}`);
}

/** Activates a version (the newest by default); the version it replaces drains. */
export async function deployFlow(db: PrismaClient, input: z.infer<typeof deployInput>) {
  if (!input.version) await nameNewestVersion(db, input.flowId);
  return db.$transaction(async (tx) => {
    const version = await tx.flowVersion.findFirst({
      where: { flowId: input.flowId, ...(input.version ? { version: input.version } : {}) },
      orderBy: { version: 'desc' },
    });
    if (!version) {
      throw new ServiceError(
        'NOT_FOUND',
        input.version
          ? `flow ${input.flowId} has no version ${input.version}`
          : `flow ${input.flowId} does not exist or has no saved version`,
      );
    }
    await tx.deployment.updateMany({
      where: { flowId: input.flowId, status: 'active' },
      data: { status: 'draining' },
    });
    await requireSecrets(tx, version.dslYaml);
    const deployment = await tx.deployment.create({ data: { flowId: input.flowId, flowVersionId: version.id } });
    return { ...deployment, version: version.version, dslYaml: version.dslYaml };
  });
}

export async function undeployFlow(db: PrismaClient, id: string) {
  const { count } = await db.deployment.updateMany({
    where: { flowId: id, status: { in: ['active', 'draining'] } },
    data: { status: 'stopped' },
  });
  if (count === 0) throw new ServiceError('PRECONDITION_FAILED', `flow ${id} is not deployed`);
}

// ── deleting ────────────────────────────────────────────────────────────────

/**
 * What deleting a flow stops and removes, for the confirmation the studio shows first: the
 * live deployment, the webhook URLs and other sources it serves, and the history that goes.
 */
export async function flowDeletionImpact(db: PrismaClient, flowId: string, workerPublicUrl: string) {
  const flow = await db.flow.findUnique({
    where: { id: flowId },
    select: {
      name: true,
      _count: { select: { versions: true, runs: true } },
      deployments: { where: { status: { in: ['active', 'draining'] } }, select: { status: true, flowVersion: { select: { version: true, dslYaml: true, graph: true } } } },
    },
  });
  if (!flow) throw new ServiceError('NOT_FOUND', `no flow with id ${flowId}`);
  const live = flow.deployments.find((d) => d.status === 'active') ?? flow.deployments[0];
  const sources = (live ? deployedSources(live.flowVersion.dslYaml) : []).flatMap((source) => {
    const def = getNodeDefinition(source.kind);
    if (!def || !isSourceDefinition(def)) return [];
    return [{ kind: source.kind, title: def.title, label: source.label || def.title }];
  });
  const deadLetters = await db.deadLetter.count({
    where: { OR: [{ flowId }, { deploymentId: { in: (await db.deployment.findMany({ where: { flowId }, select: { id: true } })).map((d) => d.id) } }], replayedAt: null, discardedAt: null },
  });
  return {
    name: flow.name,
    deployedVersion: live?.flowVersion.version ?? null,
    webhooks: live ? webhookUrls(live.flowVersion.dslYaml, workerPublicUrl) : [],
    sources,
    versions: flow._count.versions,
    runs: flow._count.runs,
    pendingDeadLetters: deadLetters,
  };
}

/**
 * Undeploys and deletes a flow. Its versions, deployments and runs go with it (the runs of a
 * flow that no longer exists could not be opened, re-run or explained); its queued deliveries
 * are dropped and its waiting dead letters discarded with the reason on record. Events stay
 * in the log: they belong to the mesh, other flows may have received them, and retention
 * removes them in time.
 */
export async function deleteFlow(db: PrismaClient, flowId: string): Promise<{ name: string; stoppedDeployment: boolean }> {
  return db.$transaction(async (tx) => {
    const locked = await tx.$queryRaw<{ name: string }[]>`SELECT name FROM flow WHERE id = ${flowId} FOR UPDATE`;
    const name = locked[0]?.name;
    if (name === undefined) throw new ServiceError('NOT_FOUND', `no flow with id ${flowId}; it may have been deleted already`);
    // Stopping first tells the workers (deployment_notify) to release its webhooks and sources.
    const { count: stopped } = await tx.deployment.updateMany({ where: { flowId, status: { in: ['active', 'draining'] } }, data: { status: 'stopped' } });
    const deployments = (await tx.deployment.findMany({ where: { flowId }, select: { id: true } })).map((d) => d.id);
    await tx.delivery.deleteMany({ where: { deploymentId: { in: deployments } } });
    await tx.deadLetter.updateMany({
      where: { OR: [{ flowId }, { deploymentId: { in: deployments } }], replayedAt: null, discardedAt: null },
      data: { discardedAt: new Date(), discardReason: `flow “${name}” was deleted` },
    });
    await tx.deployment.deleteMany({ where: { flowId } });
    await tx.flow.delete({ where: { id: flowId } });
    return { name, stoppedDeployment: stopped > 0 };
  });
}

/** The source nodes a deployed document lists (runtime/compiler/deployment.ts); none when it does not parse. */
function deployedSources(dslYaml: string) {
  try {
    return Deployment.parse(dslYaml).sources;
  } catch {
    return [];
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
