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
  const { event, deliveries, explanation } = detail.data;
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
      <section aria-label="Why it ran" className="mb-6">
        <h2 className="mb-1 text-lg font-semibold text-slate-900">What each flow did with it</h2>
        <p className="mb-2 text-sm text-slate-500" data-testid="explain-summary">{explanation.summary}</p>
        {explanation.decisions.length > 0 ? (
          <ul className="space-y-2" aria-label="Flows that considered this event">
            {explanation.decisions.map((d) => (
              <li key={d.deploymentId} className="flex flex-wrap items-center gap-2 rounded-lg border border-slate-200 bg-white px-3 py-2 text-sm" data-testid={`decision-${d.deploymentId}`}>
                <StatusPill status={d.outcome} />
                <span className="text-slate-800">{d.summary}</span>
                {d.flowId ? (
                  <Link className="text-xs text-indigo-700 hover:underline" href={`/flows/${d.flowId}`}>
                    flow{d.version ? ` v${d.version}` : ''}
                  </Link>
                ) : null}
                {d.runId ? (
                  <Link className="text-xs text-indigo-700 hover:underline" href={`/runs/${d.runId}`}>
                    run timeline
                  </Link>
                ) : null}
              </li>
            ))}
          </ul>
        ) : null}
      </section>
      <h2 className="mb-2 text-lg font-semibold text-slate-900">Deliveries</h2>
      <Table label="Deliveries" head={['Flow', 'Outcome', 'Attempt', 'Detail', 'At']}>
        {deliveries.map((d, i) => (
          <tr key={i}>
            <Td>{d.flowName ?? '—'}</Td>
            <Td><StatusPill status={d.kind} /></Td>
            <Td>{d.attempt === 0 ? 'at ingress' : (d.attempt ?? '—')}</Td>
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
