'use client';

import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import type { inferRouterOutputs } from '@trpc/server';
import { useEffect, useState } from 'react';
import { useTRPC } from '@/components/trpc-provider';
import type { AppRouter } from '@/server/routers/root';
import { Button } from '@/components/ui/button';
import { ErrorState } from '@/components/ui/states';
import { useDesignerStore } from './designer-provider';
import { download } from './flow-file';
import { testFileText, type PinnedCase } from './flow-test-file';

const inputClass = 'block w-full rounded-md border border-slate-300 bg-white px-2 py-1 text-xs dark:border-slate-600 dark:bg-slate-900';

function retentionText(hours: number): string {
  if (hours % 24 === 0) return `${hours / 24} day${hours === 24 ? '' : 's'}`;
  return `${hours} hour${hours === 1 ? '' : 's'}`;
}

/** A `datetime-local` value as an ISO time, or undefined when empty. */
function isoOf(local: string): string | undefined {
  return local ? new Date(local).toISOString() : undefined;
}

type ReplayedEvent = inferRouterOutputs<AppRouter>['replay']['dryRun']['events'][number];

function describeChange(change: ReplayedEvent['changes'][number]): string {
  switch (change.change) {
    case 'added':
      return `+ ${change.node} would send ${change.request.method} ${change.request.url}`;
    case 'removed':
      return `− ${change.node} would no longer send ${change.request.method} ${change.request.url}`;
    case 'changed':
      return `~ ${change.node}: ${change.fields.map((f) => `${f.path} ${JSON.stringify(f.live)} → ${JSON.stringify(f.candidate)}`).join('; ')}`;
    case 'outcome':
      return `outcome ${change.live} → ${change.candidate}${change.reason ? ` (${change.reason})` : ''}`;
  }
}

/**
 * "Try on past events": the unsaved draft and the live version each dry-run on logged events
 * (nothing is sent), with what would change per event; an event can be pinned as a test case,
 * and the selection backfilled for real to the live version, with progress, pause and cancel.
 */
export function ReplayPanel({ flowId, flowFileName, canRun }: { flowId: string; flowFileName: string; canRun: boolean }) {
  const trpc = useTRPC();
  const store = useDesignerStore();
  const retention = useQuery(trpc.replay.retention.queryOptions());
  const [since, setSince] = useState('');
  const [until, setUntil] = useState('');
  const [limit, setLimit] = useState(50);
  const [against, setAgainst] = useState('');
  const [showUnchanged, setShowUnchanged] = useState(false);
  const replay = useMutation(trpc.replay.dryRun.mutationOptions());

  const start = () =>
    replay.mutate({ flowId, candidate: { graph: store.getState().graph() }, since: isoOf(since), until: isoOf(until), limit, ...(against ? { against: Number(against) } : {}) });

  const pin = (e: ReplayedEvent) => {
    const c: PinnedCase = {
      name: `event ${e.eventId} (${e.type})`,
      event: e.event,
      outcome: e.candidate.outcome === 'cancelled' ? 'faulted' : e.candidate.outcome,
      deliveries: e.candidate.requests.map((r) => ({ node: r.node, method: r.method, url: r.url, body: r.body })),
    };
    download(`${flowFileName}.test.yaml`, testFileText(`${flowFileName}.flow.json`, [c]), 'application/yaml');
  };

  const data = replay.data;
  const shown = data ? data.events.filter((e) => showUnchanged || e.changes.length > 0) : [];
  return (
    <div className="space-y-3 p-3 text-sm">
      <p className="text-xs text-slate-600 dark:text-slate-300" data-testid="replay-retention">
        {retention.data
          ? `Events stay replayable for ${retentionText(retention.data.hours)} (${retention.data.setting}).`
          : 'Loading how long events are kept…'}{' '}
        The draft on the canvas and the live version each run on them with every call stubbed: nothing is sent.
      </p>
      <div className="grid grid-cols-2 gap-2">
        <div>
          <label htmlFor="replay-since" className="block text-xs font-medium text-slate-700 dark:text-slate-200">
            Received from
          </label>
          <input id="replay-since" type="datetime-local" value={since} onChange={(e) => setSince(e.target.value)} className={inputClass} />
        </div>
        <div>
          <label htmlFor="replay-until" className="block text-xs font-medium text-slate-700 dark:text-slate-200">
            Until
          </label>
          <input id="replay-until" type="datetime-local" value={until} onChange={(e) => setUntil(e.target.value)} className={inputClass} />
        </div>
        <div>
          <label htmlFor="replay-limit" className="block text-xs font-medium text-slate-700 dark:text-slate-200">
            At most (events)
          </label>
          <input id="replay-limit" type="number" min={1} max={500} value={limit} onChange={(e) => setLimit(Math.max(1, Math.min(500, Number(e.target.value) || 1)))} className={inputClass} />
        </div>
        <div>
          <label htmlFor="replay-against" className="block text-xs font-medium text-slate-700 dark:text-slate-200">
            Compare with version
          </label>
          <input id="replay-against" type="number" min={1} placeholder="live" value={against} onChange={(e) => setAgainst(e.target.value.replace(/\D/g, ''))} className={inputClass} />
        </div>
      </div>
      <Button type="button" disabled={!canRun || replay.isPending} onClick={start}>
        {replay.isPending ? 'Replaying…' : 'Try on past events'}
      </Button>
      {replay.error ? <ErrorState message={replay.error.message} /> : null}
      {data ? (
        <div role="status" className="space-y-2">
          <p className="font-medium" data-testid="replay-summary">
            {data.summary.events} event{data.summary.events === 1 ? '' : 's'} replayed against {data.summary.live.label}: {data.summary.changed} would change —{' '}
            {data.summary.added} deliveries added, {data.summary.removed} removed, {data.summary.changedDeliveries} changed
            {data.summary.truncated ? ' (more events remain: narrow the time range or raise the limit)' : ''}
          </p>
          <div className="flex items-center gap-2 text-xs">
            <input id="replay-unchanged" type="checkbox" checked={showUnchanged} onChange={(e) => setShowUnchanged(e.target.checked)} />
            <label htmlFor="replay-unchanged">Show events that would not change</label>
          </div>
          <ul aria-label="Replayed events" className="space-y-2">
            {shown.map((e) => (
              <li key={e.seq} className="rounded border border-slate-200 p-2 dark:border-slate-700" aria-label={`Event ${e.eventId}`}>
                <div className="flex items-center justify-between gap-2">
                  <span className="font-mono text-xs">{e.eventId}</span>
                  <Button type="button" variant="secondary" className="px-2 py-0.5 text-xs" onClick={() => pin(e)} aria-label={`Pin ${e.eventId} as a test case`}>
                    Pin as test
                  </Button>
                </div>
                {e.changes.length === 0 ? (
                  <p className="text-xs text-slate-500 dark:text-slate-400">No change ({e.live.outcome})</p>
                ) : (
                  <ul className="mt-1 space-y-0.5 font-mono text-xs">
                    {e.changes.map((c, i) => (
                      <li key={i} className={c.change === 'added' ? 'text-emerald-800 dark:text-emerald-300' : c.change === 'removed' ? 'text-rose-700 dark:text-rose-300' : ''}>
                        {describeChange(c)}
                      </li>
                    ))}
                  </ul>
                )}
              </li>
            ))}
          </ul>
          {canRun && data.events.length > 0 ? <Backfill flowId={flowId} eventIds={data.events.map((e) => e.eventId)} /> : null}
        </div>
      ) : null}
    </div>
  );
}

/** Replays the listed events for real to the live version, a chunk at a time at the chosen rate. */
function Backfill({ flowId, eventIds }: { flowId: string; eventIds: string[] }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const [rate, setRate] = useState(20);
  const [force, setForce] = useState(false);
  const [jobId, setJobId] = useState<string>();
  const job = useQuery({ ...trpc.replay.backfill.queryOptions({ id: jobId ?? '00000000-0000-0000-0000-000000000000' }), enabled: jobId !== undefined });
  const setJob = (value: NonNullable<typeof job.data>) => queryClient.setQueryData(trpc.replay.backfill.queryKey({ id: value.id }), value);
  const start = useMutation(
    trpc.replay.startBackfill.mutationOptions({
      onSuccess: (value) => {
        setJob(value);
        setJobId(value.id);
      },
    }),
  );
  const step = useMutation(trpc.replay.stepBackfill.mutationOptions());
  const control = useMutation(trpc.replay.controlBackfill.mutationOptions({ onSuccess: (value) => setJob(value) }));
  const stepOnce = step.mutateAsync;
  const status = job.data?.status;

  // The page works a running job: a step, then the wait the server asks for, until it stops running.
  useEffect(() => {
    if (!jobId || status !== 'running') return;
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const next = async () => {
      try {
        const answer = await stepOnce({ id: jobId });
        if (stopped) return;
        setJob(answer);
        if (answer.status === 'running') timer = setTimeout(() => void next(), Math.max(50, answer.waitMs));
      } catch {
        // The error shows below; the job stays where it was and can be resumed.
      }
    };
    void next();
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps -- restarts only when the job or its status changes
  }, [jobId, status]);

  const j = job.data;
  return (
    <section aria-labelledby="backfill-heading" className="space-y-2 border-t border-slate-200 pt-2 dark:border-slate-700">
      <h3 id="backfill-heading" className="text-xs font-semibold uppercase tracking-wide text-slate-600 dark:text-slate-300">
        Backfill to the live version
      </h3>
      <p className="text-xs text-slate-600 dark:text-slate-300">
        Sends these {eventIds.length} events for real, through the live version, with their original ids. An event already backfilled to that version is not sent again unless forced.
      </p>
      <div className="flex items-end gap-2">
        <div>
          <label htmlFor="backfill-rate" className="block text-xs font-medium text-slate-700 dark:text-slate-200">
            Events per second
          </label>
          <input id="backfill-rate" type="number" min={1} max={500} value={rate} onChange={(e) => setRate(Math.max(1, Math.min(500, Number(e.target.value) || 1)))} className={inputClass} />
        </div>
        <div className="flex items-center gap-1 text-xs">
          <input id="backfill-force" type="checkbox" checked={force} onChange={(e) => setForce(e.target.checked)} />
          <label htmlFor="backfill-force">Send again if already sent</label>
        </div>
      </div>
      <Button type="button" disabled={start.isPending || status === 'running' || status === 'paused'} onClick={() => start.mutate({ flowId, eventIds, ratePerSecond: rate, force })}>
        Backfill {eventIds.length} events
      </Button>
      {start.error ? <ErrorState message={start.error.message} /> : null}
      {step.error ? <ErrorState message={step.error.message} /> : null}
      {control.error ? <ErrorState message={control.error.message} /> : null}
      {j ? (
        <div className="space-y-1" data-testid="backfill-progress">
          <progress className="w-full" max={100} value={j.percent} aria-label="Backfill progress" />
          <p className="text-xs">
            v{j.version}: {j.status} — {j.worked} of {j.total} worked, {j.queued} sent, {j.skipped} already sent, {j.filtered} not taken by the flow
          </p>
          <div className="flex gap-2">
            {j.status === 'running' ? (
              <Button type="button" variant="secondary" className="px-2 py-0.5 text-xs" onClick={() => control.mutate({ id: j.id, action: 'pause' })}>
                Pause
              </Button>
            ) : null}
            {j.status === 'paused' ? (
              <Button type="button" variant="secondary" className="px-2 py-0.5 text-xs" onClick={() => control.mutate({ id: j.id, action: 'resume' })}>
                Resume
              </Button>
            ) : null}
            {j.status === 'running' || j.status === 'paused' ? (
              <Button type="button" variant="danger" className="px-2 py-0.5 text-xs" onClick={() => control.mutate({ id: j.id, action: 'cancel' })}>
                Cancel
              </Button>
            ) : null}
          </div>
        </div>
      ) : null}
    </section>
  );
}
