/**
 * One model behind the canvas, the YAML and what runs: whatever a person changes in a task's
 * YAML, the graph read back from it compiles to exactly the edited task (what would run), and
 * a node that no longer fits its recorded kind says so. Property-based, for every task kind.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compile } from '@/runtime/compiler/compile';
import { decompile } from '@/runtime/compiler/decompile';
import { withoutMeshflowMetadata } from '@/runtime/compiler/metadata';
import { defaultConfig, isSourceDefinition, paletteDefinitions, type FlowGraph } from '@/runtime/nodes/index';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type Path = (string | number)[];

const taskKinds = paletteDefinitions().filter((def) => !isSourceDefinition(def));
const sourceKinds = paletteDefinitions().filter((def) => isSourceDefinition(def));

/**
 * webhook → the node under test → log, compiled; a composite's inner lists and branches each
 * hold a Log node of their own.
 */
function flowWith(kind: string): FlowGraph {
  const def = paletteDefinitions().find((d) => d.kind === kind)!;
  const outputs = def.ports(def.schema.parse({}) as never).outputs;
  const hasNext = outputs.some((p) => p.id === 'out');
  const inner = outputs.filter((p) => p.role === 'list' || p.role === 'branches');
  return {
    document: { namespace: 'default', name: 'edits', version: '0.1.0' },
    nodes: [
      { id: 'hook', kind: 'http-webhook', position: { x: 0, y: 0 }, config: defaultConfig('http-webhook')! },
      { id: 'step', kind, position: { x: 300, y: 0 }, config: defaultConfig(kind)! },
      ...inner.map((p, i) => ({ id: `inner-${p.id}`, kind: 'log', position: { x: 300, y: 200 + 100 * i }, config: defaultConfig('log')! })),
      ...(hasNext ? [{ id: 'after', kind: 'log', position: { x: 600, y: 0 }, config: defaultConfig('log')! }] : []),
    ],
    edges: [
      { id: 'e1', source: 'hook', target: 'step' },
      ...inner.map((p) => ({ id: `e-${p.id}`, source: 'step', sourcePort: p.id, target: `inner-${p.id}` })),
      ...(hasNext ? [{ id: 'e2', source: 'step', target: 'after' }] : []),
    ],
  };
}

/** The source under test → log, compiled. */
function flowFrom(kind: string): FlowGraph {
  return {
    document: { namespace: 'default', name: 'edits', version: '0.1.0' },
    nodes: [
      { id: 'source', kind, position: { x: 0, y: 0 }, config: defaultConfig(kind)! },
      { id: 'after', kind: 'log', position: { x: 300, y: 0 }, config: defaultConfig('log')! },
    ],
    edges: [{ id: 'e1', source: 'source', target: 'after' }],
  };
}

function taskNamed(document: unknown, name: string): Record<string, Json> | undefined {
  const list = (document as { do: Record<string, Record<string, Json>>[] }).do;
  return list.find((item) => name in item)?.[name];
}

/** Every scalar leaf of a task except its flow directive, the canvas position and nested tasks' own metadata. */
function leaves(value: Json, path: Path = []): { path: Path; value: Json }[] {
  if (path[0] === 'then' || path.includes('position') || path.at(-1) === 'kind' || path.at(-1) === 'then') return [];
  if (Array.isArray(value)) return value.flatMap((item, i) => leaves(item, [...path, i]));
  if (value !== null && typeof value === 'object') return Object.entries(value).flatMap(([k, v]) => leaves(v, [...path, k]));
  return [{ path, value }];
}

function setIn(value: Json, path: Path, next: Json): Json {
  if (path.length === 0) return next;
  const [head, ...rest] = path;
  if (Array.isArray(value)) return value.map((item, i) => (i === head ? setIn(item, rest, next) : item));
  const record = value as Record<string, Json>;
  return { ...record, [head as string]: setIn(record[head as string]!, rest, next) };
}

const replacement = (old: Json): fc.Arbitrary<Json> =>
  typeof old === 'number'
    ? fc.integer({ min: -5, max: 5000 })
    : typeof old === 'boolean'
      ? fc.constant(!old)
      : fc.oneof(fc.stringMatching(/^[a-z][a-z0-9.-]{0,12}$/), fc.constantFrom('.data.total > 50', '${ .data }', 'https://example.test/hook', '{ id: .id }'));

/** What runs: the task without Meshflow's metadata and its flow directive. */
const executable = (task: Record<string, Json> | undefined) => {
  if (!task) return undefined;
  const { then: _then, ...rest } = withoutMeshflowMetadata(task) as Record<string, Json>;
  return rest;
};

describe('editing a task in the YAML', () => {
  for (const def of taskKinds) {
    it(`${def.kind}: the canvas read back runs exactly the edited task, and a changed kind is said on the node`, () => {
      const compiled = compile(flowWith(def.kind));
      expect(compiled.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
      const task = taskNamed(compiled.document, 'step')!;
      const editable = leaves(task);
      if (editable.length === 0) return;
      fc.assert(
        fc.property(
          fc.integer({ min: 0, max: editable.length - 1 }).chain((i) => replacement(editable[i]!.value).map((value) => ({ leaf: editable[i]!, value }))),
          ({ leaf, value }) => {
            const edited = setIn(task, leaf.path, value) as Record<string, Json>;
            const document = structuredClone(compiled.document) as { do: Record<string, Json>[] };
            document.do = document.do.map((item) => ('step' in item ? { step: edited } : item));
            const read = decompile(document);
            if (read.diagnostics.some((d) => d.severity === 'error')) return; // refused outright, with its reason: nothing disagrees
            const node = read.graph.nodes.find((n) => n.id === 'step')!;
            const again = compile(read.graph);
            expect(executable(taskNamed(again.document, 'step'))).toEqual(executable(edited));
            if (node.kind !== def.kind) {
              expect(read.diagnostics).toContainEqual(expect.objectContaining({ severity: 'warning', code: 'kind-changed', nodeId: 'step' }));
            }
          },
        ),
        { numRuns: 25 },
      );
    }, 60_000);
  }

  for (const def of sourceKinds) {
    it(`${def.kind}: a source read back from an edited schedule listens exactly as edited, and a changed kind is said`, () => {
      const compiled = compile(flowFrom(def.kind));
      expect(compiled.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
      const schedule = (compiled.document as unknown as { schedule: Json }).schedule;
      const editable = leaves(schedule);
      if (editable.length === 0) return;
      fc.assert(
        fc.property(
          fc.integer({ min: 0, max: editable.length - 1 }).chain((i) => replacement(editable[i]!.value).map((value) => ({ leaf: editable[i]!, value }))),
          ({ leaf, value }) => {
            const edited = setIn(schedule, leaf.path, value);
            const document = { ...structuredClone(compiled.document), schedule: edited } as unknown as Record<string, unknown>;
            const read = decompile(document);
            if (read.diagnostics.some((d) => d.severity === 'error')) return;
            const again = compile(read.graph);
            expect((again.document as unknown as { schedule: Json }).schedule).toEqual(edited);
            if (!read.graph.nodes.some((n) => n.kind === def.kind)) {
              expect(read.diagnostics).toContainEqual(expect.objectContaining({ severity: 'warning', code: 'kind-changed' }));
            }
          },
        ),
        { numRuns: 20 },
      );
    }, 60_000);
  }

  it('keeps the kind of a node whose edited value its kind can hold (URL, jq expression)', () => {
    const http = compile(flowWith('http-request'));
    const yamlEdited = structuredClone(http.document) as { do: Record<string, Record<string, Json>>[] };
    // The target states its retry, so its call sits in `try`.
    const step = yamlEdited.do.find((item) => 'step' in item)!.step! as unknown as { try: { request: { with: Record<string, Json> } }[] };
    step.try[0]!.request.with.endpoint = 'https://example.test/orders';
    const read = decompile(yamlEdited);
    const node = read.graph.nodes.find((n) => n.id === 'step')!;
    expect(node.kind).toBe('http-request');
    expect(node.config.url).toBe('https://example.test/orders');
    expect(read.diagnostics).toEqual([]);

    const jq = compile(flowWith('jq-transform'));
    const jqEdited = structuredClone(jq.document) as { do: Record<string, Record<string, Json>>[] };
    jqEdited.do.find((item) => 'step' in item)!.step!.set = { result: '${ {total: .data.total} }' };
    const jqNode = decompile(jqEdited).graph.nodes.find((n) => n.id === 'step')!;
    expect(jqNode.kind).toBe('jq-transform');
    expect(jqNode.config.expression).toBe('{total: .data.total}');
  });

  it("turns a data pattern whose `when:` was edited into a jq predicate that runs the edited condition, and says so", () => {
    const compiled = compile(flowWith('data-pattern'));
    const document = structuredClone(compiled.document) as { do: Record<string, Record<string, Json>>[] };
    const step = document.do.find((item) => 'step' in item)!.step!;
    ((step.switch as Json[])[0] as { match: { when: string } }).match.when = '${ .data.total > 50 }';
    const read = decompile(document);
    const node = read.graph.nodes.find((n) => n.id === 'step')!;
    expect(node.kind).toBe('jq-filter');
    expect(node.config.expression).toBe('.data.total > 50');
    expect(read.diagnostics).toEqual([expect.objectContaining({ severity: 'warning', code: 'kind-changed', nodeId: 'step' })]);
    expect(read.diagnostics[0]!.message).toContain('was a Data pattern');
  });

  it('never keeps a pattern edited only in the metadata beside a `when:` that still runs the old one', () => {
    const compiled = compile(flowWith('data-pattern'));
    const document = structuredClone(compiled.document) as { do: Record<string, Record<string, Record<string, Record<string, Json>>>>[] };
    const step = document.do.find((item) => 'step' in item)!.step!;
    step.metadata!.meshflow!.pattern = { data: { total: [{ numeric: ['>', 999] }] } };
    const read = decompile(document);
    const node = read.graph.nodes.find((n) => n.id === 'step')!;
    const runs = executable(taskNamed(compile(read.graph).document, 'step'));
    expect(runs).toEqual(executable(taskNamed(compiled.document, 'step')));
    expect(node.kind).toBe('jq-filter');
    expect(read.diagnostics).toContainEqual(expect.objectContaining({ code: 'kind-changed', nodeId: 'step' }));
  });

  it('says which hand-written metadata the canvas cannot keep, and which the runtime does not read', () => {
    const compiled = compile(flowWith('http-request'));
    const document = structuredClone(compiled.document) as { do: Record<string, Record<string, Record<string, Record<string, Json>>>>[] };
    const step = document.do.find((item) => 'step' in item)!.step!;
    step.metadata!.meshflow!.delivery = { format: 'structured', orderingKey: 'subject' };
    step.metadata!.meshflow!.transform = { kind: 'original' };
    const read = decompile(document);
    expect(read.graph.nodes.find((n) => n.id === 'step')!.kind).toBe('http-request');
    const notes = read.diagnostics.map((d) => [d.code, d.nodeId, d.path?.slice(d.path.indexOf('meshflow') + 1).join('.'), d.message.replace(/^"step": /, '').split(':')[0]]);
    expect(notes).toEqual([
      ['metadata-ignored', 'step', 'transform', 'metadata.meshflow.transform is not read'],
      ['metadata-ignored', 'step', 'delivery.format', 'metadata.meshflow.delivery.format is not kept'],
      ['metadata-ignored', 'step', 'delivery.orderingKey', 'metadata.meshflow.delivery.orderingKey is not kept'],
    ]);
    // A studio flow read back says nothing of the sort.
    expect(decompile(compiled.document).diagnostics).toEqual([]);
  });

  it('says a plain DSL task loses its hand-written delivery options on the canvas', () => {
    const document = {
      document: { dsl: '1.0.0', namespace: 'hand', name: 'hand', version: '0.1.0' },
      schedule: { on: { one: { with: { type: 'com.example.a' } } } },
      do: [{ deliver: { call: 'http', with: { method: 'post', endpoint: 'https://example.com/x' }, metadata: { meshflow: { delivery: { retry: 0 } } } } }],
    };
    const read = decompile(document);
    expect(read.diagnostics).toEqual([expect.objectContaining({ severity: 'warning', code: 'metadata-ignored', nodeId: 'deliver', path: ['do', 0, 'deliver', 'metadata', 'meshflow', 'delivery', 'retry'] })]);
  });
});
