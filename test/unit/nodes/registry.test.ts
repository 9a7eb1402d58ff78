import { describe, expect, it } from 'vitest';
import { compile } from '@/runtime/compiler/compile';
import { decompile } from '@/runtime/compiler/decompile';
import { hasErrors } from '@/runtime/compiler/diagnostics';
import { validateDocument } from '@/runtime/compiler/validate';
import { defaultConfig, getNodeDefinition, isSourceDefinition, nodeCategories, nodeDefinitions, paletteDefinitions, type FlowGraphInput, type GraphEdge } from '@/runtime/nodes';

/** The smallest flow a kind makes sense in: fed by a source, every block output wired to a log. */
function flowAround(kind: string): FlowGraphInput {
  const def = getNodeDefinition(kind)!;
  const nodes: FlowGraphInput['nodes'] = [{ id: 'subject', kind, position: { x: 0, y: 0 }, config: {} }];
  const edges: GraphEdge[] = [];
  if (isSourceDefinition(def)) {
    nodes.push({ id: 'after', kind: 'log', position: { x: 300, y: 0 } });
    edges.push({ id: 'e-after', source: 'subject', target: 'after' });
  } else {
    nodes.unshift({ id: 'events', kind: 'cloudevents-endpoint', position: { x: -300, y: 0 } });
    edges.push({ id: 'e-in', source: 'events', target: 'subject' });
    for (const port of def.ports(defaultConfig(kind)!).outputs) {
      if (port.role !== 'list' && port.role !== 'branches') continue;
      nodes.push({ id: `${port.id}-step`, kind: 'log', position: { x: 300, y: 100 } });
      edges.push({ id: `e-${port.id}`, source: 'subject', sourcePort: port.id, target: `${port.id}-step` });
    }
  }
  return { document: { name: `contract-${kind}` }, nodes, edges };
}

describe('node registry', () => {
  it('has unique kinds with complete metadata', () => {
    expect(new Set(nodeDefinitions.map((d) => d.kind)).size).toBe(nodeDefinitions.length);
    for (const def of nodeDefinitions) {
      expect(def.title, def.kind).not.toBe('');
      expect(def.description.length, def.kind).toBeGreaterThan(10);
      expect(def.icon, def.kind).toMatch(/^[a-z0-9-]+$/);
      expect(nodeCategories, def.kind).toContain(def.category);
    }
  });

  it('offers every required kind in the palette, by category', () => {
    const kinds = (category: Parameters<typeof paletteDefinitions>[0]) => paletteDefinitions(category).map((d) => d.kind);
    expect(kinds('source')).toEqual(['http-webhook', 'cloudevents-endpoint', 'schedule', 'mqtt-source', 'nats-source', 'rabbitmq-source', 'redis-stream-source', 'kafka-source']);
    expect(kinds('filter')).toEqual(['attribute-filter', 'data-pattern', 'cesql-filter', 'jq-filter']);
    expect(kinds('transform')).toEqual(['jq-transform', 'template-transform', 'field-mapping']);
    expect(kinds('control')).toEqual(['switch', 'parallel', 'for-each', 'wait', 'try-catch', 'raise-error']);
    expect(kinds('target')).toEqual(['http-request', 'mqtt-publish', 'nats-publish', 'rabbitmq-publish', 'redis-publish', 'kafka-publish', 'emit-event', 'call-subflow', 'log']);
    expect(paletteDefinitions().some((d) => d.generic)).toBe(false);
  });

  it('gives connectors a runtime binding', () => {
    for (const kind of ['http-webhook', 'mqtt-source', 'nats-source', 'rabbitmq-source', 'redis-stream-source', 'kafka-source']) {
      expect(getNodeDefinition(kind)!.binding?.direction, kind).toBe('source');
    }
    for (const kind of ['http-request', 'mqtt-publish', 'nats-publish', 'rabbitmq-publish', 'redis-publish', 'kafka-publish']) {
      expect(getNodeDefinition(kind)!.binding?.direction, kind).toBe('target');
    }
  });

  describe.each(nodeDefinitions.map((d) => d.kind))('%s', (kind) => {
    it('parses its default config', () => {
      expect(() => getNodeDefinition(kind)!.schema.parse({})).not.toThrow();
    });

    it('compiles its default config to a valid DSL 1.0 document', async () => {
      const graph = flowAround(kind);
      const { document, diagnostics } = compile(graph);
      expect(hasErrors(diagnostics), JSON.stringify(diagnostics)).toBe(false);
      expect(await validateDocument(document, new Set(graph.nodes.map((n) => n.id)))).toEqual([]);
    });

    it('round-trips through decompile to the same kinds and configs', () => {
      const graph = flowAround(kind);
      const { document } = compile(graph);
      const back = decompile(document);
      expect(back.diagnostics).toEqual([]);
      const byId = new Map(back.graph.nodes.map((n) => [n.id, n]));
      for (const node of graph.nodes) {
        const again = byId.get(node.id);
        expect(again?.kind).toBe(node.kind);
        expect(again?.config).toEqual(getNodeDefinition(node.kind)!.schema.parse(node.config ?? {}));
        expect(again?.position).toEqual(node.position);
      }
      expect(back.graph.edges.map((e) => `${e.source}:${e.sourcePort ?? 'out'}->${e.target}`).sort()).toEqual(
        graph.edges.map((e) => `${e.source}:${e.sourcePort ?? 'out'}->${e.target}`).sort(),
      );
    });
  });
});
