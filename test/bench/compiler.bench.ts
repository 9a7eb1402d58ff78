/**
 * Compile and decompile time of a 1,000-node flow (target: under 100 ms each).
 * Run: npx tsx test/bench/compiler.bench.ts
 */
import { compile, toYaml } from '@/runtime/compiler/compile';
import { decompile } from '@/runtime/compiler/decompile';
import { withoutMeshflowMetadata } from '@/runtime/compiler/metadata';
import type { FlowGraph, GraphEdge, GraphNode } from '@/runtime/nodes/types';

/** A webhook feeding 1,000 nodes: chains of filters, transforms and targets, a loop or a guarded call every 25 nodes. */
function bigFlow(size: number): FlowGraph {
  const nodes: GraphNode[] = [{ id: 'hook', kind: 'http-webhook', position: { x: 0, y: 0 }, config: { path: 'orders' } }];
  const edges: GraphEdge[] = [];
  const cycle = ['data-pattern', 'jq-transform', 'http-request', 'field-mapping', 'jq-filter', 'log', 'kafka-publish', 'wait'];
  let previous = 'hook';
  for (let i = 1; nodes.length < size; i++) {
    const id = `n${i}`;
    const block = i % 25 === 0 ? (i % 50 === 0 ? 'for-each' : 'try-catch') : undefined;
    nodes.push({ id, kind: block ?? cycle[i % cycle.length]!, position: { x: i * 260, y: 0 }, config: {} });
    edges.push({ id: `e${i}`, source: previous, target: id });
    if (block) {
      const inner = `${id}-inner`;
      nodes.push({ id: inner, kind: 'http-request', position: { x: i * 260, y: 120 }, config: {} });
      edges.push({ id: `e${i}-inner`, source: id, sourcePort: block === 'for-each' ? 'body' : 'try', target: inner });
    }
    previous = id;
  }
  return { document: { namespace: 'default', name: 'big-flow', version: '0.1.0' }, nodes, edges };
}

function measure(label: string, runs: number, fn: () => unknown): void {
  for (let i = 0; i < 3; i++) fn();
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    fn();
    times.push(performance.now() - start);
  }
  times.sort((a, b) => a - b);
  const median = times[Math.floor(times.length / 2)]!;
  console.log(`${label.padEnd(52)} median ${median.toFixed(1).padStart(7)} ms   min ${times[0]!.toFixed(1).padStart(7)} ms   max ${times[times.length - 1]!.toFixed(1).padStart(7)} ms`);
}

const graph = bigFlow(1000);
const compiled = compile(graph);
if (compiled.diagnostics.some((d) => d.severity === 'error')) throw new Error(JSON.stringify(compiled.diagnostics.slice(0, 3)));
const plain = withoutMeshflowMetadata(compiled.document);

console.log(`flow: ${graph.nodes.length} nodes, ${graph.edges.length} edges; YAML ${(compiled.yaml.length / 1024).toFixed(0)} KiB`);
measure('compile (graph → document + YAML)', 20, () => compile(graph));
measure('  of which YAML serialisation', 20, () => toYaml(compiled.document));
const schemas = { 'io.meshflow.http-webhook.message': { type: 'object', properties: { orderId: { type: 'string' }, total: { type: 'number' } } } };
measure('compile with a catalog schema (types through the wires)', 20, () => compile(graph, { schemas }));
measure('decompile (Meshflow document → graph)', 20, () => decompile(compiled.document));
measure('decompile (plain DSL document → graph, no layout)', 20, () => decompile(plain, { layout: false }));
measure('decompile (plain DSL document → graph + auto layout)', 20, () => decompile(plain));
const slice = { ...(plain as Record<string, unknown>), do: (plain as { do: unknown[] }).do.slice(0, 250) };
measure('decompile (plain, 250 top-level tasks, dagre layout)', 5, () => decompile(slice));
