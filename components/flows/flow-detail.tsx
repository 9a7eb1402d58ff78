'use client';

import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { canEdit, useCurrentUser } from '@/components/layout/current-user';
import { useTRPC } from '@/components/trpc-provider';
import { Button } from '@/components/ui/button';
import { formatTime } from '@/components/ui/format';
import { ErrorState, LoadingRows } from '@/components/ui/states';
import { PageHeader } from '@/components/ui/table';

export function FlowDetail({ flowId }: { flowId: string }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const user = useCurrentUser();
  const flow = useQuery(trpc.flows.get.queryOptions({ flowId }));
  const [name, setName] = useState<string | null>(null);
  const invalidate = () => queryClient.invalidateQueries({ queryKey: trpc.flows.pathKey() });
  const rename = useMutation(trpc.flows.rename.mutationOptions({ onSuccess: () => { setName(null); return invalidate(); } }));
  const deploy = useMutation(trpc.flows.deploy.mutationOptions({ onSuccess: invalidate }));
  const undeploy = useMutation(trpc.flows.undeploy.mutationOptions({ onSuccess: invalidate }));

  if (flow.isPending) return <LoadingRows label="flow" />;
  if (flow.isError) return <ErrorState message={flow.error.message} />;
  const f = flow.data;
  const latest = f.versions[0];
  const live = f.deployments[0];
  const editable = canEdit(user);
  const mutationError = rename.error ?? deploy.error ?? undeploy.error;

  return (
    <>
      <PageHeader
        title={f.name}
        description={f.description}
        actions={
          editable ? (
            <div className="flex gap-2">
              {live ? (
                <Button variant="secondary" disabled={undeploy.isPending} onClick={() => undeploy.mutate({ flowId })}>
                  Undeploy
                </Button>
              ) : null}
              <Button disabled={deploy.isPending || !latest} onClick={() => deploy.mutate({ flowId })}>
                {deploy.isPending ? 'Deploying…' : 'Deploy'}
              </Button>
            </div>
          ) : null
        }
      />
      {mutationError ? <ErrorState message={mutationError.message} /> : null}
      <dl className="mb-6 grid grid-cols-3 gap-4 text-sm">
        <div className="rounded-lg bg-white p-4 shadow-sm ring-1 ring-slate-200">
          <dt className="text-slate-500">Status</dt>
          <dd className="mt-1 font-medium" data-testid="deploy-status">
            {live ? `Live · v${live.flowVersion.version}` : 'Not deployed'}
          </dd>
        </div>
        <div className="rounded-lg bg-white p-4 shadow-sm ring-1 ring-slate-200">
          <dt className="text-slate-500">Versions</dt>
          <dd className="mt-1 font-medium">{f.versions.length}</dd>
        </div>
        <div className="rounded-lg bg-white p-4 shadow-sm ring-1 ring-slate-200">
          <dt className="text-slate-500">Updated</dt>
          <dd className="mt-1 font-medium">{formatTime(f.updatedAt)}</dd>
        </div>
      </dl>
      {editable ? (
        <form
          className="mb-6 flex items-end gap-2"
          onSubmit={(e) => {
            e.preventDefault();
            if (name) rename.mutate({ flowId, name });
          }}
        >
          <div>
            <label htmlFor="flow-name" className="block text-sm font-medium text-slate-700">
              Flow name
            </label>
            <input
              id="flow-name"
              value={name ?? f.name}
              onChange={(e) => setName(e.target.value)}
              className="mt-1 w-80 rounded-md border border-slate-300 px-3 py-1.5 text-sm"
            />
          </div>
          <Button type="submit" variant="secondary" disabled={!name || name === f.name || rename.isPending}>
            Rename
          </Button>
        </form>
      ) : null}
      {latest ? (
        <section aria-labelledby="dsl-heading">
          <h2 id="dsl-heading" className="mb-2 text-sm font-semibold text-slate-700">
            Serverless Workflow DSL · v{latest.version}
          </h2>
          <pre className="max-h-[28rem] overflow-auto rounded-lg bg-slate-900 p-4 font-mono text-xs text-slate-100">
            {latest.dslYaml}
          </pre>
        </section>
      ) : null}
    </>
  );
}
