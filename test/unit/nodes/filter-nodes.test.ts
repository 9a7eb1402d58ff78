import { describe, expect, it } from 'vitest';
import { getNodeDefinition } from '@/runtime/nodes';

const issues = (kind: string, config: unknown) => getNodeDefinition(kind)!.schema.safeParse(config).error?.issues.map((i) => ({ path: i.path, message: i.message }));

describe('filter and transform nodes refuse what the data plane would refuse at deploy time', () => {
  it('an attribute filter whose sql does not parse, at the filter', () => {
    expect(issues('attribute-filter', { filters: [{ exact: { type: 'x' } }, { sql: 'LENGTH(' }] })).toEqual([{ path: ['filters', 1, 'sql'], message: 'unexpected end of expression, expected a value at 7' }]);
  });

  it('an attribute filter calling a CESQL function, which no compiled document can express', () => {
    expect(issues('attribute-filter', { filters: [{ sql: 'LENGTH(id) > 3' }] })).toEqual([{ path: ['filters'], message: 'function LENGTH() at 0 is not supported in compiled filters' }]);
  });

  it('a template placeholder that names no value', () => {
    expect(issues('template-transform', { values: { id: '$.id' }, template: '${id} ${total}' })).toEqual([{ path: ['template'], message: '${total} names no entry of values (id)' }]);
  });

  it('an equally good flow passes', () => {
    expect(issues('attribute-filter', { filters: [{ all: [{ prefix: { type: 'com.' } }, { sql: "source LIKE '/shop/%'" }] }] })).toBeUndefined();
  });
});
