'use client';

import { useMutation, useQuery } from '@tanstack/react-query';
import { useEffect, useRef } from 'react';
import { useTRPC } from '@/components/trpc-provider';
import { Button } from '@/components/ui/button';
import { ErrorState } from '@/components/ui/states';

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

/**
 * The confirmation before a flow is deleted: what stops (its live deployment, the webhook
 * URLs and sources it serves) and what goes with it, read from the server, so nobody deletes
 * a flow without seeing that producers are still posting to it.
 */
export function DeleteFlowDialog({ flowId, onClose, onDeleted }: { flowId: string; onClose: () => void; onDeleted: (name: string) => void }) {
  const trpc = useTRPC();
  const impact = useQuery(trpc.flows.deletion.queryOptions({ flowId }));
  const remove = useMutation(trpc.flows.delete.mutationOptions({ onSuccess: (r) => onDeleted(r.name) }));
  const dialog = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const element = dialog.current;
    if (element && !element.open) element.showModal();
    return () => element?.close();
  }, []);
  const i = impact.data;
  return (
    <dialog
      ref={dialog}
      aria-labelledby="delete-flow-title"
      onCancel={onClose}
      className="m-auto w-[36rem] max-w-[calc(100%-2rem)] rounded-lg p-0 shadow-xl backdrop:bg-slate-900/40"
    >
      <div className="space-y-4 p-5 text-sm text-slate-700">
        <h2 id="delete-flow-title" className="text-lg font-semibold text-slate-900">
          Delete flow {i ? `“${i.name}”` : ''}?
        </h2>
        {impact.isError ? <ErrorState message={impact.error.message} /> : null}
        {i ? (
          <>
            {i.deployedVersion !== null ? (
              <section aria-label="What stops">
                <p className="font-medium text-rose-800">This stops the live deployment (v{i.deployedVersion}) first:</p>
                <ul className="mt-1 list-disc space-y-1 pl-5">
                  {i.webhooks.map((url) => (
                    <li key={url}>
                      webhook <code className="break-all font-mono text-xs">{url}</code> will answer 404
                    </li>
                  ))}
                  {i.sources.map((s, n) => (
                    <li key={`${s.kind}-${n}`}>
                      source {s.label}
                      {s.label !== s.title ? ` (${s.title})` : ''} stops receiving events
                    </li>
                  ))}
                </ul>
              </section>
            ) : (
              <p>The flow is not deployed, so nothing stops receiving events.</p>
            )}
            <section aria-label="What is removed">
              <p>
                Removed with it: {plural(i.versions, 'version')} and {plural(i.runs, 'run')} (their history and timelines).
                {i.pendingDeadLetters > 0 ? ` ${plural(i.pendingDeadLetters, 'waiting dead letter')} will be discarded.` : ''}
              </p>
              <p className="mt-1 text-slate-500">Events it received stay in the event log.</p>
            </section>
          </>
        ) : impact.isPending ? (
          <p>Reading what this flow serves…</p>
        ) : null}
        {remove.error ? <ErrorState message={remove.error.message} /> : null}
        <div className="flex justify-end gap-2">
          <Button type="button" variant="secondary" onClick={onClose}>
            Cancel
          </Button>
          <Button type="button" variant="danger" disabled={!i || remove.isPending} onClick={() => remove.mutate({ flowId })}>
            {remove.isPending ? 'Deleting…' : i?.deployedVersion !== null && i ? 'Undeploy and delete' : 'Delete flow'}
          </Button>
        </div>
      </div>
    </dialog>
  );
}
