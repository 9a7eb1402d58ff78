'use client';

import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import Link from 'next/link';
import { useState } from 'react';
import { canEdit, useCurrentUser } from '@/components/layout/current-user';
import { useTRPC } from '@/components/trpc-provider';
import { Button } from '@/components/ui/button';
import { formatTime } from '@/components/ui/format';
import { ErrorState, LoadingRows } from '@/components/ui/states';
import { PageHeader } from '@/components/ui/table';
import { JsonBlock, StatusPill } from './run-status';

const LIVE = new Set(['pending', 'running', 'waiting', 'suspended']);

function ms(start: Date, end: Date | null): number {
  return (end ?? new Date()).getTime() - start.getTime();
}

export function RunDetail({ id }: { id: string }) {
  const trpc = useTRPC();
  const user = useCurrentUser();
  const queryClient = useQueryClient();
  const run = useQuery({ ...trpc.runs.get.queryOptions({ id }), refetchInterval: (q) => (q.state.data && !LIVE.has(q.state.data.status) ? false : 2_000) });
  const [message, setMessage] = useState<string>();
  const [editing, setEditing] = useState<string>();
  const done = (text: string) => {
    setMessage(text);
    void queryClient.invalidateQueries({ queryKey: trpc.runs.get.queryKey({ id }) });
  };
  const control = useMutation(trpc.runs.control.mutationOptions({ onSuccess: (r) => done(`Run is ${r.status}.`), onError: (e) => setMessage(e.message) }));
  const rerun = useMutation(trpc.runs.rerun.mutationOptions({ onSuccess: () => done('Queued again with the same event: the new run appears under Runs.'), onError: (e) => setMessage(e.message) }));
  const rerunEdited = useMutation(
    trpc.runs.rerunWithEvent.mutationOptions({
      onSuccess: (r) => {
        setEditing(undefined);
        done(`Posted as event ${r.eventId}: search for it under Runs.`);
      },
      onError: (e) => setMessage(e.message),
    }),
  );
  if (run.isPending) return <LoadingRows label="run" />;
  if (run.isError) return <ErrorState message={run.error.message} />;
  const r = run.data;
  const total = Math.max(1, ms(r.startedAt, r.endedAt));
  const editor = canEdit(user);
  return (
    <>
      <PageHeader
        title={`${r.flowName} v${r.version}`}
        description={`Run ${r.id}`}
        actions={
          editor ? (
            <div className="flex flex-wrap gap-2">
              {r.event ? <Button variant="secondary" onClick={() => rerun.mutate({ id })}>Re-run</Button> : null}
              {r.event ? (
                <Button variant="secondary" onClick={() => setEditing(JSON.stringify(r.input, null, 2))}>Re-run with edited event</Button>
              ) : null}
              {['pending', 'running', 'waiting'].includes(r.status) ? <Button variant="secondary" onClick={() => control.mutate({ id, action: 'suspend' })}>Suspend</Button> : null}
              {r.status === 'suspended' ? <Button variant="secondary" onClick={() => control.mutate({ id, action: 'resume' })}>Resume</Button> : null}
              {LIVE.has(r.status) ? <Button variant="danger" onClick={() => control.mutate({ id, action: 'cancel' })}>Cancel</Button> : null}
            </div>
          ) : null
        }
      />
      {message ? <div role="status" className="mb-4 rounded-md bg-indigo-50 px-3 py-2 text-sm text-indigo-900">{message}</div> : null}
      {editing !== undefined ? (
        <form
          className="mb-6 space-y-2 rounded-lg border border-slate-200 bg-white p-4"
          onSubmit={(e) => {
            e.preventDefault();
            try {
              rerunEdited.mutate({ id, event: JSON.parse(editing) as Record<string, unknown> });
            } catch (error) {
              setMessage(`the event is not valid JSON: ${(error as Error).message}`);
            }
          }}
        >
          <label className="block text-sm font-medium text-slate-700" htmlFor="edited-event">Event to run with (a new id is given to it)</label>
          <textarea id="edited-event" className="h-56 w-full rounded-md border border-slate-300 p-2 font-mono text-xs" value={editing} onChange={(e) => setEditing(e.target.value)} />
          <div className="flex gap-2">
            <Button type="submit">Run with this event</Button>
            <Button type="button" variant="secondary" onClick={() => setEditing(undefined)}>Close</Button>
          </div>
        </form>
      ) : null}
      <dl className="mb-6 grid grid-cols-2 gap-4 rounded-lg border border-slate-200 bg-white p-4 text-sm md:grid-cols-4">
        <div><dt className="text-slate-500">Status</dt><dd data-testid="run-status"><StatusPill status={r.status} /></dd></div>
        <div><dt className="text-slate-500">Started</dt><dd>{formatTime(r.startedAt)}</dd></div>
        <div><dt className="text-slate-500">Duration</dt><dd>{r.endedAt ? `${ms(r.startedAt, r.endedAt)} ms` : 'still going'}</dd></div>
        <div>
          <dt className="text-slate-500">Triggering event</dt>
          <dd className="font-mono text-xs">
            {r.event ? <Link className="text-indigo-700 hover:underline" href={`/events/${r.event.seq}`}>{r.event.type} · {r.event.id}</Link> : '—'}
            {r.event?.traceparent ? <div title="W3C trace context">trace {r.event.traceparent.split('-')[1]}</div> : null}
          </dd>
        </div>
      </dl>
      <h2 className="mb-2 text-lg font-semibold text-slate-900">Tasks</h2>
      <ol aria-label="Task timeline" className="mb-6 space-y-3">
        {r.steps.length === 0 ? <li className="text-sm text-slate-500">No task has started yet.</li> : null}
        {r.steps.map((s) => {
          const offset = ((s.startedAt.getTime() - r.startedAt.getTime()) / total) * 100;
          const width = Math.max(0.5, (ms(s.startedAt, s.endedAt) / total) * 100);
          return (
            <li key={s.id} className="rounded-lg border border-slate-200 bg-white p-3" data-testid={`step-${s.taskName}`}>
              <div className="flex items-center justify-between gap-3 text-sm">
                <span className="font-medium text-slate-800">{s.taskName} <span className="font-mono text-xs text-slate-400">{s.taskPath}</span></span>
                <span className="flex items-center gap-3 text-xs text-slate-500">
                  <span>attempt {s.attempt}</span>
                  <span>{s.endedAt ? `${ms(s.startedAt, s.endedAt)} ms` : 'running'}</span>
                  <StatusPill status={s.status} />
                </span>
              </div>
              <div className="relative mt-2 h-2 rounded bg-slate-100" aria-hidden>
                <div className={`absolute h-2 rounded ${s.status === 'faulted' ? 'bg-rose-400' : 'bg-indigo-400'}`} style={{ left: `${Math.min(99, offset)}%`, width: `${width}%` }} />
              </div>
              <details className="mt-2" open={s.status === 'faulted'}>
                <summary className="cursor-pointer text-xs text-slate-600">Input, output and error</summary>
                <div className="mt-2 grid gap-3 md:grid-cols-3">
                  <JsonBlock label={`${s.taskName} input`} value={s.input} />
                  <JsonBlock label={`${s.taskName} output`} value={s.output} />
                  <JsonBlock label={`${s.taskName} error`} value={s.error} />
                </div>
              </details>
            </li>
          );
        })}
      </ol>
      <div className="mb-6 grid gap-4 md:grid-cols-3">
        <JsonBlock label="Run input" value={r.input} />
        <JsonBlock label="Run output" value={r.output} />
        <JsonBlock label="Run error" value={r.error} />
      </div>
      <h2 className="mb-2 text-lg font-semibold text-slate-900">Lifecycle</h2>
      <ul aria-label="Lifecycle" className="space-y-1 text-sm text-slate-700">
        {(r.lifecycle.length > 0
          ? r.lifecycle.map((e) => ({ key: e.seq, what: e.type.replace(/^io\.serverlessworkflow\./, '').replace(/\.v1$/, ''), at: e.receivedAt }))
          : [
              { key: 'start', what: 'workflow.started', at: r.startedAt },
              ...r.steps.flatMap((s) => [
                { key: `${s.id}-s`, what: `task.started ${s.taskName}`, at: s.startedAt },
                ...(s.endedAt ? [{ key: `${s.id}-e`, what: `task.${s.status} ${s.taskName}`, at: s.endedAt }] : []),
              ]),
              ...(r.endedAt ? [{ key: 'end', what: `workflow.${r.status}`, at: r.endedAt }] : []),
            ]
        ).map((e) => (
          <li key={e.key}><span className="font-mono text-xs text-slate-500">{e.at.toISOString()}</span> {e.what}</li>
        ))}
      </ul>
    </>
  );
}
