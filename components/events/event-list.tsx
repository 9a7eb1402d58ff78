'use client';

import { useQueryClient } from '@tanstack/react-query';
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

/**
 * The event log as a live tail over SSE: filter by type, source or subject; pause to read;
 * page back through older events, newest first by sequence number.
 */
export function EventList() {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const [filter, setFilter] = useState({ type: '', source: '', subject: '' });
  const [applied, setApplied] = useState(filter);
  // While paused the list stands still; what arrives meanwhile is held and shown on resume.
  // Once older pages are loaded the live head is no longer trimmed, so the list stays gapless.
  const [view, setView] = useState<{ paused: boolean; shown: TailEvent[]; held: TailEvent[]; paged: boolean; exhausted: boolean }>({
    paused: false,
    shown: [],
    held: [],
    paged: false,
    exhausted: false,
  });
  const [loadingOlder, setLoadingOlder] = useState(false);
  const [olderError, setOlderError] = useState<string>();
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
        setView((v) => {
          if (v.shown.some((e) => e.seq === event.seq)) return v;
          if (v.paused) return { ...v, held: v.paged ? [...v.held, event] : [...v.held, event].slice(-KEEP) };
          const shown = [event, ...v.shown];
          return { ...v, shown: v.paged ? shown : shown.slice(0, KEEP) };
        });
      },
    }),
  );

  const loadOlder = async () => {
    const oldest = events[events.length - 1];
    setLoadingOlder(true);
    setOlderError(undefined);
    try {
      const page = await queryClient.fetchQuery(
        trpc.events.list.queryOptions({ ...input, limit: 100, ...(oldest ? { beforeSeq: oldest.seq } : {}) }),
      );
      setView((v) => {
        const known = new Set(v.shown.map((e) => e.seq));
        return { ...v, shown: [...v.shown, ...page.items.filter((e) => !known.has(e.seq))], paged: true, exhausted: page.nextCursor === null };
      });
    } catch (error) {
      setOlderError((error as Error).message);
    } finally {
      setLoadingOlder(false);
    }
  };

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
              onClick={() =>
                setView((v) => {
                  if (!v.paused) return { ...v, paused: true };
                  const shown = [...[...v.held].reverse(), ...v.shown];
                  return { ...v, paused: false, shown: v.paged ? shown : shown.slice(0, KEEP), held: [] };
                })
              }
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
          setView((v) => ({ ...v, shown: [], held: [], paged: false, exhausted: false }));
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
      {olderError ? <ErrorState message={olderError} /> : null}
      {events.length > 0 && !view.exhausted ? (
        <div className="mt-3">
          <Button variant="secondary" disabled={loadingOlder} onClick={() => void loadOlder()}>
            {loadingOlder ? 'Loading…' : 'Load older events'}
          </Button>
        </div>
      ) : null}
      {view.exhausted ? <p className="mt-3 text-sm text-slate-500">That is the oldest event in the log{Object.keys(input).length > 0 ? ' matching the filter' : ''}.</p> : null}
      <div className="mt-8">
        <FilterTester />
      </div>
    </>
  );
}
