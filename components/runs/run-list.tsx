'use client';

import { useQuery } from '@tanstack/react-query';
import { useTRPC } from '@/components/trpc-provider';
import { formatTime } from '@/components/ui/format';
import { EmptyState, ErrorState, LoadingRows } from '@/components/ui/states';
import { PageHeader, Table, Td } from '@/components/ui/table';

const statusColor: Record<string, string> = {
  completed: 'bg-emerald-100 text-emerald-800',
  faulted: 'bg-rose-100 text-rose-800',
  running: 'bg-sky-100 text-sky-800',
  waiting: 'bg-amber-100 text-amber-800',
};

export function RunList() {
  const trpc = useTRPC();
  const runs = useQuery({ ...trpc.runs.list.queryOptions({ limit: 50 }), refetchInterval: 5_000 });
  return (
    <>
      <PageHeader title="Runs" description="Workflow instances started by events, newest first." />
      {runs.isPending ? (
        <LoadingRows label="runs" />
      ) : runs.isError ? (
        <ErrorState message={runs.error.message} />
      ) : runs.data.length === 0 ? (
        <EmptyState title="No runs yet">Runs appear when a deployed flow receives an event.</EmptyState>
      ) : (
        <Table label="Runs" head={['Flow', 'Version', 'Status', 'Started', 'Ended']}>
          {runs.data.map((r) => (
            <tr key={r.id}>
              <Td className="font-medium">{r.flowName}</Td>
              <Td>v{r.version}</Td>
              <Td>
                <span className={`rounded-full px-2 py-0.5 text-xs font-medium ${statusColor[r.status] ?? 'bg-slate-100 text-slate-700'}`}>
                  {r.status}
                </span>
              </Td>
              <Td>{formatTime(r.startedAt)}</Td>
              <Td>{formatTime(r.endedAt)}</Td>
            </tr>
          ))}
        </Table>
      )}
    </>
  );
}
