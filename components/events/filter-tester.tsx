'use client';

import { useMutation } from '@tanstack/react-query';
import { useState } from 'react';
import { useTRPC } from '@/components/trpc-provider';
import { Button } from '@/components/ui/button';

const sampleFilter = JSON.stringify({ all: [{ prefix: { type: 'com.example.order.' } }, { sql: "source LIKE '/shop/%'" }] }, null, 2);
const sampleEvent = JSON.stringify(
  {
    specversion: '1.0',
    id: 'o-1001',
    source: '/shop/orders',
    type: 'com.example.order.created',
    datacontenttype: 'application/json',
    data: { orderId: 'o-1001', total: 129.9, currency: 'EUR' },
  },
  null,
  2,
);

const areaClass =
  'mt-1 block h-56 w-full rounded-md border border-slate-300 bg-white p-2 font-mono text-xs focus:border-indigo-500 focus:outline-none focus:ring-1 focus:ring-indigo-500';

/**
 * Tries a filter (Subscriptions API dialects, `{"pattern": …}` or `{"jq": …}`) on a sample
 * event before deploying it — the same check `meshflow filter` runs.
 */
export function FilterTester() {
  const trpc = useTRPC();
  const [filter, setFilter] = useState(sampleFilter);
  const [event, setEvent] = useState(sampleEvent);
  const test = useMutation(trpc.events.testFilter.mutationOptions());
  const result = test.data;
  return (
    <section aria-labelledby="filter-tester-heading" className="mb-8 rounded-lg bg-white p-4 shadow-sm ring-1 ring-slate-200">
      <h2 id="filter-tester-heading" className="text-base font-semibold">
        Test a filter
      </h2>
      <p className="mb-3 text-sm text-slate-500">
        Subscriptions API dialects (exact, prefix, suffix, all, any, not, sql), a data pattern {'{"pattern": …}'} or a jq
        predicate {'{"jq": "…"}'}, evaluated against a sample CloudEvent without deploying anything.
      </p>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          test.mutate({ filter, event });
        }}
      >
        <div className="grid grid-cols-2 gap-4">
          <label className="text-sm font-medium text-slate-700">
            Filter (JSON)
            <textarea className={areaClass} spellCheck={false} value={filter} onChange={(e) => setFilter(e.target.value)} />
          </label>
          <label className="text-sm font-medium text-slate-700">
            Sample event (structured CloudEvent JSON)
            <textarea className={areaClass} spellCheck={false} value={event} onChange={(e) => setEvent(e.target.value)} />
          </label>
        </div>
        <div className="mt-3 flex items-center gap-3">
          <Button type="submit" disabled={test.isPending}>
            {test.isPending ? 'Testing…' : 'Test filter'}
          </Button>
          <div role="status" aria-live="polite" data-testid="filter-result" className="text-sm">
            {test.error ? <span className="text-rose-700">{test.error.message}</span> : null}
            {result?.ok === true ? (
              result.matches ? (
                <span className="font-medium text-emerald-700">Matches: the event would pass</span>
              ) : (
                <span className="font-medium text-amber-700">No match: the event would be filtered out</span>
              )
            ) : null}
          </div>
        </div>
        {result?.ok === false ? (
          <ul className="mt-3 space-y-1 text-sm text-rose-700" aria-label="Problems">
            {result.problems.map((p, i) => (
              <li key={i}>
                <span className="font-medium">{p.where}</span>
                {p.path ? <code className="mx-1 font-mono">{p.path}</code> : ' '}: {p.message}
              </li>
            ))}
          </ul>
        ) : null}
      </form>
    </section>
  );
}
