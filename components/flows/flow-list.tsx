'use client';

import { useQuery } from '@tanstack/react-query';
import Link from 'next/link';
import { canEdit, useCurrentUser } from '@/components/layout/current-user';
import { useTRPC } from '@/components/trpc-provider';
import { formatTime } from '@/components/ui/format';
import { EmptyState, ErrorState, LoadingRows } from '@/components/ui/states';
import { PageHeader, Table, Td } from '@/components/ui/table';

export function FlowList() {
  const trpc = useTRPC();
  const flows = useQuery(trpc.flows.list.queryOptions());
  const user = useCurrentUser();
  return (
    <>
      <PageHeader
        title="Flows"
        description="Event flows: sources, filters, transforms and targets, each a Serverless Workflow."
        actions={
          canEdit(user) ? (
            <Link href="/flows/new" className="rounded-md bg-indigo-600 px-3 py-1.5 text-sm font-medium text-white shadow-sm hover:bg-indigo-500">
              New flow
            </Link>
          ) : null
        }
      />
      {flows.isPending ? (
        <LoadingRows label="flows" />
      ) : flows.isError ? (
        <ErrorState message={flows.error.message} />
      ) : flows.data.length === 0 ? (
        <EmptyState title="No flows yet">Create a flow to route events from a source to a target.</EmptyState>
      ) : (
        <Table label="Flows" head={['Name', 'Latest version', 'Deployed', 'Updated']}>
          {flows.data.map((f) => (
            <tr key={f.id}>
              <Td>
                <Link className="font-medium text-indigo-700 hover:underline" href={`/flows/${f.id}`}>
                  {f.name}
                </Link>
                {f.description ? <div className="text-xs text-slate-500">{f.description}</div> : null}
              </Td>
              <Td>{f.latestVersion ? `v${f.latestVersion}` : '—'}</Td>
              <Td>
                {f.deployedVersion ? (
                  <span className="rounded-full bg-emerald-100 px-2 py-0.5 text-xs font-medium text-emerald-800">
                    live · v{f.deployedVersion}
                  </span>
                ) : (
                  <span className="text-slate-500">not deployed</span>
                )}
              </Td>
              <Td>{formatTime(f.updatedAt)}</Td>
            </tr>
          ))}
        </Table>
      )}
    </>
  );
}
