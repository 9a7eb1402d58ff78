/**
 * What Meshflow keeps under `metadata.meshflow` of the documents it writes: the facts the DSL
 * has no place for (node kind, label, canvas position, a filter's dialect JSON, connector
 * settings), so that reopening the document gives back the graph exactly.
 */
import type { Position } from '../nodes/types.ts';

export const META_KEY = 'meshflow';

export interface TaskMeta {
  kind: string;
  label?: string;
  position?: Position;
  [extra: string]: unknown;
}

/** A source node lives in `schedule`, which has no metadata of its own, so it is listed on the document. */
export interface SourceMeta extends TaskMeta {
  id: string;
}

export interface DocumentMeta {
  sources: SourceMeta[];
}

/** Marks the `do` wrapper the compiler puts around a fork branch of several nodes. */
export interface BranchMeta {
  branch: true;
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
