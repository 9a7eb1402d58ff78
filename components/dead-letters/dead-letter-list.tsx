'use client';

import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import Link from 'next/link';
import { useState } from 'react';
import { canEdit, useCurrentUser } from '@/components/layout/current-user';
import { useTRPC } from '@/components/trpc-provider';
import { Button } from '@/components/ui/button';
import { formatTime } from '@/components/ui/format';
import { EmptyState, ErrorState, LoadingRows } from '@/components/ui/states';
import { PageHeader, Table, Td } from '@/components/ui/table';

/** Deliveries that failed for good, by flow and target: replay them (same event id) or discard them with a reason. */
export function DeadLetterList() {
  const trpc = useTRPC();
  const user = useCurrentUser();
  const queryClient = useQueryClient();
  const [flowId, setFlowId] = useState('');
  const [target, setTarget] = useState('');
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [reason, setReason] = useState('');
  const [message, setMessage] = useState<string>();
  const filter = { ...(flowId ? { flowId } : {}), ...(target ? { target } : {}) };
  const letters = useQuery({ ...trpc.deadLetters.list.queryOptions(filter), refetchInterval: 5_000 });
  const refresh = (text: string) => {
    setMessage(text);
    setSelected(new Set());
    void queryClient.invalidateQueries({ queryKey: trpc.deadLetters.list.queryKey() });
  };
  const replay = useMutation(trpc.deadLetters.replay.mutationOptions({ onSuccess: (r) => refresh(`Replayed ${r.replayed}.`), onError: (e) => setMessage(e.message) }));
  const discard = useMutation(
    trpc.deadLetters.discard.mutationOptions({
      onSuccess: (r) => {
        setReason('');
        refresh(`Discarded ${r.discarded}.`);
      },
      onError: (e) => setMessage(e.message),
    }),
  );
  const all = letters.data ?? [];
  const flows = [...new Map(all.filter((l) => l.flowId).map((l) => [l.flowId!, l.flowName ?? l.flowId!])).entries()];
  const targets = [...new Set(all.map((l) => l.target))];
  const editor = canEdit(user);
  const ids = [...selected];
  return (
    <>
      <PageHeader title="Dead letters" description="Deliveries that failed their last retry. Replaying sends the original event (same id) to its flow again." />
      <div className="mb-4 flex flex-wrap items-end gap-3">
        <label className="text-sm text-slate-700">
          Flow
          <select aria-label="Flow" className="ml-2 rounded-md border border-slate-300 px-2 py-1 text-sm" value={flowId} onChange={(e) => setFlowId(e.target.value)}>
            <option value="">any</option>
            {flows.map(([id, name]) => <option key={id} value={id}>{name}</option>)}
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
            <Button disabled={ids.length === 0} onClick={() => replay.mutate({ ids })}>Replay selected</Button>
            <Button variant="secondary" disabled={all.length === 0} onClick={() => replay.mutate({ every: filter })}>Replay all shown</Button>
            <input aria-label="Discard reason" placeholder="why discard?" className="rounded-md border border-slate-300 px-2 py-1 text-sm" value={reason} onChange={(e) => setReason(e.target.value)} />
            <Button variant="danger" disabled={ids.length === 0 || !reason.trim()} onClick={() => discard.mutate({ ids, reason })}>Discard selected</Button>
          </>
        ) : null}
      </div>
      {message ? <div role="status" className="mb-4 rounded-md bg-indigo-50 px-3 py-2 text-sm text-indigo-900">{message}</div> : null}
      {letters.isPending ? (
        <LoadingRows label="dead letters" />
      ) : letters.isError ? (
        <ErrorState message={letters.error.message} />
      ) : all.length === 0 ? (
        <EmptyState title="No dead letters">Every delivery so far succeeded, is still retrying, or was replayed or discarded.</EmptyState>
      ) : (
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
              <Td>{l.flowName ?? '—'}</Td>
              <Td className="font-mono text-xs">{l.target || '—'}</Td>
              <Td className="font-mono text-xs">
                <Link className="text-indigo-700 hover:underline" href={`/events/${l.eventSeq}`}>{l.eventType} · {l.eventId}</Link>
              </Td>
              <Td className="text-xs">{l.reason}</Td>
              <Td>{l.attempts}</Td>
              <Td>
                {formatTime(l.createdAt)}
                {editor ? (
                  <Button variant="secondary" className="ml-2" onClick={() => replay.mutate({ ids: [l.id] })} aria-label={`Replay ${l.eventId}`}>Replay</Button>
                ) : null}
              </Td>
            </tr>
          ))}
        </Table>
      )}
    </>
  );
}
