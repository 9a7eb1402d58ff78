'use client';

import { useQuery } from '@tanstack/react-query';
import Link from 'next/link';
import { useTRPC } from '@/components/trpc-provider';
import { formatTime } from '@/components/ui/format';
import { ErrorState, LoadingRows } from '@/components/ui/states';
import { PageHeader } from '@/components/ui/table';
import { JsonBlock, StatusPill } from './run-status';

const LIVE = new Set(['running', 'pending']);
const ms = (value: number | null) => (value === null ? '—' : value < 10 ? `${value.toFixed(2)} ms` : `${Math.round(value)} ms`);

/** One event through a pipeline flow: each node in order with what it did to the event, and every delivery attempt. */
export function PipelineRunDetail({ id }: { id: string }) {
  const trpc = useTRPC();
  const run = useQuery({ ...trpc.runs.pipeline.queryOptions({ id }), refetchInterval: (q) => (q.state.data && !LIVE.has(q.state.data.status) ? false : 2_000) });
  if (run.isPending) return <LoadingRows label="run" />;
  if (run.isError) return <ErrorState message={run.error.message} />;
  const r = run.data;
  return (
    <>
      <PageHeader title={`${r.flowName} v${r.version}`} description={`Pipeline run of event ${r.event.id} (routed by the data plane, without the workflow engine)`} />
      <dl className="mb-6 grid grid-cols-2 gap-4 rounded-lg border border-slate-200 bg-white p-4 text-sm md:grid-cols-4">
        <div><dt className="text-slate-500">Status</dt><dd data-testid="run-status"><StatusPill status={r.status} /></dd></div>
        <div><dt className="text-slate-500">Event received</dt><dd>{formatTime(r.startedAt)}</dd></div>
        <div><dt className="text-slate-500">Ended</dt><dd>{r.endedAt ? formatTime(r.endedAt) : r.nextAttemptAt ? `next attempt ${formatTime(r.nextAttemptAt)}` : 'still going'}</dd></div>
        <div>
          <dt className="text-slate-500">Triggering event</dt>
          <dd className="font-mono text-xs">
            <Link className="text-indigo-700 hover:underline" href={`/events/${r.event.seq}`}>{r.event.type} · {r.event.id}</Link>
            <div className="text-slate-400">on {r.event.ingress}</div>
          </dd>
        </div>
      </dl>
      <h2 className="mb-2 text-lg font-semibold text-slate-900">Nodes</h2>
      <ol aria-label="Node timeline" className="mb-6 space-y-3">
        {r.nodes.map((n) => (
          <li key={n.task} className="rounded-lg border border-slate-200 bg-white p-3" data-testid={`node-${n.task}`}>
            <div className="flex items-center justify-between gap-3 text-sm">
              <span className="font-medium text-slate-800">
                {n.label} {n.title !== n.label ? <span className="text-xs font-normal text-slate-500">{n.title ?? n.role}</span> : null}
              </span>
              <span className="flex items-center gap-3 text-xs text-slate-500">
                {n.attempts.length > 0 ? <span>{n.attempts.length} attempt{n.attempts.length === 1 ? '' : 's'}</span> : null}
                <span title={n.durationMs === null && n.status !== 'skipped' ? 'Checked as the event arrived, in the same pass that logged it' : undefined}>
                  {n.durationMs === null && (n.role === 'source' || n.role === 'filter') && n.status !== 'skipped' ? 'at ingress' : ms(n.durationMs)}
                </span>
                <StatusPill status={n.status} />
              </span>
            </div>
            {n.reason ? <p className={`mt-1 text-sm ${n.status === 'filtered' ? 'text-amber-800' : 'text-rose-800'}`}>{n.reason}</p> : null}
            {n.attempts.length > 0 ? (
              <table aria-label={`${n.label} attempts`} className="mt-2 w-full text-left text-xs">
                <thead className="text-slate-500">
                  <tr><th className="py-1 pr-3 font-medium">Attempt</th><th className="pr-3 font-medium">Outcome</th><th className="pr-3 font-medium">Took</th><th className="pr-3 font-medium">At</th><th className="font-medium">Error</th></tr>
                </thead>
                <tbody>
                  {n.attempts.map((a) => (
                    <tr key={`${a.attempt}-${a.at.getTime()}`} className="border-t border-slate-100">
                      <td className="py-1 pr-3">{a.attempt}</td>
                      <td className="pr-3"><StatusPill status={a.outcome} /></td>
                      <td className="pr-3">{ms(a.durationMs)}</td>
                      <td className="pr-3">{formatTime(a.at)}</td>
                      <td className="break-all">{a.error ?? '—'}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            ) : null}
            {n.status !== 'skipped' ? (
              <details className="mt-2" open={n.status === 'faulted' || n.status === 'dead_lettered'}>
                <summary className="cursor-pointer text-xs text-slate-600">Input and output</summary>
                <div className="mt-2 grid gap-3 md:grid-cols-2">
                  <JsonBlock label={`${n.label} input`} value={n.input} />
                  {n.role === 'filter' || n.role === 'target' ? null : (
                    <JsonBlock label={`${n.label} output`} value={n.output === undefined ? 'not recorded: the worker keeps the last transform’s output' : n.output} />
                  )}
                </div>
              </details>
            ) : null}
          </li>
        ))}
      </ol>
      {r.stepsMs !== null ? <p className="text-xs text-slate-500">Filters and transforms after ingress took {ms(r.stepsMs)} for this event (its share of the batch they ran in).</p> : null}
    </>
  );
}
