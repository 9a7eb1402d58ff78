'use client';

import { useInfiniteQuery, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { flowGraphSchema } from '@/runtime/nodes/index';
import { useTRPC } from '@/components/trpc-provider';
import { Button } from '@/components/ui/button';
import { formatTime } from '@/components/ui/format';
import { ErrorState } from '@/components/ui/states';
import { useDesignerStore } from './designer-provider';

/** Saved versions of the flow: open one on the canvas, compare two, or roll back to one. */
export function VersionsPanel({ flowId, editable }: { flowId: string; editable: boolean }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const store = useDesignerStore();
  const versions = useInfiniteQuery(trpc.flows.versions.infiniteQueryOptions({ flowId }, { getNextPageParam: (page) => page.nextCursor }));
  const [from, setFrom] = useState<number>();
  const [to, setTo] = useState<number>();
  const list = versions.data?.pages.flatMap((page) => page.items) ?? [];
  const fromVersion = from ?? list[1]?.version;
  const toVersion = to ?? list[0]?.version;
  const diff = useQuery({
    ...trpc.flows.diff.queryOptions({ flowId, from: fromVersion ?? 1, to: toVersion ?? 1 }),
    enabled: fromVersion !== undefined && toVersion !== undefined && fromVersion !== toVersion,
  });
  const rollback = useMutation(
    trpc.flows.rollback.mutationOptions({
      onSuccess: async (result) => {
        await queryClient.invalidateQueries({ queryKey: trpc.flows.pathKey() });
        if (result.ok) {
          const saved = await queryClient.fetchQuery(trpc.flows.version.queryOptions({ flowId, version: result.version }));
          store.getState().replaceGraph(flowGraphSchema.parse(saved.graph), 'load');
        }
      },
    }),
  );
  const open = async (version: number) => {
    const saved = await queryClient.fetchQuery(trpc.flows.version.queryOptions({ flowId, version }));
    store.getState().replaceGraph(flowGraphSchema.parse(saved.graph), 'load');
  };

  if (versions.isError) return <ErrorState message={versions.error.message} />;
  return (
    <div className="space-y-4 p-3 text-sm">
      <ul aria-label="Versions" className="divide-y divide-slate-200 dark:divide-slate-700">
        {list.map((v) => (
          <li key={v.version} className="flex flex-wrap items-center gap-2 py-2">
            <span className="font-medium">v{v.version}</span>
            {v.deployments.some((d) => d.status === 'active') ? <span className="rounded-full bg-emerald-100 px-2 text-xs text-emerald-900">live</span> : null}
            <span className="text-xs text-slate-600 dark:text-slate-300">{formatTime(v.createdAt)}</span>
            {v.note ? <span className="w-full text-xs text-slate-700 dark:text-slate-200">{v.note}</span> : null}
            <Button type="button" variant="secondary" onClick={() => void open(v.version)}>
              Open v{v.version}
            </Button>
            {editable && v.version !== list[0]?.version ? (
              <Button type="button" variant="secondary" disabled={rollback.isPending} onClick={() => rollback.mutate({ flowId, version: v.version })}>
                Roll back to v{v.version}
              </Button>
            ) : null}
          </li>
        ))}
      </ul>
      {versions.hasNextPage ? (
        <Button type="button" variant="secondary" disabled={versions.isFetchingNextPage} onClick={() => void versions.fetchNextPage()}>
          {versions.isFetchingNextPage ? 'Loading…' : 'Load older versions'}
        </Button>
      ) : null}
      {rollback.error ? <ErrorState message={rollback.error.message} /> : null}
      {list.length > 1 ? (
        <section aria-labelledby="diff-heading" className="space-y-2">
          <h3 id="diff-heading" className="text-xs font-semibold uppercase tracking-wide text-slate-600 dark:text-slate-300">
            Compare versions
          </h3>
          <div className="flex gap-2">
            {(
              [
                ['diff-from', 'From', fromVersion, setFrom],
                ['diff-to', 'To', toVersion, setTo],
              ] as const
            ).map(([id, label, value, setValue]) => (
              <div key={id}>
                <label htmlFor={id} className="block text-xs font-medium">
                  {label}
                </label>
                <select id={id} value={value} onChange={(e) => setValue(Number(e.target.value))} className="rounded-md border border-slate-300 bg-white px-2 py-1 dark:border-slate-600 dark:bg-slate-900">
                  {list.map((v) => (
                    <option key={v.version} value={v.version}>
                      v{v.version}
                    </option>
                  ))}
                </select>
              </div>
            ))}
          </div>
          {diff.data ? (
            <>
              <p className="text-xs" data-testid="diff-summary">
                {diff.data.graph.nodes.added.length} added, {diff.data.graph.nodes.removed.length} removed, {diff.data.graph.nodes.changed.length} changed nodes
              </p>
              <pre tabIndex={0} aria-label="YAML diff" className="max-h-64 overflow-auto rounded bg-slate-100 p-2 font-mono text-xs dark:bg-slate-900">
                {diff.data.yaml.split('\n').map((line, i) => (
                  <span key={i} className={line.startsWith('+') ? 'text-emerald-800 dark:text-emerald-300' : line.startsWith('-') ? 'text-rose-800 dark:text-rose-300' : ''}>
                    {line}
                    {'\n'}
                  </span>
                ))}
              </pre>
            </>
          ) : null}
        </section>
      ) : null}
    </div>
  );
}
