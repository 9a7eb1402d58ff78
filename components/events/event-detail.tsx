'use client';

import { useQuery } from '@tanstack/react-query';
import Link from 'next/link';
import { JsonBlock, StatusPill } from '@/components/runs/run-status';
import { useTRPC } from '@/components/trpc-provider';
import { formatTime } from '@/components/ui/format';
import { ErrorState, LoadingRows } from '@/components/ui/states';
import { PageHeader, Table, Td } from '@/components/ui/table';

export function EventDetail({ seq }: { seq: string }) {
  const trpc = useTRPC();
  const detail = useQuery({ ...trpc.events.get.queryOptions({ seq }), refetchInterval: 3_000 });
  if (detail.isPending) return <LoadingRows label="event" />;
  if (detail.isError) return <ErrorState message={detail.error.message} />;
  const { event, subscriptions, deliveries } = detail.data;
  const attributes: [string, unknown][] = [
    ['id', event.id],
    ['source', event.source],
    ['type', event.type],
    ['subject', event.subject],
    ['time', event.time?.toISOString()],
    ['datacontenttype', event.datacontenttype],
    ['dataschema', event.dataschema],
    ...Object.entries(event.extensions),
  ];
  return (
    <>
      <PageHeader title={event.type} description={`Event ${event.id} from ${event.source}, received ${formatTime(event.receivedAt)} on ${event.ingress}`} />
      <div className="mb-6 grid gap-4 md:grid-cols-2">
        <dl aria-label="Attributes" className="grid grid-cols-[max-content_1fr] gap-x-4 gap-y-1 rounded-lg border border-slate-200 bg-white p-4 text-sm">
          {attributes
            .filter(([, v]) => v !== null && v !== undefined)
            .map(([k, v]) => (
              <div key={k} className="contents">
                <dt className="font-mono text-xs text-slate-500">{k}</dt>
                <dd className="break-all font-mono text-xs text-slate-800">{String(v)}</dd>
              </div>
            ))}
        </dl>
        <JsonBlock label="Data" value={event.dataBase64 ?? event.data} />
      </div>
      <h2 className="mb-2 text-lg font-semibold text-slate-900">Matched subscriptions</h2>
      {subscriptions.length === 0 ? (
        <p className="mb-6 text-sm text-slate-500">No deployed flow took this event.</p>
      ) : (
        <ul className="mb-6 list-inside list-disc text-sm">
          {subscriptions.map((s) => (
            <li key={s.deploymentId}>
              {s.flowId ? <Link className="text-indigo-700 hover:underline" href={`/flows/${s.flowId}`}>{s.flowName}</Link> : 'a deleted flow'}{' '}
              <span className="font-mono text-xs text-slate-400">deployment {s.deploymentId}</span>
            </li>
          ))}
        </ul>
      )}
      <h2 className="mb-2 text-lg font-semibold text-slate-900">Deliveries</h2>
      <Table label="Deliveries" head={['Flow', 'Outcome', 'Attempt', 'Detail', 'At']}>
        {deliveries.map((d, i) => (
          <tr key={i}>
            <Td>{d.flowName ?? '—'}</Td>
            <Td><StatusPill status={d.kind} /></Td>
            <Td>{d.attempt ?? '—'}</Td>
            <Td className="text-xs">
              {d.kind === 'run' && d.ref ? <Link className="text-indigo-700 hover:underline" href={`/runs/${d.ref}`}>run {d.detail}</Link> : (d.detail ?? '—')}
            </Td>
            <Td>{formatTime(d.at)}</Td>
          </tr>
        ))}
      </Table>
    </>
  );
}
