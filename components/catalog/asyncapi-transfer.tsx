'use client';

/** AsyncAPI 3.0 export (of the whole catalog or a type pattern) and import, in the studio. */
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { useTRPC } from '@/components/trpc-provider';
import { Button } from '@/components/ui/button';
import { ErrorState } from '@/components/ui/states';

export function AsyncApiTransfer() {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const [pattern, setPattern] = useState('');
  const [requested, setRequested] = useState<string | undefined>();
  const [document, setDocument] = useState('');
  const exported = useQuery({ ...trpc.catalog.exportAsyncApi.queryOptions({ type: requested || undefined }), enabled: requested !== undefined });
  const imported = useMutation(trpc.catalog.importAsyncApi.mutationOptions({ onSuccess: () => queryClient.invalidateQueries({ queryKey: trpc.catalog.eventTypes.queryKey() }) }));
  return (
    <section aria-label="AsyncAPI" className="mb-6 grid grid-cols-1 gap-4 rounded-lg border border-slate-200 bg-white p-4 lg:grid-cols-2">
      <div className="space-y-2">
        <h2 className="font-medium">Export as AsyncAPI 3.0</h2>
        <div className="flex gap-2">
          <input aria-label="Type pattern" placeholder="com.example.* (empty: all)" value={pattern} onChange={(e) => setPattern(e.target.value)} className="flex-1 rounded-md border border-slate-300 px-2 py-1.5 text-sm" />
          <Button onClick={() => setRequested(pattern)}>Export</Button>
        </div>
        {exported.error ? <ErrorState message={exported.error.message} /> : null}
        {exported.data ? (
          <>
            <a
              className="text-sm text-indigo-700 underline"
              download="meshflow-catalog.asyncapi.yaml"
              href={`data:application/yaml;charset=utf-8,${encodeURIComponent(exported.data.yaml)}`}
            >
              Download ({exported.data.count} types)
            </a>
            <pre className="max-h-64 overflow-auto rounded bg-slate-50 p-2 text-xs">{exported.data.yaml}</pre>
          </>
        ) : null}
      </div>
      <form
        className="space-y-2"
        onSubmit={(e) => {
          e.preventDefault();
          imported.mutate({ document });
        }}
      >
        <h2 className="font-medium">Import an AsyncAPI 3.0 document</h2>
        <textarea aria-label="AsyncAPI document" value={document} onChange={(e) => setDocument(e.target.value)} rows={8} className="w-full rounded-md border border-slate-300 p-2 font-mono text-xs" />
        <Button type="submit" disabled={!document || imported.isPending}>
          Import
        </Button>
        {imported.error ? <ErrorState message={imported.error.message} /> : null}
        {imported.data ? (
          <ul className="text-sm">
            {imported.data.imported.map((i) => (
              <li key={i.type}>
                <span className="font-mono">{i.type}</span> — {i.created ? 'registered' : i.newVersion ? `schema v${i.newVersion}` : 'unchanged'}
              </li>
            ))}
          </ul>
        ) : null}
      </form>
    </section>
  );
}
