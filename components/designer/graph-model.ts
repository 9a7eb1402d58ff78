/**
 * The canvas's view of a flow graph: React Flow nodes and edges carrying the registry's
 * kind and config, and the rules for wiring them. Pure, so the store's tests need no DOM.
 */
import type { Edge, Node } from '@xyflow/react';
import { getNodeDefinition, type FlowGraph, type OutputPort, type Ports } from '@/runtime/nodes/index';

export interface FlowNodeData extends Record<string, unknown> {
  kind: string;
  label?: string;
  config: Record<string, unknown>;
}

export type FlowNode = Node<FlowNodeData, 'meshflow'>;
export type FlowEdge = Edge<Record<string, unknown>>;

/** The graph fields the canvas does not draw, kept so a round trip loses nothing. */
export type GraphFrame = Pick<FlowGraph, 'document' | 'workflow'>;

export const INPUT_HANDLE = 'in';

export function portsOf(node: Pick<FlowNodeData, 'kind' | 'config'>): Ports {
  const def = getNodeDefinition(node.kind);
  if (!def) return { input: true, outputs: [] };
  const parsed = def.schema.safeParse(node.config);
  // An invalid config still has ports: those of its defaults, so wires survive a typo.
  return def.ports(parsed.success ? parsed.data : def.schema.parse({}));
}

export function toFlowNodes(graph: FlowGraph): FlowNode[] {
  return graph.nodes.map((n) => ({
    id: n.id,
    type: 'meshflow',
    position: n.position ?? { x: 0, y: 0 },
    data: { kind: n.kind, config: n.config, ...(n.label !== undefined ? { label: n.label } : {}) },
  }));
}

export function toFlowEdges(graph: FlowGraph): FlowEdge[] {
  return graph.edges.map((e) => ({
    id: e.id,
    source: e.source,
    sourceHandle: e.sourcePort ?? 'out',
    target: e.target,
    targetHandle: INPUT_HANDLE,
    ...(e.label !== undefined ? { label: e.label, data: { label: e.label } } : {}),
  }));
}

export function toGraph(frame: GraphFrame, nodes: readonly FlowNode[], edges: readonly FlowEdge[]): FlowGraph {
  return {
    document: frame.document,
    ...(frame.workflow !== undefined ? { workflow: frame.workflow } : {}),
    nodes: nodes.map((n) => ({
      id: n.id,
      kind: n.data.kind,
      ...(n.data.label !== undefined && n.data.label !== '' ? { label: n.data.label } : {}),
      position: { x: Math.round(n.position.x), y: Math.round(n.position.y) },
      config: n.data.config,
    })),
    edges: edges.map((e) => ({
      id: e.id,
      source: e.source,
      sourcePort: e.sourceHandle ?? 'out',
      target: e.target,
      ...(typeof e.data?.label === 'string' ? { label: e.data.label } : {}),
    })),
  };
}

export interface ConnectionRequest {
  source: string;
  sourceHandle?: string | null;
  target: string;
}

/** Why a wire may not be drawn, in words the canvas shows; undefined when it may. */
export function connectionProblem(nodes: readonly FlowNode[], edges: readonly FlowEdge[], c: ConnectionRequest): string | undefined {
  const from = nodes.find((n) => n.id === c.source);
  const to = nodes.find((n) => n.id === c.target);
  if (!from || !to) return 'both ends of a wire must be nodes on the canvas';
  if (from.id === to.id) return 'a node cannot feed itself';
  const toDef = getNodeDefinition(to.data.kind);
  if (!portsOf(to.data).input) return `${toDef?.title ?? to.data.kind} is a source: it has no input`;
  const port: OutputPort | undefined = portsOf(from.data).outputs.find((p) => p.id === (c.sourceHandle ?? 'out'));
  if (!port) return `${from.id} has no output "${c.sourceHandle ?? 'out'}"`;
  const fromPort = edges.filter((e) => e.source === c.source && (e.sourceHandle ?? 'out') === port.id);
  if (fromPort.some((e) => e.target === c.target)) return 'these two nodes are already wired';
  if (port.role !== 'branches' && fromPort.length > 0) return `the "${port.label}" output of ${from.id} is already wired; use a Parallel node to fan out`;
  return undefined;
}

/** A readable id that is also a valid DSL task name: `jq-transform-2`. */
export function freshNodeId(kind: string, taken: ReadonlySet<string>): string {
  for (let n = 1; ; n++) {
    const id = `${kind}-${n}`;
    if (!taken.has(id)) return id;
  }
}
