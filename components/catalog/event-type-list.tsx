'use client';

import { useQuery } from '@tanstack/react-query';
import Link from 'next/link';
import { useDeferredValue, useState } from 'react';
import { useTRPC } from '@/components/trpc-provider';
import { Button } from '@/components/ui/button';
import { formatTime } from '@/components/ui/format';
import { EmptyState, ErrorState, LoadingRows } from '@/components/ui/states';
import { PageHeader, Table, Td } from '@/components/ui/table';
import { AsyncApiTransfer } from './asyncapi-transfer';

const selectClass = 'rounded-md border border-slate-300 px-2 py-1.5 text-sm';

export function EventTypeList() {
  const trpc = useTRPC();
  const [search, setSearch] = useState('');
  const [origin, setOrigin] = useState<'' | 'discovered' | 'registered'>('');
  const [validation, setValidation] = useState<'' | 'off' | 'flag' | 'reject'>('');
  const [transfer, setTransfer] = useState(false);
  const deferred = useDeferredValue(search);
  const types = useQuery(
    trpc.catalog.eventTypes.queryOptions({ search: deferred || undefined, origin: origin || undefined, validation: validation || undefined }),
  );
  return (
    <>
      <PageHeader
        title="Catalog"
        description="Event types known to this mesh: their sources, schemas and examples."
        actions={
          <Button variant="secondary" onClick={() => setTransfer(!transfer)}>
            AsyncAPI export / import
          </Button>
        }
      />
      {transfer ? <AsyncApiTransfer /> : null}
      <div className="mb-4 flex flex-wrap items-center gap-3">
        <label htmlFor="catalog-search" className="sr-only">
          Search event types
        </label>
        <input
          id="catalog-search"
          type="search"
          placeholder="Search by type, source or field name"
          value={search}
          onChange={(e) => setSearch(e.target.value)}
          className="w-96 rounded-md border border-slate-300 px-3 py-1.5 text-sm"
        />
        <label className="text-sm text-slate-600">
          Origin{' '}
          <select aria-label="Origin" value={origin} onChange={(e) => setOrigin(e.target.value as typeof origin)} className={selectClass}>
            <option value="">any</option>
            <option value="discovered">discovered</option>
            <option value="registered">registered</option>
          </select>
        </label>
        <label className="text-sm text-slate-600">
          Validation{' '}
          <select aria-label="Validation" value={validation} onChange={(e) => setValidation(e.target.value as typeof validation)} className={selectClass}>
            <option value="">any</option>
            <option value="off">off</option>
            <option value="flag">flag</option>
            <option value="reject">reject</option>
          </select>
        </label>
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
        <Table label="Event types" head={['Type', 'Source', 'Schema', 'Examples', 'Last seen', 'Description']}>
          {types.data.map((t) => (
            <tr key={t.id}>
              <Td className="font-mono text-xs">
                <Link href={`/catalog/${encodeURIComponent(t.type)}`} className="text-indigo-700 hover:underline">
                  {t.type}
                </Link>
                {t.matchedField ? <div className="text-slate-500">field: {t.matchedField}</div> : null}
              </Td>
              <Td className="font-mono text-xs">{t.source || '—'}</Td>
              <Td>
                {t.schemaVersion ? `v${t.schemaVersion}` : '—'}
                {t.discovered ? <span className="ml-1 text-xs text-slate-400">discovered</span> : null}
                {t.validation !== 'off' ? <span className="ml-1 text-xs text-amber-700">validated: {t.validation}</span> : null}
              </Td>
              <Td>{t.exampleCount}</Td>
              <Td>{formatTime(t.lastSeenAt)}</Td>
              <Td>{t.description}</Td>
            </tr>
          ))}
        </Table>
      )}
    </>
  );
}
