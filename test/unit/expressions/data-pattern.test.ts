import { describe, expect, it } from 'vitest';
import { dataPatternSchema, validateFilter } from '@/runtime/expressions/filters/index.ts';
import { compileDataPattern } from '@/runtime/expressions/filters/data-pattern.ts';

const event = {
  specversion: '1.0',
  id: 'o-1',
  source: '/shop/eu',
  type: 'com.example.order.created',
  data: {
    orderId: 'ORD-1234',
    amount: 150.5,
    currency: 'EUR',
    express: true,
    coupon: null,
    tags: ['vip', 'gift'],
    customer: { tier: 'Gold', email: 'ana@example.com', addresses: [{ country: 'PT' }, { country: 'ES' }] },
    file: 'reports/2024/summary.PDF',
  },
};

function test(pattern: unknown, e: unknown = event): boolean {
  const issues: Parameters<typeof compileDataPattern>[2] = [];
  const compiled = compileDataPattern(pattern, '', issues);
  expect(issues).toEqual([]);
  return (compiled as (node: unknown) => boolean)(e);
}

describe('event patterns', () => {
  it.each([
    ['exact string', { type: ['com.example.order.created'] }, true],
    ['exact string, one of several', { type: ['a', 'com.example.order.created'] }, true],
    ['exact string mismatch', { type: ['com.example.order.updated'] }, false],
    ['exact is case-sensitive', { data: { currency: ['eur'] } }, false],
    ['exact number', { data: { amount: [150.5] } }, true],
    ['exact number does not match its string', { data: { amount: ['150.5'] } }, false],
    ['exact boolean', { data: { express: [true] } }, true],
    ['exact null', { data: { coupon: [null] } }, true],
    ['null does not match an absent field', { data: { voucher: [null] } }, false],
    ['array value: any element matches', { data: { tags: ['gift'] } }, true],
    ['array value: no element matches', { data: { tags: ['sale'] } }, false],
    ['nested object', { data: { customer: { tier: ['Gold'] } } }, true],
    ['array of objects', { data: { customer: { addresses: { country: ['ES'] } } } }, true],
    ['array of objects, no match', { data: { customer: { addresses: { country: ['FR'] } } } }, false],
    ['all fields must match', { source: ['/shop/eu'], data: { currency: ['USD'] } }, false],
    ['prefix', { data: { orderId: [{ prefix: 'ORD-' }] } }, true],
    ['prefix mismatch', { data: { orderId: [{ prefix: 'INV-' }] } }, false],
    ['prefix on a number never matches', { data: { amount: [{ prefix: '1' }] } }, false],
    ['suffix', { data: { customer: { email: [{ suffix: '@example.com' }] } } }, true],
    ['suffix mismatch', { data: { customer: { email: [{ suffix: '@example.org' }] } } }, false],
    ['numeric >', { data: { amount: [{ numeric: ['>', 100] }] } }, true],
    ['numeric range inside', { data: { amount: [{ numeric: ['>=', 150.5, '<', 200] }] } }, true],
    ['numeric range outside', { data: { amount: [{ numeric: ['>', 0, '<=', 150] }] } }, false],
    ['numeric =', { data: { amount: [{ numeric: ['=', 150.5] }] } }, true],
    ['numeric on a string never matches', { data: { orderId: [{ numeric: ['>', 0] }] } }, false],
    ['exists true', { data: { coupon: [{ exists: true }] } }, true],
    ['exists true on absent', { data: { voucher: [{ exists: true }] } }, false],
    ['exists false on absent', { data: { voucher: [{ exists: false }] } }, true],
    ['exists false on present', { data: { currency: [{ exists: false }] } }, false],
    ['exists false under a missing parent', { data: { missing: { x: [{ exists: false }] } } }, false],
    ['anything-but value', { data: { currency: [{ 'anything-but': 'USD' }] } }, true],
    ['anything-but value excluded', { data: { currency: [{ 'anything-but': 'EUR' }] } }, false],
    ['anything-but list', { data: { currency: [{ 'anything-but': ['USD', 'EUR'] }] } }, false],
    ['anything-but number', { data: { amount: [{ 'anything-but': 100 }] } }, true],
    ['anything-but does not match an absent field', { data: { voucher: [{ 'anything-but': 'x' }] } }, false],
    ['anything-but prefix', { source: [{ 'anything-but': { prefix: '/shop/us' } }] }, true],
    ['anything-but prefix excluded', { source: [{ 'anything-but': { prefix: '/shop/' } }] }, false],
    ['anything-but suffix', { type: [{ 'anything-but': { suffix: '.deleted' } }] }, true],
    ['anything-but equals-ignore-case', { data: { currency: [{ 'anything-but': { 'equals-ignore-case': ['eur'] } }] } }, false],
    ['anything-but wildcard', { data: { file: [{ 'anything-but': { wildcard: '*.pdf' } }] } }, true],
    ['equals-ignore-case', { data: { customer: { tier: [{ 'equals-ignore-case': 'GOLD' }] } } }, true],
    ['equals-ignore-case mismatch', { data: { customer: { tier: [{ 'equals-ignore-case': 'silver' }] } } }, false],
    ['wildcard', { data: { file: [{ wildcard: 'reports/*/*.PDF' }] } }, true],
    ['wildcard is case-sensitive', { data: { file: [{ wildcard: '*.pdf' }] } }, false],
    ['wildcard escaped star', { data: { orderId: [{ wildcard: 'ORD\\*' }] } }, false],
    ['wildcard with regex characters taken literally', { data: { customer: { email: [{ wildcard: 'ana@example.c?m' }] } } }, false],
    ['several conditions: any holds', { data: { amount: [{ numeric: ['<', 10] }, { numeric: ['>', 100] }] } }, true],
    ['$or: second alternative', { $or: [{ type: ['x'] }, { data: { currency: ['EUR'] } }] }, true],
    ['$or: no alternative', { $or: [{ type: ['x'] }, { data: { currency: ['USD'] } }] }, false],
    ['$or nested, with sibling fields', { data: { currency: ['EUR'], $or: [{ amount: [{ numeric: ['>', 1000] }] }, { express: [true] }] } }, true],
  ])('%s', (_name, pattern, expected) => {
    expect(test(pattern)).toBe(expected);
  });

  it('does not match data that is not an object', () => {
    expect(test({ data: { x: ['y'] } }, { ...event, data: 'plain text' })).toBe(false);
  });
});

describe('invalid patterns', () => {
  it.each([
    [{}, '/pattern: a pattern needs at least one field'],
    [{ type: 'a' }, '/pattern/type: a pattern field must be an array of conditions or a nested pattern object, got string "a"'],
    [{ type: [] }, '/pattern/type: a condition list must not be empty'],
    [{ type: [{ prefix: 1 }] }, '/pattern/type/0/prefix: prefix must be a string, got number 1'],
    [{ type: [{ regex: 'a' }] }, '/pattern/type/0/regex: unknown operator "regex"'],
    [{ type: [{ prefix: 'a', suffix: 'b' }] }, '/pattern/type/0: a condition object must have exactly one operator, got prefix, suffix'],
    [{ n: [{ numeric: ['>'] }] }, '/pattern/n/0/numeric: numeric takes [operator, number]'],
    [{ n: [{ numeric: ['>>', 1] }] }, '/pattern/n/0/numeric/0: unknown numeric operator string ">>"'],
    [{ n: [{ numeric: ['>', '1'] }] }, '/pattern/n/0/numeric/1: expected a number, got string "1"'],
    [{ n: [{ numeric: ['<', 5, '>', 1] }] }, '/pattern/n/0/numeric: a range needs a lower bound (> or >=) then an upper bound'],
    [{ n: [{ numeric: ['>', 5, '<', 1] }] }, '/pattern/n/0/numeric: the lower bound 5 is above the upper bound 1'],
    [{ e: [{ exists: 'yes' }] }, '/pattern/e/0/exists: exists must be true or false'],
    [{ a: [{ 'anything-but': [] }] }, '/pattern/a/0/anything-but: anything-but takes a value, a non-empty array'],
    [{ a: [{ 'anything-but': { numeric: ['>', 1] } }] }, '/pattern/a/0/anything-but/numeric: anything-but does not take "numeric"'],
    [{ $or: [{ a: ['x'] }] }, '/pattern/$or: $or must be an array of at least two alternative patterns'],
    [{ a: [['x']] }, '/pattern/a/0: a condition must be a value or an object'],
    [{ 'a/b': { c: 'x' } }, '/pattern/a~1b/c: a pattern field must be an array'],
  ])('%j', (pattern, message) => {
    const issues = validateFilter({ pattern });
    expect(issues.map((i) => `${i.path}: ${i.message}`).join('\n')).toContain(message);
  });

  it('checks a bare pattern through its zod schema', () => {
    expect(dataPatternSchema.safeParse({ data: { amount: [{ numeric: ['>', 1] }] } }).success).toBe(true);
    const result = dataPatternSchema.safeParse({ data: { amount: [{ numeric: ['>', 'x'] }] } });
    expect(result.error?.issues.map((i) => i.path)).toEqual([['data', 'amount', '0', 'numeric', '1']]);
  });
});
