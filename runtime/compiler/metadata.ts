/**
 * What Meshflow keeps under `metadata.meshflow` of the documents it writes: the facts the DSL
 * has no place for (node kind, label, canvas position, a filter's dialect JSON, connector
 * settings), so that reopening the document gives back the graph exactly.
 */
import { z } from 'zod';
import { positionSchema } from '../nodes/types.ts';

export const META_KEY = 'meshflow';

/**
 * `metadata.meshflow` of a task: written by the compiler (kind, label, position and what the
 * node's compile adds, e.g. a filter's dialect JSON), read by the decompiler and the data plane.
 * It never changes what a task means: the DSL task is what runs, in the engine and on the data
 * plane's fast path alike. Documents written by hand may add `delivery` options to an HTTP
 * target, which tune only what the task leaves to the data plane (see `ignoredTaskMeta`).
 */
export const taskMetaSchema = z.looseObject({
  kind: z.string().min(1),
  label: z.string().optional(),
  position: positionSchema.optional(),
});

export type TaskMeta = z.infer<typeof taskMetaSchema>;

/** A source node lives in `schedule`, which has no metadata of its own, so it is listed on the document. */
export const sourceMetaSchema = taskMetaSchema.extend({
  id: z.string().min(1),
  /** Connector settings (a webhook's path, mode, secret…, a broker's connection). */
  connection: z.record(z.string(), z.unknown()).optional(),
});

export type SourceMeta = z.infer<typeof sourceMetaSchema>;

/**
 * `document.metadata.meshflow`. Readers are lenient the way the worker always was: a source
 * entry that does not fit the schema is left out, the rest of the document still counts.
 */
export const documentMetaSchema = z.looseObject({
  sources: z
    .array(z.unknown())
    .catch([])
    .default([])
    .transform((items) => items.flatMap((item) => {
      const parsed = sourceMetaSchema.safeParse(item);
      return parsed.success ? [parsed.data] : [];
    })),
});

export type DocumentMeta = z.input<typeof documentMetaSchema> & { sources: SourceMeta[] };

/** A webhook source's `connection`, as the compiler writes it (runtime/nodes/http-webhook.node.ts). */
export const webhookConnectionSchema = z.looseObject({
  path: z.string().min(1),
  mode: z.string().optional().catch(undefined),
  secret: z.string().optional().catch(undefined),
  auth: z.string().optional().catch(undefined),
  eventType: z.string().optional().catch(undefined),
  eventSource: z.string().optional().catch(undefined),
  headers: z.record(z.string(), z.unknown()).optional().catch(undefined),
});

/** Marks the `do` wrapper the compiler puts around a fork branch of several nodes. */
export interface BranchMeta {
  branch: true;
}

/** `metadata.meshflow` of a task or of the document's `document`, if it is an object. */
function rawMeta(holder: unknown): Record<string, unknown> | undefined {
  if (!isObject(holder) || !isObject(holder.metadata)) return undefined;
  const meta = holder.metadata[META_KEY];
  return isObject(meta) ? meta : undefined;
}

/**
 * A task's metadata as readers take it: the compiler's fields when they fit, and what a
 * document written by hand may add (`delivery` options, and a `transform` that is read only
 * to say it does not count); a field that does not fit is left out.
 */
const taskMetaReadSchema = z.looseObject({
  kind: z.string().min(1).optional().catch(undefined),
  transform: z.record(z.string(), z.unknown()).optional().catch(undefined),
  delivery: z.record(z.string(), z.unknown()).optional().catch(undefined),
});

export type ReadTaskMeta = z.infer<typeof taskMetaReadSchema>;

/** A task's Meshflow metadata; empty when it has none. */
export function readTaskMeta(task: unknown): ReadTaskMeta {
  const parsed = taskMetaReadSchema.safeParse(rawMeta(task) ?? {});
  return parsed.success ? parsed.data : {};
}

/**
 * Why a `metadata.meshflow.delivery` option is not read, or undefined when it is. The DSL task
 * decides how often and how far apart a failed call is retried (its `catch.retry`; a call without
 * one is tried once, in the engine and on the fast path alike), so the retry options are never
 * read; `timeout` is read unless the task states its own.
 */
function notRead(field: string, task: Record<string, unknown>): string | undefined {
  const retried = isObject(task.catch) && isObject(task.catch.retry);
  switch (field) {
    case 'retry':
      return retried ? 'its catch.retry says how often the call is retried' : 'a call without a catch.retry is tried once; state a retry in the task (try/catch.retry)';
    case 'backoffPolicy':
      return retried ? 'its catch.retry says how the waits between retries grow' : 'a call without a catch.retry is not retried';
    case 'backoffDelay':
      return retried ? 'its catch.retry says how long the first wait is' : 'a call without a catch.retry is not retried';
    case 'timeout':
      return isObject(task.timeout) ? 'its timeout says how long an attempt may take' : undefined;
    default:
      return undefined;
  }
}

/** `metadata.meshflow.delivery` without the options the task itself decides (they would change what runs). */
export function tunableDelivery(task: unknown): Record<string, unknown> | undefined {
  const delivery = readTaskMeta(task).delivery;
  if (!delivery || !isObject(task)) return delivery;
  return Object.fromEntries(Object.entries(delivery).filter(([field]) => notRead(field, task) === undefined));
}

export interface IgnoredMeta {
  /** Under the task's `metadata.meshflow`: `['transform']`, `['delivery', 'retry']`. */
  path: string[];
  message: string;
}

/**
 * What a task's `metadata.meshflow` says that no reader acts on, because the DSL task is the
 * meaning: a `transform` (the task's own `set` / `output` is what runs), and delivery options
 * the task states itself. The decompiler shows these as warnings, so the YAML editor says it.
 */
export function ignoredTaskMeta(task: unknown): IgnoredMeta[] {
  const meta = readTaskMeta(task);
  const ignored: IgnoredMeta[] = [];
  if (meta.transform) {
    ignored.push({ path: ['transform'], message: 'metadata.meshflow.transform is not read: the task itself is what runs, in the engine and on the fast path alike' });
  }
  if (meta.delivery && isObject(task)) {
    for (const field of Object.keys(meta.delivery)) {
      const why = notRead(field, task);
      if (why) ignored.push({ path: ['delivery', field], message: `metadata.meshflow.delivery.${field} is not read: ${why}` });
    }
  }
  return ignored;
}

/** The document's Meshflow metadata (`document.metadata.meshflow`); no sources when it has none. */
export function readDocumentMeta(document: unknown): { sources: SourceMeta[] } & Record<string, unknown> {
  const parsed = documentMetaSchema.safeParse(rawMeta(document) ?? {});
  return parsed.success ? parsed.data : { sources: [] };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * The document without Meshflow's metadata (and metadata objects left empty by its removal):
 * what another DSL runtime sees, and what "equivalent documents" compares.
 */
export function withoutMeshflowMetadata(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutMeshflowMetadata);
  if (!isObject(value)) return value;
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    if (key === 'metadata' && isObject(item)) {
      const rest = Object.fromEntries(Object.entries(item).filter(([k]) => k !== META_KEY));
      if (Object.keys(rest).length > 0) out[key] = withoutMeshflowMetadata(rest);
      continue;
    }
    out[key] = withoutMeshflowMetadata(item);
  }
  return out;
}
