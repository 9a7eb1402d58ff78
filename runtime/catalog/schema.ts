/**
 * JSON Schema inferred from event data, as EventBridge's schema discovery does it: infer a
 * schema per observed value, merge it into what is known (a field seen only sometimes stops
 * being required; a field seen with two types gets both), and describe how two versions
 * differ in words a reader can act on ("added field customer.email (string)"). Pure: the
 * worker's discovery and the studio's diff view both use it.
 */

export type JsonType = 'object' | 'array' | 'string' | 'integer' | 'number' | 'boolean' | 'null';

export interface JsonSchema {
  type?: JsonType | JsonType[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
  description?: string;
  format?: string;
  [keyword: string]: unknown;
}

function typeOf(value: unknown): JsonType {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  if (typeof value === 'string' || typeof value === 'boolean' || typeof value === 'object') return typeof value as JsonType;
  return 'null';
}

const DATE_TIME = /^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;

export function inferSchema(value: unknown): JsonSchema {
  const type = typeOf(value);
  if (type === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) => a.localeCompare(b));
    return { type, properties: Object.fromEntries(entries.map(([k, v]) => [k, inferSchema(v)])), required: entries.map(([k]) => k) };
  }
  if (type === 'array') {
    const items = (value as unknown[]).map(inferSchema);
    return items.length === 0 ? { type } : { type, items: items.reduce(mergeSchemas) };
  }
  if (type === 'string' && DATE_TIME.test(value as string)) return { type, format: 'date-time' };
  return { type };
}

function types(schema: JsonSchema): JsonType[] {
  if (schema.type === undefined) return [];
  return Array.isArray(schema.type) ? schema.type : [schema.type];
}

/** Integers are numbers: a field seen as both is a number. */
function unionTypes(a: JsonType[], b: JsonType[]): JsonType | JsonType[] | undefined {
  const all = new Set([...a, ...b]);
  if (all.has('number')) all.delete('integer');
  const list = [...all].sort();
  return list.length === 0 ? undefined : list.length === 1 ? list[0] : list;
}

export function mergeSchemas(a: JsonSchema, b: JsonSchema): JsonSchema {
  const merged: JsonSchema = {};
  const type = unionTypes(types(a), types(b));
  if (type !== undefined) merged.type = type;
  if (a.properties || b.properties) {
    const names = [...new Set([...Object.keys(a.properties ?? {}), ...Object.keys(b.properties ?? {})])].sort();
    merged.properties = Object.fromEntries(
      names.map((name) => {
        // Own properties only: a field named `valueOf` must not find Object.prototype's.
        const left = a.properties && Object.hasOwn(a.properties, name) ? a.properties[name] : undefined;
        const right = b.properties && Object.hasOwn(b.properties, name) ? b.properties[name] : undefined;
        return [name, left && right ? mergeSchemas(left, right) : (left ?? right)!];
      }),
    );
    // Required only when both sides had the object and both required the field.
    const aObject = types(a).includes('object');
    const bObject = types(b).includes('object');
    const required = aObject && bObject ? (a.required ?? []).filter((r) => (b.required ?? []).includes(r)) : aObject ? (a.required ?? []) : (b.required ?? []);
    merged.required = required;
  }
  if (a.items || b.items) merged.items = a.items && b.items ? mergeSchemas(a.items, b.items) : (a.items ?? b.items)!;
  if (a.format && a.format === b.format) merged.format = a.format;
  if (a.description ?? b.description) merged.description = (a.description ?? b.description)!;
  return merged;
}

function typeLabel(schema: JsonSchema | undefined): string {
  const list = schema ? types(schema) : [];
  return list.length === 0 ? 'any' : list.join(' | ');
}

/** Every field path of a schema (`customer.email`, `items[].sku`), for search and display. */
export function fieldPaths(schema: JsonSchema, prefix = ''): { path: string; schema: JsonSchema; required: boolean }[] {
  const out: { path: string; schema: JsonSchema; required: boolean }[] = [];
  for (const [name, child] of Object.entries(schema.properties ?? {})) {
    const path = prefix ? `${prefix}.${name}` : name;
    out.push({ path, schema: child, required: (schema.required ?? []).includes(name) }, ...fieldPaths(child, path));
  }
  if (schema.items) out.push(...fieldPaths(schema.items, `${prefix}[]`));
  return out;
}

/** What changed from one version to the next, one sentence per change. */
export function diffSchemas(before: JsonSchema | undefined, after: JsonSchema): string[] {
  if (!before) return ['first version'];
  const changes: string[] = [];
  if (typeLabel(before) !== typeLabel(after)) changes.push(`data type changed from ${typeLabel(before)} to ${typeLabel(after)}`);
  const old = new Map(fieldPaths(before).map((f) => [f.path, f]));
  const now = new Map(fieldPaths(after).map((f) => [f.path, f]));
  for (const [path, field] of now) {
    const was = old.get(path);
    if (!was) changes.push(`added field ${path} (${typeLabel(field.schema)}${field.required ? '' : ', optional'})`);
    else {
      if (typeLabel(was.schema) !== typeLabel(field.schema)) changes.push(`field ${path} changed type from ${typeLabel(was.schema)} to ${typeLabel(field.schema)}`);
      if (was.required && !field.required) changes.push(`field ${path} became optional`);
      if (!was.required && field.required) changes.push(`field ${path} became required`);
    }
  }
  for (const path of old.keys()) if (!now.has(path)) changes.push(`removed field ${path}`);
  return changes;
}

/** Key-order-independent identity of a schema, to tell whether a merge changed anything. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    return `{${Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value);
}
