/**
 * Automatic placement (dagre, layered, left to right) for graphs that arrive without
 * positions: DSL documents Meshflow did not write, and the canvas's "auto-layout" action.
 */
import { Graph, layout } from '@dagrejs/dagre';
import type { FlowGraph, Position } from '../nodes/types.ts';

/** The canvas's default node box; React Flow re-measures, this only has to keep nodes apart. */
export const NODE_WIDTH = 220;
export const NODE_HEIGHT = 72;

/** Above this size dagre takes seconds (about 2 s for 1,000 nodes here); columns by rank take milliseconds. */
const DAGRE_LIMIT = 300;

export function autoLayout(graph: FlowGraph): FlowGraph {
  return graph.nodes.length > DAGRE_LIMIT ? columnLayout(graph) : dagreLayout(graph);
}

/** Column = longest path from a root (back edges ignored), row = order of arrival in the column. */
function columnLayout(graph: FlowGraph): FlowGraph {
  const successors = new Map<string, string[]>();
  const indegree = new Map(graph.nodes.map((n) => [n.id, 0]));
  for (const edge of graph.edges) {
    if (!indegree.has(edge.source) || !indegree.has(edge.target)) continue;
    successors.set(edge.source, [...(successors.get(edge.source) ?? []), edge.target]);
    indegree.set(edge.target, indegree.get(edge.target)! + 1);
  }
  const rank = new Map<string, number>();
  const queue = graph.nodes.filter((n) => indegree.get(n.id) === 0).map((n) => n.id);
  // Kahn's order; nodes left on a cycle are appended after it with the rank they reached.
  for (let i = 0; i < queue.length; i++) {
    const id = queue[i]!;
    for (const next of successors.get(id) ?? []) {
      rank.set(next, Math.max(rank.get(next) ?? 0, (rank.get(id) ?? 0) + 1));
      indegree.set(next, indegree.get(next)! - 1);
      if (indegree.get(next) === 0) queue.push(next);
    }
  }
  const rows = new Map<number, number>();
  return {
    ...graph,
    nodes: graph.nodes.map((node) => {
      const column = rank.get(node.id) ?? 0;
      const row = rows.get(column) ?? 0;
      rows.set(column, row + 1);
      return { ...node, position: { x: column * (NODE_WIDTH + 80), y: row * (NODE_HEIGHT + 40) } };
    }),
  };
}

function dagreLayout(graph: FlowGraph): FlowGraph {
  const g = new Graph({ multigraph: true });
  g.setGraph({ rankdir: 'LR', nodesep: 40, ranksep: 80, marginx: 0, marginy: 0 });
  g.setDefaultEdgeLabel(() => ({}));
  for (const node of graph.nodes) g.setNode(node.id, { width: NODE_WIDTH, height: NODE_HEIGHT });
  for (const edge of graph.edges) if (g.hasNode(edge.source) && g.hasNode(edge.target)) g.setEdge(edge.source, edge.target, {}, edge.id);
  layout(g);
  return {
    ...graph,
    nodes: graph.nodes.map((node) => {
      const placed = g.node(node.id);
      // dagre gives centres; React Flow positions are top-left corners.
      const position: Position = { x: Math.round(placed.x - NODE_WIDTH / 2), y: Math.round(placed.y - NODE_HEIGHT / 2) };
      return { ...node, position };
    }),
  };
}

/** Places nodes without a position just right of their first placed predecessor (or below everything). */
export function placeMissing(graph: FlowGraph): FlowGraph {
  const placed = new Map(graph.nodes.filter((n) => n.position).map((n) => [n.id, n.position!]));
  const lowest = Math.max(0, ...[...placed.values()].map((p) => p.y + NODE_HEIGHT + 40));
  let nextFree = lowest;
  const nodes = graph.nodes.map((node) => {
    if (node.position) return node;
    const from = graph.edges.find((e) => e.target === node.id && placed.has(e.source));
    const anchor = from ? placed.get(from.source)! : undefined;
    const position = anchor ? { x: anchor.x + NODE_WIDTH + 80, y: anchor.y } : { x: 0, y: (nextFree += NODE_HEIGHT + 40) - NODE_HEIGHT - 40 };
    placed.set(node.id, position);
    return { ...node, position };
  });
  return { ...graph, nodes };
}
