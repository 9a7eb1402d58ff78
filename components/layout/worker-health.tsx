'use client';

import { useQuery } from '@tanstack/react-query';
import { useTRPC } from '@/components/trpc-provider';

export function WorkerHealth() {
  const trpc = useTRPC();
  const health = useQuery({ ...trpc.system.workerHealth.queryOptions(), refetchInterval: 5_000 });
  const state = health.isPending ? 'checking' : health.data?.up ? 'up' : 'down';
  const color = state === 'up' ? 'bg-emerald-500' : state === 'down' ? 'bg-rose-500' : 'bg-slate-300';
  const text = state === 'up' ? 'Worker up' : state === 'down' ? 'Worker down' : 'Checking worker…';
  return (
    <div
      role="status"
      data-testid="worker-health"
      data-state={state}
      title={health.data?.detail}
      className="flex items-center gap-2 text-sm text-slate-600"
    >
      <span aria-hidden className={`h-2.5 w-2.5 rounded-full ${color}`} />
      {text}
    </div>
  );
}
