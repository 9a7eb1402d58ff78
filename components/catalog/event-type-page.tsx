'use client';

/**
 * One event type: what it is, its newest schema as a tree of fields, an example, the latest
 * events of the type, its schema versions with what changed (and a diff of any two), the
 * flows that produce and consume it, and its ingress validation setting.
 */
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import Link from 'next/link';
import { useState } from 'react';
import { useTRPC } from '@/components/trpc-provider';
import { formatTime } from '@/components/ui/format';
import { EmptyState, ErrorState, LoadingRows } from '@/components/ui/states';
import { PageHeader, Table, Td } from '@/components/ui/table';

function Section({ title, children }: { title: string; children: React.ReactNode }) {
  return (
    <section aria-label={title} className="rounded-lg border border-slate-200 bg-white p-4 shadow-sm">
      <h2 className="mb-2 font-semibold text-slate-800">{title}</h2>
      {children}
    </section>
  );
}

function VersionDiff({ type, latest }: { type: string; latest: number }) {
  const trpc = useTRPC();
  const [from, setFrom] = useState(Math.max(1, latest - 1));
  const [to, setTo] = useState(latest);
  const diff = useQuery({ ...trpc.catalog.diff.queryOptions({ type, from, to }), enabled: from !== to });
  const versions = Array.from({ length: latest }, (_, i) => i + 1);
  const select = (value: number, set: (v: number) => void, label: string) => (
    <select aria-label={label} value={value} onChange={(e) => set(Number(e.target.value))} className="rounded border border-slate-300 px-1 py-0.5 text-sm">
      {versions.map((v) => (
        <option key={v} value={v}>
          v{v}
        </option>
      ))}
    </select>
  );
  return (
    <div className="mt-3 text-sm">
      Compare {select(from, setFrom, 'From version')} with {select(to, setTo, 'To version')}
      {diff.data ? (
        <ul data-testid="version-diff" className="mt-2 list-disc pl-5 text-slate-700">
          {diff.data.changes.length ? diff.data.changes.map((c) => <li key={c}>{c}</li>) : <li>no difference</li>}
        </ul>
      ) : null}
    </div>
  );
}

export function EventTypePage({ type }: { type: string }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const page = useQuery({ ...trpc.catalog.eventType.queryOptions({ type }), refetchInterval: 5_000 });
  const update = useMutation(trpc.catalog.update.mutationOptions({ onSuccess: () => queryClient.invalidateQueries({ queryKey: trpc.catalog.eventType.queryKey({ type }) }) }));
  if (page.isPending) return <LoadingRows label="event type" />;
  if (page.isError) return <ErrorState message={page.error.message} />;
  const t = page.data;
  const latest = t.versions[0]?.version;
  return (
    <>
      <div className="mb-2 text-sm">
        <Link href="/catalog" className="text-indigo-700 hover:underline">
          ← Catalog
        </Link>
      </div>
      <PageHeader title={t.type} description={t.description || (t.discovered ? 'Discovered from traffic.' : undefined)} />
      <dl className="mb-6 grid grid-cols-2 gap-x-6 gap-y-1 text-sm md:grid-cols-4">
        <dt className="text-slate-500">Source</dt>
        <dd className="font-mono">{t.source || '—'}</dd>
        <dt className="text-slate-500">Owner</dt>
        <dd>{t.owner || '—'}</dd>
        <dt className="text-slate-500">Last seen</dt>
        <dd>{formatTime(t.lastSeenAt)}</dd>
        <dt className="text-slate-500">
          <label htmlFor="validation">Ingress validation</label>
        </dt>
        <dd>
          <select
            id="validation"
            value={t.validation}
            disabled={!latest || update.isPending}
            onChange={(e) => update.mutate({ type, validation: e.target.value as 'off' | 'flag' | 'reject' })}
            className="rounded border border-slate-300 px-1 py-0.5"
          >
            <option value="off">off</option>
            <option value="flag">flag (keep, mark)</option>
            <option value="reject">reject (400)</option>
          </select>
        </dd>
      </dl>
      {update.error ? <ErrorState message={update.error.message} /> : null}
      <div className="grid grid-cols-1 gap-4 lg:grid-cols-2">
        <Section title={latest ? `Schema (v${latest})` : 'Schema'}>
          {t.fields.length === 0 ? (
            <p className="text-sm text-slate-500">{latest ? 'The data is not an object.' : 'No schema yet: one is inferred from the first events.'}</p>
          ) : (
            <ul role="tree" aria-label="Schema fields" className="font-mono text-sm">
              {t.fields.map((f) => (
                <li role="treeitem" aria-selected={false} key={f.path} style={{ paddingLeft: `${(f.path.split(/\.|\[\]/).length - 1) * 1.25}rem` }}>
                  <span className="text-slate-900">{f.path.split('.').pop()}</span>{' '}
                  <span className="text-indigo-700">{Array.isArray(f.type) ? f.type.join(' | ') : String(f.type)}</span>
                  {f.format ? <span className="text-slate-400"> ({f.format})</span> : null}
                  {f.required ? null : <span className="text-slate-400"> optional</span>}
                </li>
              ))}
            </ul>
          )}
        </Section>
        <Section title="Example">
          {t.examples.length === 0 ? <p className="text-sm text-slate-500">No example yet.</p> : <pre className="overflow-auto rounded bg-slate-50 p-2 text-xs">{JSON.stringify(t.examples[0], null, 2)}</pre>}
        </Section>
        <Section title="Versions">
          {t.versions.length === 0 ? (
            <p className="text-sm text-slate-500">No schema versions.</p>
          ) : (
            <ol className="space-y-1 text-sm">
              {t.versions.map((v) => (
                <li key={v.version}>
                  <span className="font-medium">v{v.version}</span> <span className="text-slate-400">{formatTime(v.createdAt)}</span> — {v.changes || '—'}
                </li>
              ))}
            </ol>
          )}
          {latest && latest > 1 ? <VersionDiff type={type} latest={latest} /> : null}
        </Section>
        <Section title="Producers and consumers">
          <div className="grid grid-cols-2 gap-2 text-sm">
            {(['producers', 'consumers'] as const).map((role) => (
              <div key={role}>
                <h3 className="text-slate-500">{role === 'producers' ? 'Produced by' : 'Consumed by'}</h3>
                {t[role].length === 0 ? (
                  <p className="text-slate-400">no flow</p>
                ) : (
                  <ul>
                    {t[role].map((f) => (
                      <li key={f.id}>
                        <Link href={`/flows/${f.id}`} className="text-indigo-700 hover:underline">
                          {f.name}
                        </Link>
                        {f.deployed ? <span className="ml-1 text-xs text-emerald-700">live</span> : null}
                      </li>
                    ))}
                  </ul>
                )}
              </div>
            ))}
          </div>
        </Section>
      </div>
      <h2 className="mb-2 mt-6 font-semibold text-slate-800">Recent events</h2>
      {t.recentEvents.length === 0 ? (
        <EmptyState title="No events of this type in the log" />
      ) : (
        <Table label="Recent events" head={['Id', 'Source', 'Subject', 'Received', 'Data']}>
          {t.recentEvents.map((e) => (
            <tr key={e.seq}>
              <Td className="font-mono text-xs">{e.id}</Td>
              <Td className="font-mono text-xs">{e.source}</Td>
              <Td>{e.subject ?? '—'}</Td>
              <Td>{formatTime(e.receivedAt)}</Td>
              <Td className="max-w-md truncate font-mono text-xs">{JSON.stringify(e.data)}</Td>
            </tr>
          ))}
        </Table>
      )}
    </>
  );
}
