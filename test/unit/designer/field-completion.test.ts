import { describe, expect, it } from 'vitest';
import { compile } from '@/runtime/compiler/compile';
import { fieldsAt } from '@/runtime/compiler/data-shapes';
import { configSchemaOf } from '@/components/designer/schema-form';
import { completeFieldPath } from '@/components/designer/field-completion';
import { getNodeDefinition } from '@/runtime/nodes/index';

const orderSchema = {
  type: 'object',
  properties: {
    orderId: { type: 'string' },
    total: { type: 'number' },
    customer: { type: 'object', properties: { id: { type: 'string' }, tier: { type: 'string' } } },
    items: { type: 'array', items: { type: 'object', properties: { sku: { type: 'string' }, qty: { type: 'integer' } } } },
  },
};

/** The fields the compiler infers at a jq transform fed by a webhook of `com.example.order.created`. */
function fieldsAtTransform() {
  const result = compile(
    {
      document: { namespace: 'default', name: 'orders', version: '0.1.0' },
      nodes: [
        { id: 'hook', kind: 'http-webhook', config: { path: 'orders', eventType: 'com.example.order.created' } },
        { id: 'shape', kind: 'jq-transform', config: { expression: '.' } },
      ],
      edges: [{ id: 'e1', source: 'hook', target: 'shape' }],
    },
    { schemas: { 'com.example.order.created': orderSchema } },
  );
  return fieldsAt(result, 'shape');
}

const labels = (before: string, kind: 'jq' | 'runtime' = 'jq') => completeFieldPath(before, fieldsAtTransform(), kind)?.options.map((o) => o.label);

describe('field-path completion in expression fields', () => {
  it('offers the fields of the event type schema under .data', () => {
    const found = completeFieldPath('.data.', fieldsAtTransform());
    expect(found?.from).toBe(6);
    expect(found?.options).toEqual([
      { label: 'orderId', type: 'string' },
      { label: 'total', type: 'number' },
      { label: 'customer', type: 'object' },
      { label: 'items', type: 'array' },
    ]);
  });

  it('offers the CloudEvent attributes and data at the top level', () => {
    expect(labels('.')).toEqual(expect.arrayContaining(['id', 'type', 'source', 'data']));
  });

  it('narrows to the names starting with what is typed, replacing only that part', () => {
    const found = completeFieldPath('{id: .data.cu', fieldsAtTransform());
    expect(found).toEqual({ from: 11, options: [{ label: 'customer', type: 'object' }] });
    expect(labels('.data.customer.')).toEqual(['id', 'tier']);
  });

  it('goes into array items after []', () => {
    expect(labels('[.data.items[].')).toEqual(['sku', 'qty']);
  });

  it('offers nothing where the text is not an input path', () => {
    expect(completeFieldPath('1.', fieldsAtTransform())).toBeUndefined();
    expect(completeFieldPath('$x.', fieldsAtTransform())).toBeUndefined();
    expect(completeFieldPath('"a.', fieldsAtTransform())).toBeUndefined();
    expect(completeFieldPath('.data.nothing.', fieldsAtTransform())).toBeUndefined();
  });

  it('completes runtime-expression fields only inside ${ }', () => {
    expect(labels('https://example.com/.data.', 'runtime')).toBeUndefined();
    expect(labels('${ "https://x/" + .data.', 'runtime')).toContain('orderId');
    expect(labels('${ .data.orderId } .data.', 'runtime')).toBeUndefined();
  });

  it('offers nothing when no schema is known for the source', () => {
    expect(completeFieldPath('.data.', [])).toBeUndefined();
  });
});

describe('expression markers in node definitions', () => {
  it('reach the inspector through the JSON Schema of the node config', () => {
    const expressionOf = (kind: string, field: string) => (configSchemaOf(getNodeDefinition(kind)!)?.properties?.[field] as { expression?: string } | undefined)?.expression;
    expect(expressionOf('jq-transform', 'expression')).toBe('jq');
    expect(expressionOf('jq-filter', 'expression')).toBe('jq');
    expect(expressionOf('http-request', 'body')).toBe('jq');
    expect(expressionOf('http-request', 'url')).toBe('runtime');
    expect(expressionOf('http-request', 'method')).toBeUndefined();
  });
});
