import { describe, expect, it } from 'vitest';
import { compile, compileAndValidate } from '@/runtime/compiler/compile';
import { documentNameFor } from '@/runtime/compiler/document-name';
import { demoFlowGraph } from '@/runtime/nodes/demo';

/** The engine validator's pattern for `document.name` (runtime/engine/validate.ts). */
const DSL_NAME = /^[a-z0-9](-?[a-z0-9])*$/;

describe('document names from flow titles', () => {
  it.each([
    ['Order notifications', 'order-notifications'],
    ['  Orders → Billing (v2)!  ', 'orders-billing-v2'],
    ['Crème brûlée', 'creme-brulee'],
    ['ALL_CAPS__and  spaces', 'all-caps-and-spaces'],
    ['日本語', 'flow'],
    ['', 'flow'],
    ['x'.repeat(62) + ' y', 'x'.repeat(62)],
  ])('%j → %j', (title, name) => {
    expect(documentNameFor(title)).toBe(name);
    expect(documentNameFor(title)).toMatch(DSL_NAME);
    expect(documentNameFor(title).length).toBeLessThanOrEqual(63);
  });

  // Validation loads the DSL SDK (seconds on a busy machine).
  it('is the name the compiler writes when given, and leaves the graph’s own otherwise', { timeout: 60_000 }, async () => {
    const graph = { ...demoFlowGraph(), document: { ...demoFlowGraph().document, name: 'flow' } };
    expect(compile(graph).document?.document.name).toBe('flow');
    const named = await compileAndValidate(graph, { name: documentNameFor('Big orders to fulfilment') });
    expect(named.document?.document.name).toBe('big-orders-to-fulfilment');
    expect(named.yaml).toContain('name: big-orders-to-fulfilment');
    expect(named.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  });
});
