'use client';

import { useQuery, useQueryClient } from '@tanstack/react-query';
import Link from 'next/link';
import { useState } from 'react';
import { canEdit, useCurrentUser } from '@/components/layout/current-user';
import { useTRPC } from '@/components/trpc-provider';
import { Button } from '@/components/ui/button';
import { formatTime } from '@/components/ui/format';
import { EmptyState, ErrorState, LoadingRows } from '@/components/ui/states';
import { PageHeader, Table, Td } from '@/components/ui/table';
import { DeleteFlowDialog } from './delete-flow-dialog';

export function FlowList() {
  const trpc = useTRPC();
  const flows = useQuery(trpc.flows.list.queryOptions());
  const user = useCurrentUser();
  const queryClient = useQueryClient();
  const [deleting, setDeleting] = useState<string>();
  const [message, setMessage] = useState<string>();
  const editor = canEdit(user);
  return (
    <>
      <PageHeader
        title="Flows"
        description="Event flows: sources, filters, transforms and targets, each a Serverless Workflow."
        actions={
          editor ? (
            <Link href="/flows/new" className="rounded-md bg-indigo-600 px-3 py-1.5 text-sm font-medium text-white shadow-sm hover:bg-indigo-500">
              New flow
            </Link>
          ) : null
        }
      />
      {message ? <div role="status" className="mb-4 rounded-md bg-indigo-50 px-3 py-2 text-sm text-indigo-900">{message}</div> : null}
      {deleting ? (
        <DeleteFlowDialog
          flowId={deleting}
          onClose={() => setDeleting(undefined)}
          onDeleted={(name) => {
            setDeleting(undefined);
            setMessage(`Deleted flow “${name}”.`);
            void queryClient.invalidateQueries({ queryKey: trpc.flows.pathKey() });
          }}
        />
      ) : null}
      {flows.isPending ? (
        <LoadingRows label="flows" />
      ) : flows.isError ? (
        <ErrorState message={flows.error.message} />
      ) : flows.data.length === 0 ? (
        <EmptyState title="No flows yet">Create a flow to route events from a source to a target.</EmptyState>
      ) : (
        <Table label="Flows" head={['Name', 'Latest version', 'Deployed', 'Updated', ...(editor ? [''] : [])]}>
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
              {editor ? (
                <Td className="text-right">
                  <Button variant="secondary" aria-label={`Delete ${f.name}`} onClick={() => setDeleting(f.id)}>
                    Delete…
                  </Button>
                </Td>
              ) : null}
            </tr>
          ))}
        </Table>
      )}
    </>
  );
}
