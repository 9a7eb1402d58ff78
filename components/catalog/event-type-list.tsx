'use client';

import { useQuery } from '@tanstack/react-query';
import { useDeferredValue, useState } from 'react';
import { useTRPC } from '@/components/trpc-provider';
import { EmptyState, ErrorState, LoadingRows } from '@/components/ui/states';
import { PageHeader, Table, Td } from '@/components/ui/table';

export function EventTypeList() {
  const trpc = useTRPC();
  const [search, setSearch] = useState('');
  const deferred = useDeferredValue(search);
  const types = useQuery(trpc.catalog.eventTypes.queryOptions({ search: deferred || undefined }));
  return (
    <>
      <PageHeader title="Catalog" description="Event types known to this mesh: their sources, schemas and examples." />
      <div className="mb-4">
        <label htmlFor="catalog-search" className="sr-only">
          Search event types
        </label>
        <input
          id="catalog-search"
          type="search"
          placeholder="Search by type, source or description"
          value={search}
          onChange={(e) => setSearch(e.target.value)}
          className="w-96 rounded-md border border-slate-300 px-3 py-1.5 text-sm"
        />
      </div>
      {types.isPending ? (
        <LoadingRows label="event types" />
      ) : types.isError ? (
        <ErrorState message={types.error.message} />
      ) : types.data.length === 0 ? (
        <EmptyState title={deferred ? 'No event type matches' : 'No event types yet'}>
          {deferred ? 'Try another search.' : 'Event types appear here when registered or discovered from traffic.'}
        </EmptyState>
      ) : (
        <Table label="Event types" head={['Type', 'Source', 'Schema', 'Examples', 'Description']}>
          {types.data.map((t) => (
            <tr key={t.id}>
              <Td className="font-mono text-xs">{t.type}</Td>
              <Td className="font-mono text-xs">{t.source || '—'}</Td>
              <Td>{t.schemaVersion ? `v${t.schemaVersion}` : '—'}</Td>
              <Td>{t.exampleCount}</Td>
              <Td>{t.description}</Td>
            </tr>
          ))}
        </Table>
      )}
    </>
  );
}
