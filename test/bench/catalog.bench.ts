/**
 * Per-event cost of the catalog on the ingest path: schema discovery's in-memory summary
 * (`observe`: infer the data's schema and merge it) and ingress validation (`check` against a
 * compiled JSON Schema). No database: the gate's writes happen once a second, off this path.
 * Run: npx tsx test/bench/catalog.bench.ts
 */
import type pg from 'pg';
import { CatalogGate } from '@/runtime/catalog/gate';
import { inferSchema } from '@/runtime/catalog/schema';
import type { CloudEventRecord } from '@/runtime/events/cloudevent';

const events: CloudEventRecord[] = Array.from({ length: 1000 }, (_, i) => ({
  specversion: '1.0',
  id: `evt-${i}`,
  source: '/shop',
  type: `com.example.order.${i % 5}`,
  data: { orderId: `o-${i}`, total: i / 3, currency: 'EUR', customer: { id: `c-${i % 40}`, tier: i % 4 ? 'gold' : 'silver' }, items: [{ sku: 'a', qty: 1 }, { sku: 'b', qty: 2 }] },
}));

const schema = inferSchema(events[0]!.data);
// A pool whose one query answers the validation rules; nothing else is asked of it here.
const pool = {
  query: async () => ({ rows: [0, 1, 2, 3, 4].map((n) => ({ type: `com.example.order.${n}`, validation: 'flag', version: 1, schema, id: `s-${n}` })) }),
} as unknown as pg.Pool;

function measure(name: string, fn: () => void, minMs = 500): void {
  fn();
  let rounds = 0;
  const start = performance.now();
  while (performance.now() - start < minMs) {
    fn();
    rounds++;
  }
  const perEvent = ((performance.now() - start) * 1000) / (rounds * events.length);
  console.log(`${name.padEnd(34)} ${perEvent.toFixed(2).padStart(7)} µs/event  ${Math.round(1e6 / perEvent).toLocaleString('en').padStart(10)} events/s`);
}

const gate = new CatalogGate(pool, () => {});
await gate.start();
measure('discovery observe (infer + merge)', () => gate.observe(events));
measure('validation check (5 types, flag)', () => gate.check(events.map((e) => ({ ...e }))));
await gate.stop().catch(() => {});
process.exit(0);
