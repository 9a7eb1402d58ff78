/**
 * Per-event cost of compiled filters and transforms (the data plane's hot path).
 * Run: npx tsx test/bench/filters.bench.ts
 */
import { compileFilter } from '@/runtime/expressions/filters/index';
import { compileTransform } from '@/runtime/expressions/transforms/index';

const events = Array.from({ length: 1000 }, (_, i) => ({
  specversion: '1.0',
  id: `evt-${i}`,
  source: i % 3 === 0 ? 'https://github.com/acme/shop' : '/shop/eu',
  type: i % 10 < 7 ? 'com.example.order.created' : 'com.example.order.cancelled',
  subject: `orders/${i}`,
  priority: String(i % 10),
  time: '2024-05-01T10:00:00Z',
  currency: i % 2 ? 'EUR' : 'USD',
  data: { amount: i % 500, currency: i % 2 ? 'EUR' : 'USD', customer: { tier: i % 4 ? 'gold' : 'silver' }, tags: ['a', 'b'] },
}));

const cases: [string, unknown][] = [
  ['exact', { exact: { type: 'com.example.order.created' } }],
  ['prefix+suffix (all)', { all: [{ prefix: { type: 'com.example.' } }, { suffix: { type: '.created' } }] }],
  ['sql simple', { sql: "type = 'com.example.order.created'" }],
  ['sql compound', { sql: "type LIKE 'com.example.%.created' AND (priority > 3 OR source LIKE 'https://%') AND currency NOT IN ('GBP', 'JPY', 'CHF')" }],
  ['sql functions', { sql: "LOWER(SUBSTRING(type, 1, 11)) = 'com.example' AND LENGTH(id) > 3" }],
  ['pattern', { pattern: { type: [{ prefix: 'com.example.' }], data: { amount: [{ numeric: ['>', 100, '<=', 400] }], customer: { tier: ['gold'] } } } }],
  ['pattern $or + anything-but', { pattern: { data: { $or: [{ currency: [{ 'anything-but': ['USD'] }] }, { tags: ['b'] }] } } }],
  ['jq (fast path)', { jq: '.data.amount > 100' }],
  ['jq (wasm)', { jq: '.data.tags | index("b") != null' }],
];

function measure(name: string, fn: (event: (typeof events)[number]) => unknown, minMs = 400): void {
  let passed = 0;
  for (const e of events) if (fn(e)) passed++;
  let iterations = 0;
  // Counting results keeps the optimiser from dropping calls whose value is unused.
  let sink = 0;
  const start = performance.now();
  let elapsed = 0;
  do {
    for (const e of events) if (fn(e)) sink++;
    iterations += events.length;
    elapsed = performance.now() - start;
  } while (elapsed < minMs);
  const opsPerSecond = Math.round((iterations / elapsed) * 1000);
  if (sink < 0) throw new Error('unreachable');
  console.log(`${name.padEnd(36)} ${opsPerSecond.toLocaleString('en-US').padStart(12)} ops/s   (${((passed / events.length) * 100).toFixed(0)}% pass)`);
}

for (const [name, definition] of cases) {
  const predicate = await compileFilter(definition);
  measure(`filter: ${name}`, predicate as (e: unknown) => boolean, name === 'jq (wasm)' ? 1500 : 400);
}

const transforms: [string, unknown][] = [
  ['template', { kind: 'template', values: { id: '$.id', amount: '$.data.amount', tier: '$.data.customer.tier' }, template: '{"id":"${id}","amount":${amount},"tier":"${tier}"}' }],
  ['jq (wasm)', { kind: 'jq', expression: '{id, amount: .data.amount}' }],
];
for (const [name, definition] of transforms) {
  const transform = await compileTransform(definition);
  measure(`transform: ${name}`, transform, name === 'jq (wasm)' ? 1500 : 400);
}
