/**
 * The names a user gave a flow version's nodes, for saying where something happened: the
 * worker records task names (node ids); the studio shows the node's label and its kind.
 */
import { getNodeDefinition } from '@/runtime/nodes';

export interface NodeName {
  id: string;
  /** The node's own label, or its kind's title when it has none. */
  label: string;
  kind: string | null;
  /** The kind's title ("Data pattern", "HTTP webhook"). */
  title: string | null;
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Node names of a stored graph (flow_version.graph), by node id. */
export function nodeNames(graph: unknown): Map<string, NodeName> {
  const names = new Map<string, NodeName>();
  const nodes = isObj(graph) && Array.isArray(graph.nodes) ? graph.nodes : [];
  for (const node of nodes) {
    if (!isObj(node) || typeof node.id !== 'string') continue;
    const kind = typeof node.kind === 'string' ? node.kind : null;
    const title = kind ? (getNodeDefinition(kind)?.title ?? null) : null;
    const label = typeof node.label === 'string' && node.label.trim() ? node.label : (title ?? node.id);
    names.set(node.id, { id: node.id, label, kind, title });
  }
  return names;
}

/** The name of task `id` (a `.body` suffix is the target's own body expression). */
export function nodeName(names: Map<string, NodeName>, id: string): NodeName {
  return names.get(id) ?? names.get(id.replace(/\.body$/, '')) ?? { id, label: id, kind: null, title: null };
}
