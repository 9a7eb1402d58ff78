'use client';

/** Configured connectors with their live status (written by the workers), polled every 2 s. */
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useTRPC } from '@/components/trpc-provider';
import { Button } from '@/components/ui/button';
import { formatTime } from '@/components/ui/format';
import { EmptyState, ErrorState, LoadingRows } from '@/components/ui/states';
import { Table, Td } from '@/components/ui/table';

const STATUS_STYLE: Record<string, string> = {
  connected: 'bg-emerald-100 text-emerald-800',
  connecting: 'bg-amber-100 text-amber-800',
  reconnecting: 'bg-amber-100 text-amber-800',
  failed: 'bg-rose-100 text-rose-800',
  stopped: 'bg-slate-100 text-slate-600',
};

export function ConnectorList() {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const connectors = useQuery({ ...trpc.connectors.list.queryOptions(), refetchInterval: 2_000 });
  const refresh = () => queryClient.invalidateQueries({ queryKey: trpc.connectors.list.queryKey() });
  const deploy = useMutation(trpc.connectors.deploy.mutationOptions({ onSuccess: refresh }));
  const undeploy = useMutation(trpc.connectors.undeploy.mutationOptions({ onSuccess: refresh }));
  const error = deploy.error ?? undeploy.error;
  if (connectors.isPending) return <LoadingRows label="connectors" />;
  if (connectors.isError) return <ErrorState message={connectors.error.message} />;
  if (connectors.data.length === 0) {
    return <EmptyState title="No connectors deployed">Pick one in the gallery above to bring events in from MQTT, NATS, RabbitMQ, Redis, Kafka or PostgreSQL.</EmptyState>;
  }
  return (
    <>
      {error ? <ErrorState message={error.message} /> : null}
      <Table label="Connectors" head={['Name', 'Kind', 'Status', 'Events in', 'Backlog', 'Last event', '']}>
        {connectors.data.map((c) => (
          <tr key={c.id} data-testid={`connector-${c.name}`}>
            <Td className="font-medium">
              {c.name}
              <div className="font-mono text-xs text-slate-400">{String(c.config.connection ?? '')}</div>
            </Td>
            <Td>
              {c.title}
              <div className="text-xs text-slate-400">{c.direction}</div>
            </Td>
            <Td>
              <span data-testid="connector-status" className={`rounded px-1.5 py-0.5 text-xs font-medium ${STATUS_STYLE[c.status] ?? STATUS_STYLE.stopped}`}>
                {c.status}
              </span>
              {c.lastError ? <div className="mt-1 max-w-xs text-xs text-rose-600">{c.lastError}</div> : null}
            </Td>
            <Td>
              <span data-testid="connector-events-in">{c.eventsIn}</span>
            </Td>
            <Td>{c.backlog ?? '—'}</Td>
            <Td>{formatTime(c.lastEventAt)}</Td>
            <Td>
              {c.direction !== 'source' ? null : c.deployed ? (
                <Button variant="secondary" onClick={() => undeploy.mutate({ id: c.id })}>
                  Undeploy
                </Button>
              ) : (
                <Button variant="secondary" onClick={() => deploy.mutate({ id: c.id })}>
                  Deploy
                </Button>
              )}
            </Td>
          </tr>
        ))}
      </Table>
    </>
  );
}
