import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compileSchema, describeSchemaError } from '@/runtime/catalog/gate';
import { diffSchemas, fieldPaths, inferSchema, mergeSchemas } from '@/runtime/catalog/schema';

describe('schema inference and merging', () => {
  it('infers nested objects, arrays and date-times; merging makes fields seen once optional and unions types', () => {
    const a = inferSchema({ id: 1, at: '2025-01-31T12:00:00Z', items: [{ sku: 'a' }] });
    expect(a).toEqual({
      type: 'object',
      required: ['at', 'id', 'items'],
      properties: {
        at: { type: 'string', format: 'date-time' },
        id: { type: 'integer' },
        items: { type: 'array', items: { type: 'object', required: ['sku'], properties: { sku: { type: 'string' } } } },
      },
    });
    const merged = mergeSchemas(a, inferSchema({ id: 2.5, items: [], note: null }));
    expect(merged.properties!.id).toEqual({ type: 'number' });
    expect(merged.required).toEqual(['id', 'items']);
    expect(diffSchemas(a, merged)).toEqual(['field at became optional', 'field id changed type from integer to number', 'added field note (null, optional)']);
    expect(fieldPaths(merged).map((f) => f.path)).toEqual(['at', 'id', 'items', 'items[].sku', 'note']);
  });

  it('a merged schema accepts every value it was merged from (property test)', () => {
    fc.assert(
      fc.property(fc.array(fc.jsonValue(), { minLength: 1, maxLength: 5 }), (values) => {
        const schema = values.map(inferSchema).reduce(mergeSchemas);
        const validate = compileSchema(schema);
        return values.every((v) => validate(v));
      }),
      // Each run compiles a schema with Ajv (tens of ms on a busy machine): 100 runs keep the test well inside its time limit.
      { numRuns: 100 },
    );
  });

  it('names the failing field of a validation error as a data path', () => {
    const validate = compileSchema({ type: 'object', required: ['customer'], properties: { customer: { type: 'object', required: ['email'], properties: { email: { type: 'string' } } } } });
    validate({ customer: {} });
    expect(describeSchemaError(validate.errors![0]!)).toEqual({ field: 'data.customer.email', message: 'is required' });
    validate({ customer: { email: 7 } });
    expect(describeSchemaError(validate.errors![0]!)).toEqual({ field: 'data.customer.email', message: 'must be string' });
  });
});
