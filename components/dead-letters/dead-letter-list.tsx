'use client';

import { useInfiniteQuery, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import Link from 'next/link';
import { useState } from 'react';
import { canEdit, useCurrentUser } from '@/components/layout/current-user';
import { useTRPC } from '@/components/trpc-provider';
import { Button } from '@/components/ui/button';
import { formatTime } from '@/components/ui/format';
import { EmptyState, ErrorState, LoadingRows } from '@/components/ui/states';
import { PageHeader, Table, Td } from '@/components/ui/table';

/** How many selected letters go per replay call (the server's limit). */
const CHUNK = 500;

type ReplayTo = 'live' | 'original';

interface Tally {
  replayed: number;
  destinations: Map<string, { flowName: string; version: number; count: number }>;
  refused: { id: string; reason: string }[];
}

/** "Replayed 1 to v3", or, across flows, "Replayed 5: 3 to orders v3, 2 to billing v2"; then what stayed and why. */
function describe(tally: Tally): string {
  const to = [...tally.destinations.values()];
  const where =
    to.length === 1 ? ` to v${to[0]!.version}` : to.length > 1 ? `: ${to.map((d) => `${d.count} to ${d.flowName} v${d.version}`).join(', ')}` : '';
  const reasons = [...new Set(tally.refused.map((r) => r.reason))];
  const refused = tally.refused.length > 0 ? ` ${tally.refused.length} not replayed: ${reasons.join('; ')}.` : '';
  return `Replayed ${tally.replayed}${where}.${refused}`;
}

/** Deliveries that failed for good, by flow and target: replay them (same event id) to the flow as it is now, or discard them with a reason. */
export function DeadLetterList() {
  const trpc = useTRPC();
  const user = useCurrentUser();
  const queryClient = useQueryClient();
  const [flowId, setFlowId] = useState('');
  const [target, setTarget] = useState('');
  const [replayTo, setReplayTo] = useState<ReplayTo>('live');
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [reason, setReason] = useState('');
  const [message, setMessage] = useState<string>();
  const [progress, setProgress] = useState<{ done: number; total: number }>();
  const filter = { ...(flowId ? { flowId } : {}), ...(target ? { target } : {}) };
  const letters = useInfiniteQuery({
    ...trpc.deadLetters.list.infiniteQueryOptions(filter, { getNextPageParam: (page) => page.nextCursor }),
    refetchInterval: progress ? false : 5_000,
  });
  const flowOptions = useQuery({ ...trpc.deadLetters.flows.queryOptions(), refetchInterval: 5_000 });
  const refresh = (text: string) => {
    setMessage(text);
    setSelected(new Set());
    void queryClient.invalidateQueries({ queryKey: trpc.deadLetters.pathKey() });
  };
  const replayCall = useMutation(trpc.deadLetters.replay.mutationOptions());
  const discard = useMutation(
    trpc.deadLetters.discard.mutationOptions({
      onSuccess: (r) => {
        setReason('');
        refresh(`Discarded ${r.discarded}.`);
      },
      onError: (e) => setMessage(e.message),
    }),
  );

  /** Replays in chunks until every chosen letter went (or was refused), showing progress as it goes. */
  const replay = async (what: { ids: string[] } | { every: typeof filter; total: number }) => {
    const tally: Tally = { replayed: 0, destinations: new Map(), refused: [] };
    const add = (r: { replayed: number; destinations: { flowId: string; flowName: string; version: number; count: number }[]; refused: { id: string; reason: string }[] }) => {
      tally.replayed += r.replayed;
      tally.refused.push(...r.refused);
      for (const d of r.destinations) {
        const key = `${d.flowId}:${d.version}`;
        const entry = tally.destinations.get(key) ?? { flowName: d.flowName, version: d.version, count: 0 };
        entry.count += d.count;
        tally.destinations.set(key, entry);
      }
    };
    setMessage(undefined);
    try {
      if ('ids' in what) {
        setProgress({ done: 0, total: what.ids.length });
        for (let i = 0; i < what.ids.length; i += CHUNK) {
          const ids = what.ids.slice(i, i + CHUNK);
          try {
            add(await replayCall.mutateAsync({ ids, to: replayTo }));
          } catch (error) {
            if (what.ids.length === 1) throw error;
            tally.refused.push(...ids.map((id) => ({ id, reason: (error as Error).message })));
          }
          setProgress({ done: Math.min(i + CHUNK, what.ids.length), total: what.ids.length });
        }
      } else {
        let cursor: string | null = null;
        let done = 0;
        setProgress({ done, total: what.total });
        do {
          const r: Awaited<ReturnType<typeof replayCall.mutateAsync>> = await replayCall.mutateAsync({ every: what.every, to: replayTo, cursor });
          add(r);
          done += r.replayed + r.refused.length;
          setProgress({ done, total: Math.max(done, what.total) });
          cursor = r.nextCursor;
        } while (cursor);
      }
      refresh(describe(tally));
    } catch (error) {
      refresh((error as Error).message);
    } finally {
      setProgress(undefined);
    }
  };

  const all = letters.data?.pages.flatMap((page) => page.items) ?? [];
  const total = letters.data?.pages[0]?.total ?? 0;
  const targets = [...new Set(all.map((l) => l.target))];
  const editor = canEdit(user);
  const busy = progress !== undefined;
  const ids = [...selected];
  return (
    <>
      <PageHeader
        title="Dead letters"
        description="Deliveries that failed their last retry. Replaying sends the original event (same id) to its flow as it is deployed now, unless you choose the version that failed."
      />
      <div className="mb-4 flex flex-wrap items-end gap-3">
        <label className="text-sm text-slate-700">
          Flow
          <select aria-label="Flow" className="ml-2 rounded-md border border-slate-300 px-2 py-1 text-sm" value={flowId} onChange={(e) => setFlowId(e.target.value)}>
            <option value="">any</option>
            {(flowOptions.data ?? []).map((f) => <option key={f.id} value={f.id}>{f.name}</option>)}
          </select>
        </label>
        <label className="text-sm text-slate-700">
          Target
          <select aria-label="Target" className="ml-2 rounded-md border border-slate-300 px-2 py-1 text-sm" value={target} onChange={(e) => setTarget(e.target.value)}>
            <option value="">any</option>
            {targets.map((t) => <option key={t} value={t}>{t || '(none)'}</option>)}
          </select>
        </label>
        {editor ? (
          <>
            <label className="text-sm text-slate-700">
              Replay to
              <select aria-label="Replay to" className="ml-2 rounded-md border border-slate-300 px-2 py-1 text-sm" value={replayTo} onChange={(e) => setReplayTo(e.target.value as ReplayTo)}>
                <option value="live">the live version</option>
                <option value="original">the version that failed</option>
              </select>
            </label>
            <Button disabled={ids.length === 0 || busy} onClick={() => void replay({ ids })}>Replay selected</Button>
            <Button variant="secondary" disabled={total === 0 || busy} onClick={() => void replay({ every: filter, total })}>{total > 0 ? `Replay all ${total}` : 'Replay all'}</Button>
            <input aria-label="Discard reason" placeholder="why discard?" className="rounded-md border border-slate-300 px-2 py-1 text-sm" value={reason} onChange={(e) => setReason(e.target.value)} />
            <Button variant="danger" disabled={ids.length === 0 || !reason.trim() || busy} onClick={() => discard.mutate({ ids, reason })}>Discard selected</Button>
          </>
        ) : null}
      </div>
      {progress ? (
        <div className="mb-4 flex items-center gap-3 text-sm text-slate-700">
          <progress aria-label="Replay progress" max={progress.total} value={progress.done} className="w-64" />
          Replaying… {progress.done} of {progress.total}
        </div>
      ) : null}
      {message ? <div role="status" className="mb-4 rounded-md bg-indigo-50 px-3 py-2 text-sm text-indigo-900">{message}</div> : null}
      {letters.isPending ? (
        <LoadingRows label="dead letters" />
      ) : letters.isError ? (
        <ErrorState message={letters.error.message} />
      ) : all.length === 0 ? (
        <EmptyState title="No dead letters">Every delivery so far succeeded, is still retrying, or was replayed or discarded.</EmptyState>
      ) : (
        <>
          <p className="mb-2 text-sm text-slate-500">{all.length < total ? `Showing ${all.length} of ${total}, newest first.` : `${total} waiting, newest first.`}</p>
          <Table label="Dead letters" head={['', 'Flow', 'Target', 'Event', 'Reason', 'Attempts', 'When']}>
            {all.map((l) => (
              <tr key={l.id}>
                <Td>
                  <input
                    type="checkbox"
                    aria-label={`Select ${l.eventId}`}
                    checked={selected.has(l.id)}
                    onChange={(e) => {
                      const next = new Set(selected);
                      if (e.target.checked) next.add(l.id);
                      else next.delete(l.id);
                      setSelected(next);
                    }}
                  />
                </Td>
                <Td>
                  {l.flowName ?? '—'}
                  {l.version !== null ? <span className="ml-1 text-xs text-slate-500">v{l.version}</span> : null}
                </Td>
                <Td className="font-mono text-xs">{l.target || '—'}</Td>
                <Td className="font-mono text-xs">
                  <Link className="text-indigo-700 hover:underline" href={`/events/${l.eventSeq}`}>{l.eventType} · {l.eventId}</Link>
                </Td>
                <Td className="text-xs">{l.reason}</Td>
                <Td>{l.attempts}</Td>
                <Td>
                  {formatTime(l.createdAt)}
                  {editor ? (
                    <Button variant="secondary" className="ml-2" disabled={busy} onClick={() => void replay({ ids: [l.id] })} aria-label={`Replay ${l.eventId}`}>Replay</Button>
                  ) : null}
                </Td>
              </tr>
            ))}
          </Table>
          {letters.hasNextPage ? (
            <div className="mt-3">
              <Button variant="secondary" disabled={letters.isFetchingNextPage} onClick={() => void letters.fetchNextPage()}>
                {letters.isFetchingNextPage ? 'Loading…' : 'Load more'}
              </Button>
            </div>
          ) : null}
        </>
      )}
    </>
  );
}
