import { describe, expect, it } from 'vitest';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { compile } from '@/runtime/compiler/compile';
import { planFromDocument } from '@/runtime/events/plan';
import { paletteDefinitions } from '@/runtime/nodes/index';
import { connectionProblem } from '@/components/designer/graph-model';
import { readImportedFile, flowFile } from '@/components/designer/flow-file';
import { hasIcon } from '@/components/designer/node-icon';
import { createDesignerStore } from '@/components/designer/store';
import { readFlowYaml } from '@/components/designer/yaml-sync';

function pipeline() {
  const store = createDesignerStore();
  const s = () => store.getState();
  const hook = s().addNode('http-webhook', { x: 0, y: 0 })!;
  const filter = s().addNode('data-pattern', { x: 300, y: 0 })!;
  const target = s().addNode('http-request', { x: 600, y: 0 })!;
  expect(s().connect({ source: hook, target: filter })).toBe(true);
  expect(s().connect({ source: filter, sourceHandle: 'out', target })).toBe(true);
  return { store, s, hook, filter, target };
}

describe('designer store', () => {
  it('builds a graph that compiles to a webhook → filter → HTTP flow', () => {
    const { s } = pipeline();
    const result = compile(s().graph());
    expect(result.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    expect(result.yaml).toContain('call: http');
    expect(s().graph().nodes.map((n) => n.id)).toEqual(['http-webhook-1', 'data-pattern-1', 'http-request-1']);
  });

  it('refuses wires into a source, duplicate wires and a second wire from a single output', () => {
    const { s, hook, filter, target } = pipeline();
    expect(s().connect({ source: target, target: hook })).toBe(false);
    expect(s().notice).toMatch(/source: it has no input/);
    expect(s().connect({ source: hook, target: filter })).toBe(false);
    expect(s().connect({ source: hook, target })).toBe(false);
    expect(s().notice).toMatch(/already wired/);
    expect(connectionProblem(s().nodes, s().edges, { source: filter, target: filter })).toMatch(/itself/);
    expect(s().edges).toHaveLength(2);
  });

  it('undoes and redoes edits, folding keystrokes in one field into one step', () => {
    const { s, target } = pipeline();
    const before = s().graph();
    s().updateNode(target, { config: { ...s().nodes[2]!.data.config, url: 'https://a.example' } });
    s().updateNode(target, { config: { ...s().nodes[2]!.data.config, url: 'https://ab.example' } });
    expect(s().graph().nodes[2]!.config.url).toBe('https://ab.example');
    s().undo();
    expect(s().graph()).toEqual(before);
    s().redo();
    expect(s().graph().nodes[2]!.config.url).toBe('https://ab.example');
  });

  it('deletes the selection with its wires, and undo restores both', () => {
    const { s, filter } = pipeline();
    s().select([filter]);
    s().deleteSelection();
    expect(s().nodes.map((n) => n.id)).toEqual(['http-webhook-1', 'http-request-1']);
    expect(s().edges).toEqual([]);
    s().undo();
    expect(s().nodes).toHaveLength(3);
    expect(s().edges).toHaveLength(2);
  });

  it('pastes copied nodes with fresh ids, offset, and the wires between them', () => {
    const { s, hook, filter } = pipeline();
    s().select([hook, filter]);
    s().copy();
    s().paste();
    const ids = s().nodes.map((n) => n.id);
    expect(ids).toEqual(['http-webhook-1', 'data-pattern-1', 'http-request-1', 'http-webhook-2', 'data-pattern-2']);
    expect(s().edges.at(-1)).toMatchObject({ source: 'http-webhook-2', target: 'data-pattern-2' });
    expect(s().nodes[3]!.position).toEqual({ x: 40, y: 40 });
    expect(s().nodes.filter((n) => n.selected).map((n) => n.id)).toEqual(['http-webhook-2', 'data-pattern-2']);
  });

  it('records a drag as one undo step when it ends', () => {
    const { s, hook } = pipeline();
    const steps = s().past.length;
    s().onNodesChange([{ type: 'position', id: hook, position: { x: 10, y: 10 }, dragging: true }]);
    s().onNodesChange([{ type: 'position', id: hook, position: { x: 50, y: 60 }, dragging: true }]);
    s().onNodesChange([{ type: 'position', id: hook, dragging: false }]);
    expect(s().past.length).toBe(steps + 1);
    expect(s().nodes[0]!.position).toEqual({ x: 50, y: 60 });
    s().undo();
    expect(s().nodes[0]!.position).toEqual({ x: 0, y: 0 });
  });

  it('auto-layout places every node apart', () => {
    const { s } = pipeline();
    s().onNodesChange(s().nodes.map((n) => ({ type: 'position' as const, id: n.id, position: { x: 0, y: 0 }, dragging: false })));
    s().layout();
    const xs = new Set(s().nodes.map((n) => n.position.x));
    expect(xs.size).toBe(3);
  });
});

describe('YAML and files', () => {
  it('reads the compiled YAML back into the same graph', () => {
    const { s } = pipeline();
    const reading = readFlowYaml(compile(s().graph()).yaml);
    expect(reading.problems.filter((p) => p.severity === 'error')).toEqual([]);
    expect(reading.graph?.nodes.map((n) => [n.id, n.kind])).toEqual(s().graph().nodes.map((n) => [n.id, n.kind]));
  });

  it('places YAML problems on their line', () => {
    expect(readFlowYaml('document:\n  dsl: 1.0.0\ndo: [unclosed').problems[0]).toMatchObject({ line: 3, severity: 'error' });
    const missing = readFlowYaml('document:\n  dsl: 1.0.0\n  namespace: x\n  version: 1.0.0\ndo: []\n');
    expect(missing.graph).toBeUndefined();
    expect(missing.problems[0]?.line).toBe(2);
  });

  it('imports a flow file with its layout and labels', () => {
    const { s } = pipeline();
    s().updateNode('http-request-1', { label: 'Fulfilment' });
    const reading = readImportedFile(flowFile('orders', s().graph()));
    expect(reading.name).toBe('orders');
    expect(reading.graph).toEqual(s().graph());
  });
});

describe('palette', () => {
  it('has an icon for every kind it offers', () => {
    expect(paletteDefinitions().filter((d) => !hasIcon(d.icon)).map((d) => d.kind)).toEqual([]);
  });
});

describe('designer store: trust in edits', () => {
  it('undoes a run of YAML edits in one step, back to exactly the graph before them', () => {
    const { s } = pipeline();
    const before = s().graph();
    const yaml = compile(before).yaml;
    // Typing in the YAML panel reads the text at every keystroke; each reading replaces the graph.
    for (const amount of ['1', '10', '100']) {
      const reading = readFlowYaml(yaml.replace('https://example.com/hooks/orders', `https://example.com/hooks/orders-${amount}`));
      s().replaceGraph(reading.graph!, 'yaml', reading.notices);
    }
    expect(s().graph().nodes[2]!.config.url).toBe('https://example.com/hooks/orders-100');
    s().undo();
    expect(s().graph().nodes).toEqual(before.nodes);
    expect(s().graph().edges.map((e) => [e.source, e.target])).toEqual(before.edges.map((e) => [e.source, e.target]));
    s().redo();
    expect(s().graph().nodes[2]!.config.url).toBe('https://example.com/hooks/orders-100');
    expect(s().edges).toHaveLength(2);
  });

  it('keeps the warning of a node the YAML turned into another kind until the node goes', () => {
    const { s, filter } = pipeline();
    const yaml = compile(s().graph()).yaml.replace(/when: .*\n/, 'when: ${ .data.total > 50 }\n');
    const reading = readFlowYaml(yaml);
    s().replaceGraph(reading.graph!, 'yaml', reading.notices);
    expect(s().nodes.find((n) => n.id === filter)!.data.kind).toBe('jq-filter');
    expect(s().notices).toEqual([expect.objectContaining({ code: 'kind-changed', nodeId: filter })]);
    s().updateNode(filter, { label: 'big orders' });
    expect(s().notices).toHaveLength(1);
    s().deleteElements([filter]);
    expect(s().notices).toEqual([]);
  });

  it('shows what runs when the YAML gives a transform node a transform of its own in its metadata', () => {
    const store = createDesignerStore();
    const s = () => store.getState();
    const hook = s().addNode('http-webhook', { x: 0, y: 0 })!;
    const shape = s().addNode('jq-transform', { x: 300, y: 0 })!;
    const target = s().addNode('http-request', { x: 600, y: 0 })!;
    s().updateNode(shape, { config: { expression: '{ total: .data.total }' } });
    s().updateNode(target, { config: { ...s().graph().nodes[2]!.config, url: 'https://example.com/orders' } });
    s().connect({ source: hook, target: shape });
    s().connect({ source: shape, target });
    const document = parseYaml(compile(s().graph()).yaml) as { do: Record<string, { metadata: { meshflow: Record<string, unknown> } }>[] };
    document.do.find((item) => shape in item)![shape]!.metadata.meshflow.transform = { kind: 'constant', value: { fixed: true } };
    const edited = stringifyYaml(document);
    const reading = readFlowYaml(edited);
    // The editor marks the metadata's transform as not read, in place, and the node carries the warning.
    const warning = reading.problems.find((p) => p.severity === 'warning')!;
    expect(warning.message).toContain('metadata.meshflow.transform is not read');
    expect(edited.split('\n')[warning.line - 1]).toContain('kind: constant');
    s().replaceGraph(reading.graph!, 'yaml', reading.notices);
    expect(s().notices).toEqual([expect.objectContaining({ code: 'metadata-ignored', nodeId: shape })]);
    // The canvas keeps the task's transform, and what it compiles to runs as the edited YAML does.
    expect(s().graph().nodes.find((n) => n.id === shape)).toMatchObject({ kind: 'jq-transform', config: { expression: '{ total: .data.total }' } });
    expect(planFromDocument(compile(s().graph()).document)).toEqual(planFromDocument(parseYaml(edited)));
  });

  it('drops a node where it overlaps no other, however often the same spot is chosen', () => {
    const store = createDesignerStore();
    for (let i = 0; i < 4; i++) store.getState().addNode('log', { x: 100, y: 100 });
    const boxes = store.getState().nodes.map((n) => n.position);
    for (const [i, a] of boxes.entries()) {
      for (const b of boxes.slice(i + 1)) expect(Math.abs(a.x - b.x) >= 220 || Math.abs(a.y - b.y) >= 72).toBe(true);
    }
  });

  it('wires from the keyboard: an output chosen, then an input', () => {
    const store = createDesignerStore();
    const s = () => store.getState();
    const a = s().addNode('jq-transform', { x: 0, y: 0 })!;
    const b = s().addNode('log', { x: 300, y: 0 })!;
    expect(s().finishWire(b)).toBe(false);
    s().startWire(a, 'out');
    expect(s().notice).toMatch(/press Enter/);
    expect(s().finishWire(b)).toBe(true);
    expect(s().edges.map((e) => [e.source, e.target])).toEqual([[a, b]]);
    s().startWire(b, 'out');
    s().cancelWire();
    expect(s().pendingWire).toBeUndefined();
  });
});
