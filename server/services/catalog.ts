/**
 * The event catalog: event types with their schema versions, found by type, source,
 * description or field name; a type's page (schema fields, examples, recent events, versions
 * and what changed between them, flows that produce or consume it); registering and editing
 * by hand; AsyncAPI 3.0 export and import.
 */
import { Parser } from '@asyncapi/parser';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { z } from 'zod';
import type { PrismaClient } from '@/prisma/generated/client';
import { fromAsyncApi, toAsyncApi, type CatalogEntry } from '@/runtime/catalog/asyncapi';
import { canonicalJson, diffSchemas, fieldPaths, type JsonSchema } from '@/runtime/catalog/schema';
import { ServiceError } from './errors';
import { matchWildcard, normalizeTokens, type WildcardToken } from '@/runtime/expressions/wildcard';

export const catalogSearchInput = z.object({
  search: z.string().trim().max(200).optional(),
  /** Only discovered types, or only registered ones. */
  origin: z.enum(['discovered', 'registered']).optional(),
  validation: z.enum(['off', 'flag', 'reject']).optional(),
});

/** What the list and a type's page both show of an event type. */
function typeHeader(t: {
  id: string;
  type: string;
  source: string;
  description: string;
  owner: string;
  discovered: boolean;
  validation: string;
  lastSeenAt: Date | null;
}) {
  const { id, type, source, description, owner, discovered, validation, lastSeenAt } = t;
  return { id, type, source, description, owner, discovered, validation, lastSeenAt };
}

const latestSchema = { schemas: { orderBy: { version: 'desc' as const }, take: 1, select: { version: true, schema: true } } };

/** Matches type, source, description, or the name of any field of the newest schema. */
export async function listEventTypes(db: PrismaClient, input: z.infer<typeof catalogSearchInput>) {
  const types = await db.eventType.findMany({
    where: {
      ...(input.origin ? { discovered: input.origin === 'discovered' } : {}),
      ...(input.validation ? { validation: input.validation } : {}),
    },
    orderBy: { type: 'asc' },
    include: latestSchema,
  });
  const q = input.search?.toLowerCase();
  return types.flatMap((t) => {
    const schema = t.schemas[0]?.schema as JsonSchema | undefined;
    const fields = schema ? fieldPaths(schema).map((f) => f.path) : [];
    let matchedField: string | undefined;
    if (q) {
      const direct = [t.type, t.source, t.description].some((text) => text.toLowerCase().includes(q));
      matchedField = fields.find((f) => f.toLowerCase().split(/[.[\]]+/).some((part) => part.includes(q)));
      if (!direct && !matchedField) return [];
    }
    return [
      {
        ...typeHeader(t),
        schemaVersion: t.schemas[0]?.version ?? null,
        fieldCount: fields.length,
        matchedField: matchedField ?? null,
        exampleCount: Array.isArray(t.examples) ? t.examples.length : 0,
      },
    ];
  });
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Where a DSL document listens for `type` (consumer) and emits it (producer). */
function roles(document: unknown, type: string): { consumes: boolean; produces: boolean } {
  const found = { consumes: false, produces: false };
  const walk = (node: unknown, inEmit: boolean) => {
    if (Array.isArray(node)) return node.forEach((n) => walk(n, inEmit));
    if (!isObj(node)) return;
    if (isObj(node.with) && node.with.type === type) {
      if (inEmit) found.produces = true;
      else found.consumes = true;
    }
    for (const [k, v] of Object.entries(node)) walk(v, inEmit || k === 'emit');
  };
  walk(document, false);
  return found;
}

export const typeNameInput = z.object({ type: z.string().trim().min(1, 'an event type is required').max(300) });

export async function getEventType(db: PrismaClient, input: z.infer<typeof typeNameInput>) {
  const t = await db.eventType.findUnique({ where: { type: input.type }, include: { schemas: { orderBy: { version: 'desc' } } } });
  if (!t) throw new ServiceError('NOT_FOUND', `no event type "${input.type}" in the catalog`);
  const recent = await db.event.findMany({ where: { type: input.type }, orderBy: { seq: 'desc' }, take: 10 });
  const flows = await db.flow.findMany({ include: { versions: { orderBy: { version: 'desc' }, take: 1 }, deployments: { where: { status: 'active' }, select: { id: true } } } });
  const producers: { id: string; name: string; deployed: boolean }[] = [];
  const consumers: { id: string; name: string; deployed: boolean }[] = [];
  for (const flow of flows) {
    const yaml = flow.versions[0]?.dslYaml;
    if (!yaml || !yaml.includes(input.type)) continue;
    let doc: unknown;
    try {
      doc = parseYaml(yaml);
    } catch {
      continue;
    }
    const r = roles(doc, input.type);
    const entry = { id: flow.id, name: flow.name, deployed: flow.deployments.length > 0 };
    if (r.produces) producers.push(entry);
    if (r.consumes) consumers.push(entry);
  }
  const latest = t.schemas[0];
  return {
    ...typeHeader(t),
    examples: (Array.isArray(t.examples) ? t.examples : []) as unknown[],
    schema: (latest?.schema ?? null) as JsonSchema | null,
    fields: latest ? fieldPaths(latest.schema as JsonSchema).map((f) => ({ path: f.path, type: f.schema.type ?? 'any', required: f.required, format: f.schema.format ?? null })) : [],
    versions: t.schemas.map((s) => ({ version: s.version, changes: s.changes, createdAt: s.createdAt })),
    recentEvents: recent.map((e) => ({ seq: e.seq.toString(), id: e.id, source: e.source, subject: e.subject, receivedAt: e.receivedAt, data: e.data })),
    producers,
    consumers,
  };
}

export const diffInput = typeNameInput.extend({ from: z.number().int().min(1), to: z.number().int().min(1) });

export async function diffVersions(db: PrismaClient, input: z.infer<typeof diffInput>) {
  const rows = await db.eventSchema.findMany({ where: { eventType: { type: input.type }, version: { in: [input.from, input.to] } } });
  const from = rows.find((r) => r.version === input.from);
  const to = rows.find((r) => r.version === input.to);
  if (!from || !to) throw new ServiceError('NOT_FOUND', `event type "${input.type}" has no schema version ${!from ? input.from : input.to}`);
  return { changes: diffSchemas(from.schema as JsonSchema, to.schema as JsonSchema), from: from.schema as JsonSchema, to: to.schema as JsonSchema };
}

const jsonSchemaInput = z.record(z.string(), z.unknown()).refine((s) => Object.keys(s).length > 0, 'a JSON Schema object');

export const registerTypeInput = z.object({
  type: z.string().trim().min(1, 'an event type is required').max(300).regex(/^\S+$/, 'no spaces in an event type'),
  source: z.string().trim().max(500).default(''),
  description: z.string().trim().max(2000).default(''),
  owner: z.string().trim().max(200).default(''),
  schema: jsonSchemaInput.optional(),
  validation: z.enum(['off', 'flag', 'reject']).default('off'),
});

/** Only the fields given change (no defaults here: an absent description is not an empty one). */
export const updateTypeInput = z.object({
  type: registerTypeInput.shape.type,
  source: z.string().trim().max(500).optional(),
  description: z.string().trim().max(2000).optional(),
  owner: z.string().trim().max(200).optional(),
  schema: jsonSchemaInput.optional(),
  validation: z.enum(['off', 'flag', 'reject']).optional(),
});

/** Adds a schema version when the schema differs from the newest; returns the version written. */
async function addVersion(db: PrismaClient, eventTypeId: string, schema: JsonSchema): Promise<number | null> {
  const latest = await db.eventSchema.findFirst({ where: { eventTypeId }, orderBy: { version: 'desc' } });
  if (latest && canonicalJson(latest.schema) === canonicalJson(schema)) return null;
  const version = (latest?.version ?? 0) + 1;
  await db.eventSchema.create({ data: { eventTypeId, version, schema: schema as object, changes: diffSchemas(latest?.schema as JsonSchema | undefined, schema).join('; ') } });
  return version;
}

export async function registerEventType(db: PrismaClient, input: z.input<typeof registerTypeInput>) {
  const data = registerTypeInput.parse(input);
  if (await db.eventType.findUnique({ where: { type: data.type } })) throw new ServiceError('CONFLICT', `event type "${data.type}" is already in the catalog; edit it instead`);
  const created = await db.eventType.create({ data: { type: data.type, source: data.source, description: data.description, owner: data.owner, validation: data.validation } });
  if (data.schema) await addVersion(db, created.id, data.schema as JsonSchema);
  return { id: created.id, type: created.type };
}

export async function updateEventType(db: PrismaClient, input: z.input<typeof updateTypeInput>) {
  const data = updateTypeInput.parse(input);
  const existing = await db.eventType.findUnique({ where: { type: data.type } });
  if (!existing) throw new ServiceError('NOT_FOUND', `no event type "${data.type}" in the catalog`);
  if (data.validation && data.validation !== 'off' && !data.schema && !(await db.eventSchema.count({ where: { eventTypeId: existing.id } }))) {
    throw new ServiceError('BAD_REQUEST', `validation: event type "${data.type}" has no schema to validate against; add one first`);
  }
  await db.eventType.update({
    where: { id: existing.id },
    data: {
      ...(data.source !== undefined ? { source: data.source } : {}),
      ...(data.description !== undefined ? { description: data.description } : {}),
      ...(data.owner !== undefined ? { owner: data.owner } : {}),
      ...(data.validation !== undefined ? { validation: data.validation } : {}),
      // A hand-edited schema is a contract: discovery stops rewriting it.
      ...(data.schema ? { discovered: false } : {}),
    },
  });
  const version = data.schema ? await addVersion(db, existing.id, data.schema as JsonSchema) : null;
  return { type: data.type, newVersion: version };
}

export const exportInput = z.object({ type: z.string().trim().max(300).optional() });

/** `order.*` style patterns: `*` matches any run of characters; no pattern means all. */
function typePattern(pattern: string | undefined): (type: string) => boolean {
  if (!pattern) return () => true;
  // Matched without a backtracking regular expression: `a*a*a*…b` stays fast.
  const tokens = normalizeTokens(Array.from(pattern, (c): WildcardToken => (c === '*' ? { kind: 'any' } : { kind: 'char', char: c })));
  return (type) => matchWildcard(tokens, type) === true;
}

export async function exportAsyncApi(db: PrismaClient, input: z.infer<typeof exportInput>): Promise<{ yaml: string; count: number }> {
  const matches = typePattern(input.type);
  const types = (await db.eventType.findMany({ include: latestSchema })).filter((t) => matches(t.type));
  const entries: CatalogEntry[] = types.map((t) => ({
    type: t.type,
    source: t.source,
    description: t.description,
    owner: t.owner,
    schema: t.schemas[0]?.schema as JsonSchema | undefined,
    version: t.schemas[0]?.version,
    examples: Array.isArray(t.examples) ? (t.examples as unknown[]) : [],
  }));
  const doc = toAsyncApi(entries, { title: input.type ? `Meshflow catalog (${input.type})` : 'Meshflow catalog', version: new Date().toISOString().slice(0, 10) });
  // Unfolded lines: a long $ref folded over two lines is still valid YAML, but not greppable.
  return { yaml: stringifyYaml(doc, { lineWidth: 0 }), count: entries.length };
}

export const importInput = z.object({ document: z.string().min(1, 'an AsyncAPI document (YAML or JSON)').max(5_000_000) });

/** Validates with the AsyncAPI parser and registers (or updates) each message as an event type. */
export async function importAsyncApi(db: PrismaClient, input: z.infer<typeof importInput>) {
  const { document, diagnostics } = await new Parser().parse(input.document);
  const errors = diagnostics.filter((d) => d.severity === 0);
  if (!document || errors.length > 0) {
    const where = errors.slice(0, 5).map((d) => `${d.path.length ? d.path.join('.') : '(document)'}: ${d.message}`);
    throw new ServiceError('BAD_REQUEST', `not a valid AsyncAPI document:\n${where.join('\n')}`);
  }
  const raw = parseYaml(input.document) as Obj;
  if (typeof raw.asyncapi !== 'string' || !raw.asyncapi.startsWith('3.')) throw new ServiceError('BAD_REQUEST', `asyncapi: version ${String(raw.asyncapi)} is not 3.x; only AsyncAPI 3.0 documents are imported`);
  const results: { type: string; created: boolean; newVersion: number | null }[] = [];
  for (const entry of fromAsyncApi(raw)) {
    const existing = await db.eventType.findUnique({ where: { type: entry.type } });
    const t =
      existing ??
      (await db.eventType.create({ data: { type: entry.type, source: entry.source, description: entry.description, owner: entry.owner, examples: entry.examples as object[] } }));
    if (existing) {
      await db.eventType.update({ where: { id: existing.id }, data: { ...(entry.description ? { description: entry.description } : {}), ...(entry.source ? { source: entry.source } : {}), ...(entry.owner ? { owner: entry.owner } : {}) } });
    }
    const newVersion = entry.schema ? await addVersion(db, t.id, entry.schema) : null;
    results.push({ type: entry.type, created: !existing, newVersion });
  }
  return { imported: results };
}
