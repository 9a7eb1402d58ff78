'use client';

import { useQuery } from '@tanstack/react-query';
import { CartesianGrid, Legend, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { useTRPC } from '@/components/trpc-provider';
import { ErrorState, LoadingRows } from '@/components/ui/states';
import { PageHeader, Table, Td } from '@/components/ui/table';

const COLORS = ['#4f46e5', '#0891b2', '#d97706', '#db2777', '#16a34a', '#7c3aed'];
const hhmm = (d: Date) => d.toISOString().slice(11, 16);

function Figure({ label, value, scope = 'figure', hint }: { label: string; value: number | string; scope?: string; hint?: string }) {
  return (
    <div className="rounded-lg border border-slate-200 bg-white p-4" title={hint}>
      <div className="text-xs font-semibold uppercase tracking-wide text-slate-500">{label}</div>
      <div className="mt-1 text-2xl font-semibold text-slate-900" data-testid={`${scope}-${label.toLowerCase().replace(/\s+/g, '-')}`}>{value}</div>
    </div>
  );
}

interface Balance {
  accepted: number;
  filtered: number;
  delivered: number;
  deadLettered: number;
  pending: number;
}

/** The sum every window must satisfy, written out, and flagged when it does not hold. */
function BalanceLine({ b, testId }: { b: Balance; testId: string }) {
  const sum = b.filtered + b.delivered + b.deadLettered + b.pending;
  return (
    <p data-testid={testId} className={`mt-2 text-sm ${sum === b.accepted ? 'text-slate-600' : 'font-medium text-rose-700'}`}>
      accepted {b.accepted} = filtered {b.filtered} + delivered {b.delivered} + dead-lettered {b.deadLettered} + pending {b.pending}
      {sum === b.accepted ? '' : ` — ${b.accepted - sum} unaccounted for`}
    </p>
  );
}

function NodeList({ items }: { items: { key: string; text: string; n: number }[] }) {
  if (items.length === 0) return <span className="text-slate-400">—</span>;
  return (
    <ul className="space-y-0.5">
      {items.map((i) => (
        <li key={i.key}>
          <span className="font-medium">{i.n}</span> at {i.text}
        </li>
      ))}
    </ul>
  );
}

export function Overview() {
  const trpc = useTRPC();
  const hour = useQuery({ ...trpc.overview.lastHour.queryOptions(), refetchInterval: 10_000 });
  const worker = useQuery({ ...trpc.overview.worker.queryOptions(), refetchInterval: 5_000 });
  const traffic =
    hour.data?.points.map((p) => ({ minute: hhmm(p.minute), accepted: p.accepted, filtered: p.filtered, delivered: p.delivered, dead: p.deadLettered, pending: p.pending })) ?? [];
  const backlog =
    hour.data?.points.map((p) => {
      const row: Record<string, number | string> = { minute: hhmm(p.minute) };
      for (const s of hour.data.backlog) row[s.flowName] = s.points.find((x) => x.minute.getTime() === p.minute.getTime())?.n ?? 0;
      return row;
    }) ?? [];
  const f = worker.data?.figures;
  const filteredBy = worker.data?.filteredBy ?? [];
  return (
    <>
      <PageHeader
        title="Overview"
        description="The last hour of traffic, and the worker’s own counters since it started (the figures of its /metrics). An event counts once for each flow that considered it: accepted = filtered + delivered + dead-lettered + pending."
      />
      <section aria-label="Worker" className="mb-6">
        <h2 className="mb-2 text-lg font-semibold text-slate-900">
          Worker{' '}
          <span data-testid="overview-worker" className={`text-sm ${worker.data?.up ? 'text-emerald-700' : 'text-rose-700'}`}>
            {worker.isPending ? 'checking…' : worker.data?.up ? 'up' : 'down'}
          </span>
        </h2>
        {worker.data && !worker.data.up ? <ErrorState message={worker.data.detail} /> : null}
        {f ? (
          <>
            <div className="grid grid-cols-2 gap-3 md:grid-cols-5">
              <Figure label="Accepted" value={f.accepted} hint="Events times the pipeline flows that considered them" />
              <Figure label="Filtered" value={f.filtered} />
              <Figure label="Delivered" value={f.delivered} />
              <Figure label="Dead lettered" value={f.deadLettered} />
              <Figure label="Backlog" value={f.backlog} hint="Pending: deliveries waiting, retrying or in flight" />
              <Figure label="Events in" value={f.eventsIn} hint="Events committed to the log" />
              <Figure label="Retried" value={f.retried} hint="Failed attempts that will be tried again" />
              <Figure label="Rejected" value={f.rejected} hint="Requests refused at ingress" />
              <Figure label="Duplicates" value={f.duplicates} />
            </div>
            <BalanceLine testId="worker-balance" b={{ accepted: f.accepted, filtered: f.filtered, delivered: f.delivered, deadLettered: f.deadLettered, pending: f.backlog }} />
            {filteredBy.length > 0 ? (
              <div className="mt-2 text-sm text-slate-700" data-testid="worker-filtered-by">
                Filtered by:{' '}
                {filteredBy.map((x, i) => (
                  <span key={`${x.deploymentId}-${x.node.id}`}>
                    {i > 0 ? ', ' : ''}
                    {x.n} at {x.node.label} in {x.flowName}
                  </span>
                ))}
              </div>
            ) : null}
          </>
        ) : null}
      </section>
      {hour.data ? (
        <section aria-label="Last hour" className="mb-6">
          <h2 className="mb-2 text-lg font-semibold text-slate-900">Last hour, by the minute events arrived</h2>
          <div className="grid grid-cols-2 gap-3 md:grid-cols-6">
            <Figure scope="hour" label="Accepted" value={hour.data.totals.accepted} />
            <Figure scope="hour" label="Filtered" value={hour.data.totals.filtered} />
            <Figure scope="hour" label="Delivered" value={hour.data.totals.delivered} />
            <Figure scope="hour" label="Dead lettered" value={hour.data.totals.deadLettered} />
            <Figure scope="hour" label="Pending" value={hour.data.totals.pending} />
            <Figure scope="hour" label="Retried" value={hour.data.totals.retried} />
          </div>
          <BalanceLine testId="hour-balance" b={hour.data.totals} />
          {hour.data.flows.length > 0 ? (
            <div className="mt-3">
              <Table label="Per flow" head={['Flow', 'Accepted', 'Filtered', 'Filtered at', 'Delivered', 'Dead lettered', 'Pending']}>
                {hour.data.flows.map((row) => (
                  <tr key={row.deploymentId} data-testid={`flow-row-${row.deploymentId}`}>
                    <Td className="font-medium">
                      {row.flowName}
                      {row.version ? <span className="ml-1 text-xs text-slate-400">v{row.version}</span> : null}
                    </Td>
                    <Td>{row.accepted}</Td>
                    <Td>{row.filtered}</Td>
                    <Td className="text-xs">
                      <NodeList items={row.filteredBy.map((x) => ({ key: x.node?.id ?? '?', text: x.node ? `${x.node.label}${x.node.title && x.node.title !== x.node.label ? ` (${x.node.title})` : ''}` : 'an unknown node', n: x.n }))} />
                    </Td>
                    <Td>{row.delivered}</Td>
                    <Td>{row.deadLettered}</Td>
                    <Td>{row.pending}</Td>
                  </tr>
                ))}
              </Table>
            </div>
          ) : null}
        </section>
      ) : null}
      {hour.isPending ? (
        <LoadingRows label="traffic" />
      ) : hour.isError ? (
        <ErrorState message={hour.error.message} />
      ) : (
        <div className="grid gap-6 lg:grid-cols-2">
          <section aria-label="Events in and out" className="rounded-lg border border-slate-200 bg-white p-4">
            <h2 className="mb-2 text-sm font-semibold text-slate-700">Accepted, and what became of them (per minute of arrival)</h2>
            <ResponsiveContainer width="100%" height={260}>
              <LineChart data={traffic}>
                <CartesianGrid strokeDasharray="3 3" stroke="#e2e8f0" />
                <XAxis dataKey="minute" fontSize={11} />
                <YAxis allowDecimals={false} fontSize={11} />
                <Tooltip />
                <Legend />
                <Line type="monotone" dataKey="accepted" name="accepted" stroke={COLORS[0]} dot={false} isAnimationActive={false} />
                <Line type="monotone" dataKey="filtered" name="filtered" stroke={COLORS[2]} dot={false} isAnimationActive={false} />
                <Line type="monotone" dataKey="delivered" name="delivered" stroke={COLORS[4]} dot={false} isAnimationActive={false} />
                <Line type="monotone" dataKey="dead" name="dead-lettered" stroke={COLORS[3]} dot={false} isAnimationActive={false} />
                <Line type="monotone" dataKey="pending" name="pending" stroke={COLORS[1]} dot={false} isAnimationActive={false} />
              </LineChart>
            </ResponsiveContainer>
          </section>
          <section aria-label="Backlog per subscription" className="rounded-lg border border-slate-200 bg-white p-4">
            <h2 className="mb-2 text-sm font-semibold text-slate-700">Backlog per subscription (deliveries waiting)</h2>
            {hour.data.backlog.length === 0 ? (
              <p className="text-sm text-slate-500">Nothing waited for delivery in the last hour.</p>
            ) : (
              <ResponsiveContainer width="100%" height={260}>
                <LineChart data={backlog}>
                  <CartesianGrid strokeDasharray="3 3" stroke="#e2e8f0" />
                  <XAxis dataKey="minute" fontSize={11} />
                  <YAxis allowDecimals={false} fontSize={11} />
                  <Tooltip />
                  <Legend />
                  {hour.data.backlog.map((s, i) => (
                    <Line key={s.deploymentId} type="stepAfter" dataKey={s.flowName} stroke={COLORS[i % COLORS.length]} dot={false} isAnimationActive={false} />
                  ))}
                </LineChart>
              </ResponsiveContainer>
            )}
          </section>
        </div>
      )}
    </>
  );
}
