const statusColor: Record<string, string> = {
  completed: 'bg-emerald-100 text-emerald-800',
  delivered: 'bg-emerald-100 text-emerald-800',
  faulted: 'bg-rose-100 text-rose-800',
  dead_lettered: 'bg-rose-100 text-rose-800',
  running: 'bg-sky-100 text-sky-800',
  pending: 'bg-sky-100 text-sky-800',
  waiting: 'bg-amber-100 text-amber-800',
  retried: 'bg-amber-100 text-amber-800',
  retrying: 'bg-amber-100 text-amber-800',
  suspended: 'bg-violet-100 text-violet-800',
};

/** A status as a coloured pill: runs, steps and deliveries share one palette. */
export function StatusPill({ status }: { status: string }) {
  return <span className={`rounded-full px-2 py-0.5 text-xs font-medium ${statusColor[status] ?? 'bg-slate-100 text-slate-700'}`}>{status.replace('_', ' ')}</span>;
}

/** JSON in a scrollable block, labelled for screen readers and tests. */
export function JsonBlock({ label, value }: { label: string; value: unknown }) {
  return (
    <div>
      <div className="text-xs font-semibold uppercase tracking-wide text-slate-500">{label}</div>
      <pre aria-label={label} className="mt-1 max-h-64 overflow-auto rounded-md bg-slate-50 p-2 font-mono text-xs text-slate-800">
        {value === undefined || value === null ? '—' : JSON.stringify(value, null, 2)}
      </pre>
    </div>
  );
}
