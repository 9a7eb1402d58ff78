import { describe, expect, it } from 'vitest';
import { compile, compileAndValidate } from '@/runtime/compiler/compile';
import type { Diagnostic } from '@/runtime/compiler/diagnostics';
import { demoFlowGraph } from '@/runtime/nodes/demo';
import type { FlowGraphInput, GraphEdge } from '@/runtime/nodes';

type Node = FlowGraphInput['nodes'][number];
const node = (id: string, kind: string, config: Record<string, unknown> = {}): Node => ({ id, kind, config });
const edge = (source: string, target: string, sourcePort?: string): GraphEdge => ({ id: `${source}-${sourcePort ?? 'out'}-${target}`, source, target, ...(sourcePort ? { sourcePort } : {}) });
const flow = (nodes: Node[], edges: GraphEdge[]): FlowGraphInput => ({ document: { name: 'test-flow' }, nodes, edges });
const codes = (diagnostics: Diagnostic[]) => diagnostics.map((d) => [d.code, d.nodeId ?? d.edgeId]);

describe('compile', () => {
  it('compiles the demo flow to this YAML', () => {
    const { yaml, diagnostics } = compile(demoFlowGraph());
    expect(diagnostics).toEqual([]);
    expect(yaml).toMatchSnapshot();
  });

  it('produces a document the engine validates', async () => {
    expect((await compileAndValidate(demoFlowGraph())).diagnostics).toEqual([]);
  });

  it('declares in use.secrets the secrets node expressions name, after those declared by hand', () => {
    const graph = flow([node('probe', 'jq-transform', { expression: '{ a: $secrets.shop_token, b: $secrets["hook-key"] }' })], []);
    expect(compile(graph).document?.use).toEqual({ secrets: ['hook-key', 'shop_token'] });
    expect(compile({ ...graph, workflow: { use: { secrets: ['manual', 'shop_token'] } } }).document?.use).toEqual({ secrets: ['manual', 'shop_token', 'hook-key'] });
    expect(compile(flow([node('probe', 'jq-transform', { expression: '.data' })], [])).document?.use).toBeUndefined();
  });

  it('is deterministic', () => {
    expect(compile(demoFlowGraph()).yaml).toBe(compile(structuredClone(demoFlowGraph())).yaml);
  });

  it('compiles every control structure into a valid document', async () => {
    const graph = flow(
      [
        node('events', 'cloudevents-endpoint'),
        node('route', 'switch', { cases: [{ name: 'big', when: '.data.total > 100' }] }),
        node('fan-out', 'parallel'),
        node('to-kafka', 'kafka-publish'),
        node('to-mqtt', 'mqtt-publish'),
        node('audit', 'log'),
        node('each-line', 'for-each', { in: '.data.lines' }),
        node('guarded', 'try-catch', { retry: { attempts: 2 } }),
        node('call', 'http-request'),
        node('pause', 'wait'),
        node('fail', 'raise-error'),
        node('small', 'emit-event'),
      ],
      [
        edge('events', 'route'),
        edge('route', 'fan-out', 'big'),
        edge('route', 'small', 'default'),
        edge('fan-out', 'to-kafka', 'branches'),
        edge('fan-out', 'to-mqtt', 'branches'),
        edge('to-mqtt', 'audit'),
        edge('fan-out', 'each-line'),
        edge('each-line', 'guarded', 'body'),
        edge('guarded', 'call', 'try'),
        edge('call', 'pause'),
        edge('guarded', 'fail', 'catch'),
      ],
    );
    const { document, diagnostics } = await compileAndValidate(graph);
    expect(diagnostics).toEqual([]);
    expect(document!.do.map((item) => Object.keys(item)[0])).toEqual(['route', 'fan-out', 'each-line', 'small']);
    const fork = document!.do[1]!['fan-out']!.fork as { branches: Record<string, unknown>[] };
    expect(fork.branches.map((b) => Object.keys(b)[0])).toEqual(['to-kafka', 'to-mqtt-branch']);
    expect(document!.do[2]!['each-line']!.then).toBe('end');
  });

  describe('diagnostics', () => {
    it('points at invalid configuration fields', () => {
      const { diagnostics } = compile(flow([node('events', 'cloudevents-endpoint'), node('call', 'http-request', { url: 'not a url', method: 'fetch' })], [edge('events', 'call')]));
      expect(diagnostics.map((d) => [d.code, d.nodeId, d.path])).toEqual([
        ['invalid-config', 'call', ['config', 'method']],
        ['invalid-config', 'call', ['config', 'url']],
      ]);
    });

    it('reports invalid expressions: jq syntax and CESQL', () => {
      const { diagnostics } = compile(
        flow(
          [node('events', 'cloudevents-endpoint'), node('jq', 'jq-filter', { expression: '.a == (1' }), node('sql', 'cesql-filter', { expression: "type = 'a' AND" }), node('or', 'jq-transform', { expression: '.a || .b' })],
          [edge('events', 'jq'), edge('jq', 'sql'), edge('sql', 'or')],
        ),
      );
      expect(codes(diagnostics)).toEqual([
        ['invalid-config', 'sql'],
        ['invalid-expression', 'jq'],
        ['invalid-expression', 'or'],
      ]);
      expect(diagnostics[0]!.message).toContain('invalid CESQL');
    });

    it('reports unconnected nodes and targets no source leads to', () => {
      const { diagnostics } = compile(flow([node('events', 'cloudevents-endpoint'), node('log', 'log'), node('lonely', 'http-request')], [edge('events', 'log')]));
      expect(codes(diagnostics)).toEqual([
        ['unconnected', 'lonely'],
        ['no-source', 'lonely'],
      ]);
    });

    it('reports a loop that nothing can leave as an error, and one a filter or switch decides as a warning', () => {
      const loop = compile(flow([node('a', 'jq-transform'), node('b', 'wait')], [edge('a', 'b'), edge('b', 'a')]));
      expect(codes(loop.diagnostics)).toEqual([
        ['cycle', 'a'],
        ['cycle', 'b'],
      ]);
      expect(loop.diagnostics.map((d) => d.severity)).toEqual(['error', 'error']);
      const decided = compile(flow([node('a', 'jq-transform'), node('check', 'jq-filter')], [edge('a', 'check'), edge('check', 'a')]));
      expect(decided.diagnostics.map((d) => [d.severity, d.code, d.nodeId])).toEqual([
        ['warning', 'cycle', 'a'],
        ['warning', 'cycle', 'check'],
      ]);
      expect(decided.diagnostics[0]!.message).toContain('make sure check can leave the loop');
    });

    it('reports more than one source of the same trigger', () => {
      const { diagnostics } = compile(flow([node('one', 'http-webhook'), node('two', 'mqtt-source'), node('log', 'log')], [edge('one', 'log'), edge('two', 'log')]));
      expect(codes(diagnostics)).toEqual([['multiple-sources', 'two']]);
    });

    it('reports a fan-out without a Parallel node, bad edges and unknown kinds', () => {
      const { diagnostics } = compile(
        flow(
          [node('events', 'cloudevents-endpoint'), node('a', 'log'), node('b', 'log'), node('x', 'teleport')],
          [edge('events', 'a'), edge('events', 'b'), edge('a', 'events'), edge('a', 'b', 'nowhere')],
        ),
      );
      expect(codes(diagnostics)).toEqual([
        ['unknown-kind', 'x'],
        ['fan-out', 'events'],
        ['invalid-edge', 'events'],
        ['invalid-edge', 'a'],
        ['unconnected', 'b'],
        ['no-source', 'b'],
      ]);
    });

    it('reports an edge that leaves its block, and blocks left empty', () => {
      const { diagnostics } = compile(
        flow(
          [node('events', 'cloudevents-endpoint'), node('loop', 'for-each'), node('inside', 'log'), node('after', 'log'), node('empty', 'try-catch')],
          [edge('events', 'loop'), edge('loop', 'inside', 'body'), edge('inside', 'after'), edge('loop', 'after'), edge('after', 'empty')],
        ),
      );
      // The body reaches `after` first, so the loop's own continuation is the edge out of place.
      expect(diagnostics.map((d) => [d.code, d.nodeId, d.edgeId])).toEqual([
        ['unconnected', 'empty', undefined],
        ['cross-scope', 'loop', 'loop-out-after'],
      ]);
    });

    it('rejects input that is not a graph', () => {
      const result = compile({ nodes: 'none' });
      expect(result.document).toBeNull();
      expect(result.diagnostics[0]).toMatchObject({ code: 'invalid-graph', path: ['document'] });
    });
  });
});
