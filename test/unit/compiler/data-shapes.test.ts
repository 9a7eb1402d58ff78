/** Types through the wires: catalog schemas give the data's shape at every node downstream. */
import { describe, expect, it } from 'vitest';
import { compile } from '@/runtime/compiler/compile';
import { fieldsAt } from '@/runtime/compiler/data-shapes';
import { demoFlowGraph } from '@/runtime/nodes/demo';
import type { FlowGraph, GraphNode } from '@/runtime/nodes/types';

const orderSchema = {
  type: 'object',
  properties: {
    orderId: { type: 'string' },
    total: { type: 'number' },
    customer: { type: 'object', properties: { id: { type: 'string' }, tier: { type: 'string' } }, additionalProperties: false },
    items: { type: 'array', items: { type: 'object', properties: { sku: { type: 'string' }, qty: { type: 'integer' } } } },
  },
};
const schemas = { 'com.example.order.created': orderSchema };

/** The demo's webhook → data pattern → transform → HTTP request, with the transform's and extra nodes' configs replaced. */
function demoWith(changes: Record<string, Record<string, unknown>>, extra: { nodes?: GraphNode[]; after?: string } = {}): FlowGraph {
  const g = demoFlowGraph();
  g.nodes = g.nodes.map((n) => (changes[n.id] ? { ...n, config: changes[n.id]! } : n));
  let previous = extra.after;
  for (const node of extra.nodes ?? []) {
    g.nodes.push(node);
    g.edges.push({ id: `${previous}-${node.id}`, source: previous!, target: node.id });
    previous = node.id;
  }
  return g;
}

const paths = (fields: { path: string }[]) => fields.map((f) => f.path);
const fieldProblems = (g: FlowGraph) => compile(g, { schemas }).diagnostics.filter((d) => d.code === 'unknown-field');

describe('types through the wires', () => {
  it('offers the event fields at the first nodes and the transform result after a jq object construction', () => {
    const result = compile(demoFlowGraph(), { schemas });
    expect(paths(fieldsAt(result, 'large-orders'))).toEqual(expect.arrayContaining(['.id', '.type', '.data', '.data.orderId', '.data.total', '.data.customer.id', '.data.items[].sku']));
    // Filters pass the event on unchanged.
    expect(fieldsAt(result, 'summary')).toEqual(fieldsAt(result, 'large-orders'));
    // `{ orderId: .data.orderId, customer: .data.customer.id, total: .data.total }`
    expect(fieldsAt(result, 'notify')).toEqual([
      { path: '.orderId', type: 'string' },
      { path: '.customer', type: 'string' },
      { path: '.total', type: 'number' },
    ]);
    expect(result.diagnostics).toEqual([]);
  });

  it('flags a field a closed object or a scalar cannot have as an error, and one the schema does not list as a warning', () => {
    const problems = fieldProblems(demoWith({ summary: { expression: '{ a: .data.totl, b: .data.total.amount, c: .data.customer.name }' } }));
    expect(problems.map((d) => [d.severity, d.nodeId, d.message])).toEqual([
      ['warning', 'summary', '.data.totl is not in the schema of .data (known fields: orderId, total, customer, items)'],
      ['error', 'summary', '.data.total.amount cannot exist: .data.total is a number'],
      ['error', 'summary', '.data.customer.name cannot exist: .data.customer allows only id, tier'],
    ]);
  });

  it('checks downstream of a transform against what the transform built', () => {
    const g = demoWith({}, { after: 'summary', nodes: [{ id: 'big', kind: 'jq-filter', config: { expression: '.total > 500 and .data.total > 1' } }] });
    g.edges = g.edges.filter((e) => e.id !== 'summary-notify');
    g.edges.push({ id: 'big-notify', source: 'big', target: 'notify' });
    const problems = fieldProblems(g);
    expect(problems).toEqual([expect.objectContaining({ severity: 'error', nodeId: 'big', message: '.data cannot exist: the input allows only orderId, customer, total' })]);
  });

  it('follows field mappings and switch branches', () => {
    const g = demoWith({}, {
      after: 'large-orders',
      nodes: [{ id: 'map', kind: 'field-mapping', config: { mappings: [{ to: 'who', from: '.data.customer.id' }, { to: 'n', from: '.data.items' }] } }],
    });
    g.edges = g.edges.filter((e) => e.id !== 'large-orders-summary' && e.id !== 'summary-notify');
    g.nodes = g.nodes.filter((n) => n.id !== 'summary');
    g.nodes.push({ id: 'route', kind: 'switch', config: { cases: [{ name: 'vip', when: '.who == "c-1"' }] } });
    g.nodes.push({ id: 'vip-log', kind: 'log', config: { message: '.who + .n[0].sku + .missing' } });
    g.edges.push({ id: 'map-route', source: 'map', target: 'route' }, { id: 'route-vip', source: 'route', sourcePort: 'vip', target: 'vip-log' }, { id: 'route-default', source: 'route', sourcePort: 'default', target: 'notify' });
    const result = compile(g, { schemas });
    expect(paths(fieldsAt(result, 'vip-log'))).toEqual(['.who', '.n', '.n[].sku', '.n[].qty']);
    expect(result.diagnostics.filter((d) => d.code === 'unknown-field')).toEqual([
      expect.objectContaining({ severity: 'error', nodeId: 'vip-log', message: '.missing cannot exist: the input allows only who, n' }),
    ]);
  });

  it('gives a try block the try node’s input', () => {
    const g = demoWith({}, { after: 'summary', nodes: [{ id: 'guard', kind: 'try-catch', config: {} }] });
    g.nodes.push({ id: 'inside', kind: 'log', config: { message: '.orderId + .nothing' } });
    g.edges.push({ id: 'guard-inside', source: 'guard', sourcePort: 'try', target: 'inside' });
    expect(fieldProblems(g).map((d) => [d.nodeId, d.message])).toEqual([['inside', '.nothing cannot exist: the input allows only orderId, customer, total']]);
  });

  it('reads a catch condition against the caught error, not the task input', () => {
    // The demo's target retries with the compiled `exceptWhen: ${ .status … }`; its input (the summary) has no status.
    expect(JSON.stringify(compile(demoFlowGraph()).document)).toContain('.status != null');
    expect(fieldProblems(demoFlowGraph())).toEqual([]);
  });

  it('stays silent where it cannot be sure: no schema, pipes and closures, unknown event types', () => {
    const piped = demoWith({ summary: { expression: '.data.items | map(.nope) | { skus: . }' } });
    expect(fieldProblems(piped)).toEqual([]);
    expect(compile(piped, { schemas }).fields.notify).toBeUndefined();
    const typo = demoWith({ summary: { expression: '{ x: .data.nope }' } });
    expect(compile(typo).diagnostics.filter((d) => d.code === 'unknown-field')).toEqual([]);
    expect(compile(typo).fields).toEqual({});
    expect(compile(typo, { schemas: { 'some.other.type': orderSchema } }).fields).toEqual({});
    // A string that merely contains a path is not an expression reading it.
    expect(fieldProblems(demoWith({ summary: { expression: '{ note: ".data.nope" }' } }))).toEqual([]);
  });
});
