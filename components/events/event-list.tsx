'use client';

import { useQuery } from '@tanstack/react-query';
import { useTRPC } from '@/components/trpc-provider';
import { formatTime } from '@/components/ui/format';
import { EmptyState, ErrorState, LoadingRows } from '@/components/ui/states';
import { PageHeader, Table, Td } from '@/components/ui/table';
import { FilterTester } from './filter-tester';

export function EventList() {
  const trpc = useTRPC();
  const events = useQuery({ ...trpc.events.list.queryOptions({ limit: 50 }), refetchInterval: 5_000 });
  return (
    <>
      <PageHeader title="Events" description="The event log: every CloudEvent the mesh accepted, newest first." />
      <FilterTester />
      {events.isPending ? (
        <LoadingRows label="events" />
      ) : events.isError ? (
        <ErrorState message={events.error.message} />
      ) : events.data.length === 0 ? (
        <EmptyState title="No events received">Post a CloudEvent to the worker’s /events endpoint or a webhook to see it here.</EmptyState>
      ) : (
        <Table label="Events" head={['Type', 'Source', 'Id', 'Subject', 'Received']}>
          {events.data.map((e) => (
            <tr key={e.seq}>
              <Td className="font-mono text-xs">{e.type}</Td>
              <Td className="font-mono text-xs">{e.source}</Td>
              <Td className="font-mono text-xs">{e.id}</Td>
              <Td>{e.subject ?? '—'}</Td>
              <Td>{formatTime(e.receivedAt)}</Td>
            </tr>
          ))}
        </Table>
      )}
    </>
  );
}
