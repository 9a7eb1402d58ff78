import { describe, expect, it } from 'vitest';
import { compileCesql } from '@/runtime/expressions/cesql';
import { compileDataPattern } from '@/runtime/expressions/filters/data-pattern';
import { loadJqRuntime, type JqValue } from '@/runtime/expressions/jq';
import { cesqlToJq } from '@/runtime/expressions/cesql/jq';
import { dataPatternToJq, filterToJq } from '@/runtime/expressions/filters/jq';

/** Filters compiled to jq must keep exactly the events the runtime's own matchers keep (the differential test in test/unit/events covers generated ones). */
const events: JqValue[] = [
  { specversion: '1.0', id: '1', source: 'https://shop.example.com', type: 'com.example.order.created', priority: '5', data: { total: 150, currency: 'EUR', customer: { tier: 'gold' }, tags: ['a', 'b'] } },
  { specversion: '1.0', id: '2', source: '/eu/shop', type: 'com.example.order.cancelled', priority: '1', data: { total: 20, currency: 'usd', customer: { tier: 'silver' }, tags: [] } },
  { specversion: '1.0', id: '3', source: '/us', type: 'org.other.ping', data: { total: null, items: [{ sku: 'x-1', qty: 3 }] } },
  { specversion: '1.0', id: '4', source: '/us', type: 'com.example.order.created', data: 'plain text' },
];

const run = async (jq: string, event: JqValue) => (await loadJqRuntime()).run(jq, event, () => undefined)[0];

describe('data patterns compiled to jq', () => {
  const patterns: Record<string, unknown>[] = [
    { data: { total: [{ numeric: ['>', 100] }] } },
    { type: [{ prefix: 'com.example.' }], data: { currency: [{ 'equals-ignore-case': 'USD' }] } },
    { data: { tags: ['b'] } },
    { data: { total: [{ exists: true }] } },
    { data: { total: [{ exists: false }] } },
    { data: { currency: [{ 'anything-but': ['EUR'] }] } },
    { data: { currency: [{ 'anything-but': { prefix: 'E' } }] } },
    { type: [{ wildcard: 'com.*.created' }] },
    { data: { items: { sku: [{ suffix: '-1' }] } } },
    { data: { $or: [{ total: [{ numeric: ['>=', 0, '<', 50] }] }, { customer: { tier: ['gold'] } }] } },
    { source: [{ 'anything-but': { wildcard: ['/eu/*', '/us'] } }] },
    { data: { total: [null] } },
  ];
  it.each(patterns.map((p) => [JSON.stringify(p), p] as const))('%s', async (_, pattern) => {
    const test = compileDataPattern(pattern, '', [])!;
    for (const event of events) expect(await run(dataPatternToJq(pattern), event), JSON.stringify(event)).toBe(test(event));
  });
});

describe('CESQL compiled to jq', () => {
  const expressions = [
    "type = 'com.example.order.created'",
    "type LIKE 'com.example.%' AND source LIKE '/%'",
    "NOT (type LIKE '%.created') OR id = '4'",
    "EXISTS priority AND priority <> '1'",
    "id IN ('1', '3')",
    "type NOT LIKE 'org.%'",
  ];
  it.each(expressions)('%s', async (expression) => {
    const compiled = compileCesql(expression);
    for (const event of events) {
      expect(await run(cesqlToJq(expression), event), `${expression} on ${JSON.stringify(event)}`).toBe(compiled.matches(event as never));
    }
  });

  it('refuses functions rather than compiling them to something else', () => {
    expect(() => cesqlToJq('LENGTH(id) > 3')).toThrow(/not supported/);
  });
});

describe('subscription filters compiled to jq', () => {
  it('combines dialects', async () => {
    const jq = filterToJq({ all: [{ prefix: { type: 'com.example.' } }, { not: { exact: { source: '/us' } } }, { any: [{ suffix: { type: '.created' } }, { sql: "id = '2'" }] }] });
    expect(await Promise.all(events.map((e) => run(jq, e)))).toEqual([true, true, false, false]);
  });
});
