'use client';

import { useQuery } from '@tanstack/react-query';
import { CartesianGrid, Legend, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { useTRPC } from '@/components/trpc-provider';
import { ErrorState, LoadingRows } from '@/components/ui/states';
import { PageHeader } from '@/components/ui/table';

const COLORS = ['#4f46e5', '#0891b2', '#d97706', '#db2777', '#16a34a', '#7c3aed'];
const hhmm = (d: Date) => d.toISOString().slice(11, 16);

function Figure({ label, value }: { label: string; value: number | string }) {
  return (
    <div className="rounded-lg border border-slate-200 bg-white p-4">
      <div className="text-xs font-semibold uppercase tracking-wide text-slate-500">{label}</div>
      <div className="mt-1 text-2xl font-semibold text-slate-900" data-testid={`figure-${label.toLowerCase().replace(/\s+/g, '-')}`}>{value}</div>
    </div>
  );
}

export function Overview() {
  const trpc = useTRPC();
  const hour = useQuery({ ...trpc.overview.lastHour.queryOptions(), refetchInterval: 10_000 });
  const worker = useQuery({ ...trpc.overview.worker.queryOptions(), refetchInterval: 5_000 });
  const traffic = hour.data?.points.map((p) => ({ minute: hhmm(p.minute), in: p.eventsIn, out: p.delivered, failures: p.failures })) ?? [];
  const backlog =
    hour.data?.points.map((p) => {
      const row: Record<string, number | string> = { minute: hhmm(p.minute) };
      for (const s of hour.data.backlog) row[s.flowName] = s.points.find((x) => x.minute.getTime() === p.minute.getTime())?.n ?? 0;
      return row;
    }) ?? [];
  const f = worker.data?.figures;
  return (
    <>
      <PageHeader title="Overview" description="The last hour of traffic, and the worker’s own counters since it started (the figures of its /metrics)." />
      <section aria-label="Worker" className="mb-6">
        <h2 className="mb-2 text-lg font-semibold text-slate-900">
          Worker{' '}
          <span data-testid="overview-worker" className={`text-sm ${worker.data?.up ? 'text-emerald-700' : 'text-rose-700'}`}>
            {worker.isPending ? 'checking…' : worker.data?.up ? 'up' : 'down'}
          </span>
        </h2>
        {worker.data && !worker.data.up ? <ErrorState message={worker.data.detail} /> : null}
        {f ? (
          <div className="grid grid-cols-2 gap-3 md:grid-cols-4">
            <Figure label="Accepted" value={f.accepted} />
            <Figure label="Delivered" value={f.delivered} />
            <Figure label="Retried" value={f.retried} />
            <Figure label="Dead lettered" value={f.deadLettered} />
            <Figure label="Filtered" value={f.filtered} />
            <Figure label="Duplicates" value={f.duplicates} />
            <Figure label="Rejected" value={f.rejected} />
            <Figure label="Backlog" value={f.backlog} />
          </div>
        ) : null}
      </section>
      {hour.isPending ? (
        <LoadingRows label="traffic" />
      ) : hour.isError ? (
        <ErrorState message={hour.error.message} />
      ) : (
        <div className="grid gap-6 lg:grid-cols-2">
          <section aria-label="Events in and out" className="rounded-lg border border-slate-200 bg-white p-4">
            <h2 className="mb-2 text-sm font-semibold text-slate-700">Events in, delivered, failures (per minute)</h2>
            <ResponsiveContainer width="100%" height={260}>
              <LineChart data={traffic}>
                <CartesianGrid strokeDasharray="3 3" stroke="#e2e8f0" />
                <XAxis dataKey="minute" fontSize={11} />
                <YAxis allowDecimals={false} fontSize={11} />
                <Tooltip />
                <Legend />
                <Line type="monotone" dataKey="in" name="in" stroke={COLORS[0]} dot={false} isAnimationActive={false} />
                <Line type="monotone" dataKey="out" name="delivered" stroke={COLORS[4]} dot={false} isAnimationActive={false} />
                <Line type="monotone" dataKey="failures" name="failures" stroke={COLORS[3]} dot={false} isAnimationActive={false} />
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
