'use client';

import { useSubscription } from '@trpc/tanstack-react-query';
import Link from 'next/link';
import { useState } from 'react';
import { useTRPC } from '@/components/trpc-provider';
import { formatTime } from '@/components/ui/format';
import { ErrorState } from '@/components/ui/states';
import { PageHeader, Table, Td } from '@/components/ui/table';
import { Button } from '@/components/ui/button';
import type { EventSummary } from '@/server/services/events';
import { FilterTester } from './filter-tester';

/** The tail streams the same rows the event list returns. */
type TailEvent = EventSummary;

const KEEP = 200;
const inputClass = 'rounded-md border border-slate-300 px-2 py-1 text-sm';

/** The event log as a live tail over SSE: filter by type, source or subject; pause to read. */
export function EventList() {
  const trpc = useTRPC();
  const [filter, setFilter] = useState({ type: '', source: '', subject: '' });
  const [applied, setApplied] = useState(filter);
  // While paused the list stands still; what arrives meanwhile is held and shown on resume.
  const [view, setView] = useState<{ paused: boolean; shown: TailEvent[]; held: TailEvent[] }>({ paused: false, shown: [], held: [] });
  const { paused, shown: events, held } = view;

  const input = {
    ...(applied.type ? { type: applied.type } : {}),
    ...(applied.source ? { source: applied.source } : {}),
    ...(applied.subject ? { subject: applied.subject } : {}),
  };
  const tail = useSubscription(
    trpc.events.tail.subscriptionOptions(input, {
      onData: (tracked) => {
        const event = tracked.data;
        setView((v) => (v.paused ? { ...v, held: [...v.held, event].slice(-KEEP) } : { ...v, shown: [event, ...v.shown].slice(0, KEEP) }));
      },
    }),
  );

  return (
    <>
      <PageHeader
        title="Events"
        description="The event log, live: every CloudEvent the mesh accepts appears here as it is logged."
        actions={
          <div className="flex items-center gap-3">
            <span data-testid="tail-status" className="text-sm text-slate-500">
              {paused ? `Paused${held.length ? ` · ${held.length} waiting` : ''}` : tail.status === 'pending' ? 'Live' : tail.status === 'connecting' ? 'Connecting…' : tail.status}
            </span>
            <Button
              variant="secondary"
              onClick={() => setView((v) => (v.paused ? { paused: false, shown: [...[...v.held].reverse(), ...v.shown].slice(0, KEEP), held: [] } : { ...v, paused: true }))}
            >{paused ? 'Resume' : 'Pause'}</Button>
          </div>
        }
      />
      <form
        role="search"
        aria-label="Filter events"
        className="mb-4 flex flex-wrap items-end gap-3"
        onSubmit={(e) => {
          e.preventDefault();
          setView((v) => ({ ...v, shown: [], held: [] }));
          setApplied(filter);
        }}
      >
        {(['type', 'source', 'subject'] as const).map((name) => (
          <label key={name} className="text-sm text-slate-700">
            {name[0]!.toUpperCase() + name.slice(1)}
            <input
              aria-label={`Filter by ${name}`}
              placeholder="starts with…"
              className={`${inputClass} ml-2`}
              value={filter[name]}
              onChange={(e) => setFilter({ ...filter, [name]: e.target.value })}
            />
          </label>
        ))}
        <Button type="submit" variant="secondary">Apply</Button>
      </form>
      {tail.error ? <ErrorState message={tail.error.message} /> : null}
      <Table label="Events" head={['Type', 'Source', 'Id', 'Subject', 'Received']}>
        {events.map((e) => (
          <tr key={e.seq}>
            <Td className="font-mono text-xs">
              <Link className="text-indigo-700 hover:underline" href={`/events/${e.seq}`}>{e.type}</Link>
            </Td>
            <Td className="font-mono text-xs">{e.source}</Td>
            <Td className="font-mono text-xs">{e.id}</Td>
            <Td>{e.subject ?? '—'}</Td>
            <Td>{formatTime(e.receivedAt)}</Td>
          </tr>
        ))}
      </Table>
      {events.length === 0 ? <p className="mt-3 text-sm text-slate-500">Waiting for events… post a CloudEvent to the worker’s /events endpoint or a webhook.</p> : null}
      <div className="mt-8">
        <FilterTester />
      </div>
    </>
  );
}
