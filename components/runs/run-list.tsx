'use client';

import { useInfiniteQuery, useQuery } from '@tanstack/react-query';
import Link from 'next/link';
import { useState } from 'react';
import { useTRPC } from '@/components/trpc-provider';
import { Button } from '@/components/ui/button';
import { formatTime } from '@/components/ui/format';
import { EmptyState, ErrorState, LoadingRows } from '@/components/ui/states';
import { PageHeader, Table, Td } from '@/components/ui/table';
import { StatusPill } from './run-status';

const STATUSES = ['pending', 'running', 'waiting', 'retrying', 'suspended', 'completed', 'faulted', 'cancelled'] as const;
type Status = (typeof STATUSES)[number];
const inputClass = 'rounded-md border border-slate-300 px-2 py-1 text-sm';

export function RunList() {
  const trpc = useTRPC();
  const [search, setSearch] = useState('');
  const [flowId, setFlowId] = useState('');
  const [version, setVersion] = useState('');
  const [status, setStatus] = useState<Status | ''>('');
  const [from, setFrom] = useState('');
  const [to, setTo] = useState('');
  const filters = useQuery(trpc.runs.filters.queryOptions());
  const input = {
    limit: 100,
    ...(search.trim() ? { search: search.trim() } : {}),
    ...(flowId ? { flowId } : {}),
    ...(version ? { version: Number(version) } : {}),
    ...(status ? { status } : {}),
    ...(from ? { from: new Date(from) } : {}),
    ...(to ? { to: new Date(to) } : {}),
  };
  const runs = useInfiniteQuery({ ...trpc.runs.list.infiniteQueryOptions(input, { getNextPageParam: (page) => page.nextCursor }), refetchInterval: 3_000 });
  const shown = runs.data?.pages.flatMap((page) => page.items) ?? [];
  const versions = filters.data?.find((f) => f.id === flowId)?.versions ?? [];
  return (
    <>
      <PageHeader title="Runs" description="Workflow instances started by events, newest first. Search by event id, event type or text in the payload." />
      <form role="search" aria-label="Filter runs" className="mb-4 flex flex-wrap items-end gap-3" onSubmit={(e) => e.preventDefault()}>
        <label className="text-sm text-slate-700">
          Search
          <input aria-label="Search runs" className={`${inputClass} ml-2 w-72`} placeholder="event id, type or payload text" value={search} onChange={(e) => setSearch(e.target.value)} />
        </label>
        <label className="text-sm text-slate-700">
          Flow
          <select aria-label="Flow" className={`${inputClass} ml-2`} value={flowId} onChange={(e) => { setFlowId(e.target.value); setVersion(''); }}>
            <option value="">any</option>
            {filters.data?.map((f) => <option key={f.id} value={f.id}>{f.name}</option>)}
          </select>
        </label>
        <label className="text-sm text-slate-700">
          Version
          <select aria-label="Version" className={`${inputClass} ml-2`} value={version} disabled={!flowId} onChange={(e) => setVersion(e.target.value)}>
            <option value="">any</option>
            {versions.map((v) => <option key={v} value={v}>v{v}</option>)}
          </select>
        </label>
        <label className="text-sm text-slate-700">
          Status
          <select aria-label="Status" className={`${inputClass} ml-2`} value={status} onChange={(e) => setStatus(e.target.value as Status | '')}>
            <option value="">any</option>
            {STATUSES.map((s) => <option key={s} value={s}>{s}</option>)}
          </select>
        </label>
        <label className="text-sm text-slate-700">
          From
          <input type="datetime-local" aria-label="Started from" className={`${inputClass} ml-2`} value={from} onChange={(e) => setFrom(e.target.value)} />
        </label>
        <label className="text-sm text-slate-700">
          To
          <input type="datetime-local" aria-label="Started until" className={`${inputClass} ml-2`} value={to} onChange={(e) => setTo(e.target.value)} />
        </label>
      </form>
      {runs.isPending ? (
        <LoadingRows label="runs" />
      ) : runs.isError ? (
        <ErrorState message={runs.error.message} />
      ) : shown.length === 0 ? (
        <EmptyState title={Object.keys(input).length > 1 ? 'No runs match' : 'No runs yet'}>Runs appear when a deployed flow receives an event.</EmptyState>
      ) : (
        <Table label="Runs" head={['Flow', 'Version', 'Status', 'Event', 'Started', 'Ended']}>
          {shown.map((r) => (
            <tr key={r.id}>
              <Td className="font-medium">
                <Link
                  className="text-indigo-700 hover:underline"
                  href={`/runs/${r.id}`}
                >
                  {r.flowName}
                </Link>
              </Td>
              <Td>v{r.version}</Td>
              <Td><StatusPill status={r.status} /></Td>
              <Td className="font-mono text-xs">{r.eventId ? `${r.eventType} · ${r.eventId}` : '—'}</Td>
              <Td>{formatTime(r.startedAt)}</Td>
              <Td>{formatTime(r.endedAt)}</Td>
            </tr>
          ))}
        </Table>
      )}
      {runs.hasNextPage ? (
        <div className="mt-3">
          <Button variant="secondary" disabled={runs.isFetchingNextPage} onClick={() => void runs.fetchNextPage()}>
            {runs.isFetchingNextPage ? 'Loading…' : 'Load more runs'}
          </Button>
        </div>
      ) : null}
    </>
  );
}
