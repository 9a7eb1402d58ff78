import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { compile, toYaml } from '@/runtime/compiler/compile';
import { decompile } from '@/runtime/compiler/decompile';
import { hasErrors } from '@/runtime/compiler/diagnostics';
import { withoutMeshflowMetadata } from '@/runtime/compiler/metadata';
import { demoFlowGraph } from '@/runtime/nodes/demo';
import { comparable, specFiles, readExample } from '@/test/unit/compiler/spec-examples';

describe('decompile of the specification examples', () => {
  it.each(specFiles)('%s opens as a graph and compiles back to an equivalent document', (file) => {
    const original = readExample(file);
    const opened = decompile(original);
    expect(opened.diagnostics).toEqual([]);
    const compiled = compile(opened.graph);
    expect(hasErrors(compiled.diagnostics), JSON.stringify(compiled.diagnostics)).toBe(false);
    expect(comparable(compiled.document)).toEqual(comparable(original));
    // Reopening Meshflow's own output is exact, positions included.
    const reopened = decompile(compiled.document);
    expect(reopened.graph).toEqual(opened.graph);
    expect(compile(reopened.graph).yaml).toBe(compiled.yaml);
  });

  it('lays out documents without positions, left to right, without overlaps', () => {
    const original = readExample('switch-then-string.yaml');
    const { nodes } = decompile(original).graph;
    expect(nodes.every((n) => n.position)).toBe(true);
    const spots = new Set(nodes.map((n) => `${n.position!.x},${n.position!.y}`));
    expect(spots.size).toBe(nodes.length);
    const x = (id: string) => nodes.find((n) => n.id === id)!.position!.x;
    expect(x('processOrder')).toBeLessThan(x('processElectronicOrder'));
  });

  it('turns a switch into one edge per case', () => {
    const original = readExample('switch-then-string.yaml');
    const { graph } = decompile(original);
    expect(graph.edges.filter((e) => e.source === 'processOrder').map((e) => [e.sourcePort, e.target])).toEqual([
      ['case:case1', 'processElectronicOrder'],
      ['case:case2', 'processPhysicalOrder'],
      ['case:default', 'handleUnknownOrderType'],
    ]);
  });
});

describe('decompile of Meshflow documents edited by hand', () => {
  const demo = compile(demoFlowGraph()).document!;

  it('keeps the node kind when the edit still fits it', () => {
    const edited = parse(toYaml(demo).replace('http://localhost:4010/orders', 'https://fulfilment.example.com/orders')) as unknown;
    const node = decompile(edited).graph.nodes.find((n) => n.id === 'notify')!;
    expect(node.kind).toBe('http-request');
    expect(node.config.url).toBe('https://fulfilment.example.com/orders');
    expect(node.position).toEqual({ x: 840, y: 0 });
  });

  it('falls back to the generic node of the task type when it no longer fits, losing nothing', () => {
    const edited = structuredClone(demo) as { do: Record<string, Record<string, unknown>>[] };
    edited.do[1]!.summary!.export = { as: '${ $context }' };
    const { graph } = decompile(edited);
    const node = graph.nodes.find((n) => n.id === 'summary')!;
    expect(node.kind).toBe('dsl-set');
    expect(node.position).toEqual({ x: 560, y: 0 });
    expect(withoutMeshflowMetadata(compile(graph).document)).toEqual(withoutMeshflowMetadata(edited));
  });

  it('reports what is not a workflow', () => {
    expect(decompile({ do: [] }).diagnostics[0]).toMatchObject({ severity: 'error', code: 'invalid-document', path: ['document'] });
    const unknownTask = { document: { dsl: '1.0.0', namespace: 'a', name: 'b', version: '1' }, do: [{ x: { frobnicate: {} } }] };
    expect(decompile(unknownTask).diagnostics[0]).toMatchObject({ code: 'invalid-document', nodeId: 'x' });
  });
});
