import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compile } from '@/runtime/compiler/compile';
import { decompile } from '@/runtime/compiler/decompile';
import { hasErrors } from '@/runtime/compiler/diagnostics';
import type { FlowGraph, GraphEdge, GraphNode } from '@/runtime/nodes';

/** A flow as a person builds it: blocks of steps, some of which hold blocks of their own. */
type Step =
  | { type: 'linear'; kind: string; config: Record<string, unknown> }
  | { type: 'raise' }
  | { type: 'for-each'; body: Step[] }
  | { type: 'try-catch'; body: Step[]; handler: Step[] | null; retry: boolean }
  | { type: 'parallel'; branches: Step[][]; compete: boolean }
  | { type: 'switch'; cases: (Step[] | null)[]; fallback: Step[] | null };

const linear = fc.oneof(
  fc.constantFrom('log', 'wait', 'http-request', 'emit-event', 'kafka-publish', 'call-subflow', 'field-mapping', 'template-transform', 'attribute-filter').map((kind) => ({ kind, config: {} })),
  fc.constantFrom('.data', '{ id: .id }', '.data.items | length').map((expression) => ({ kind: 'jq-transform', config: { expression } })),
  fc.constantFrom('.data.total > 10', '.type == "a"').map((expression) => ({ kind: 'jq-filter', config: { expression } })),
  fc.integer({ min: 0, max: 500 }).map((n) => ({ kind: 'data-pattern', config: { pattern: { data: { total: [{ numeric: ['>', n] }] } } } })),
);

const { block } = fc.letrec<{ block: Step[]; step: Step }>((tie) => ({
  block: fc.array(tie('step'), { minLength: 1, maxLength: 4 }),
  step: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    linear.map((l): Step => ({ type: 'linear', ...l })),
    fc.constant<Step>({ type: 'raise' }),
    tie('block').map((body): Step => ({ type: 'for-each', body: body as Step[] })),
    fc.record({ body: tie('block'), handler: fc.option(tie('block')), retry: fc.boolean() }).map((r): Step => ({ type: 'try-catch', body: r.body as Step[], handler: r.handler as Step[] | null, retry: r.retry })),
    fc.record({ branches: fc.array(tie('block'), { minLength: 1, maxLength: 3 }), compete: fc.boolean() }).map((r): Step => ({ type: 'parallel', branches: r.branches as Step[][], compete: r.compete })),
    fc.record({ cases: fc.array(fc.option(tie('block')), { minLength: 1, maxLength: 3 }), fallback: fc.option(tie('block')) }).map((r): Step => ({ type: 'switch', cases: r.cases as (Step[] | null)[], fallback: r.fallback as Step[] | null })),
  ),
}));

function toGraph(source: string | null, steps: Step[], branchLabels: boolean): FlowGraph {
  const nodes: GraphNode[] = [];
  const edges: GraphEdge[] = [];
  const add = (kind: string, config: Record<string, unknown> = {}) => {
    const id = `${kind}-${nodes.length + 1}`;
    nodes.push({ id, kind, position: { x: nodes.length * 10, y: (nodes.length * 7) % 50 }, config });
    return id;
  };
  const connect = (from: string, to: string, port = 'out', label?: string) => edges.push({ id: `e${edges.length + 1}`, source: from, target: to, ...(port === 'out' ? {} : { sourcePort: port }), ...(label ? { label } : {}) });

  /** Adds a block; returns its first node id. A switch or raise ends the block: nothing can follow. */
  const addBlock = (block: Step[]): string => {
    let first: string | undefined;
    let previous: string | undefined;
    for (const step of block) {
      let id: string;
      let terminal = false;
      if (step.type === 'linear') id = add(step.kind, step.config);
      else if (step.type === 'raise') {
        id = add('raise-error');
        terminal = true;
      } else if (step.type === 'for-each') {
        id = add('for-each');
        connect(id, addBlock(step.body), 'body');
      } else if (step.type === 'try-catch') {
        id = add('try-catch', step.retry ? { retry: { attempts: 2 } } : {});
        connect(id, addBlock(step.body), 'try');
        if (step.handler) connect(id, addBlock(step.handler), 'catch');
      } else if (step.type === 'parallel') {
        id = add('parallel', { compete: step.compete });
        step.branches.forEach((branch, i) => connect(id, addBlock(branch), 'branches', branchLabels && i === 0 ? `lane-${nodes.length}` : undefined));
      } else {
        id = add('switch', { cases: step.cases.map((_, i) => ({ name: `case-${i}`, when: `.n == ${i}` })) });
        const switchId = id;
        step.cases.forEach((c, i) => c && connect(switchId, addBlock(c), `case-${i}`));
        if (step.fallback) connect(id, addBlock(step.fallback), 'default');
        terminal = true;
      }
      if (previous !== undefined) connect(previous, id);
      first ??= id;
      previous = id;
      if (terminal) break;
    }
    return first!;
  };

  const sourceId = source ? add(source) : undefined;
  const first = addBlock(steps);
  if (sourceId) connect(sourceId, first);
  return { document: { namespace: 'default', name: 'generated', version: '0.1.0' }, nodes, edges };
}

describe('compile ∘ decompile', () => {
  it('compile ∘ decompile ∘ compile gives the same document for generated graphs', () => {
    fc.assert(
      fc.property(fc.constantFrom(null, 'http-webhook', 'schedule', 'mqtt-source', 'kafka-source'), block, fc.boolean(), (source, steps, labels) => {
        const first = compile(toGraph(source, steps, labels));
        expect(hasErrors(first.diagnostics), JSON.stringify(first.diagnostics)).toBe(false);
        const reopened = decompile(first.document);
        expect(reopened.diagnostics).toEqual([]);
        const second = compile(reopened.graph);
        // Same problems; decompile lists nodes in document order, so they may come in another order.
        const sorted = (d: typeof first.diagnostics) => d.map((x) => JSON.stringify(x)).sort();
        expect(sorted(second.diagnostics)).toEqual(sorted(first.diagnostics));
        expect(second.yaml).toBe(first.yaml);
      }),
      // Each run compiles a flow twice (tens of ms on a busy machine): 100 runs stay far inside the time limit.
      { numRuns: 100 },
    );
  }, 60_000);
});
