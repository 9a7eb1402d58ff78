'use client';

import { useQuery } from '@tanstack/react-query';
import { useTRPC } from '@/components/trpc-provider';
import { formatTime } from '@/components/ui/format';
import { EmptyState, ErrorState, LoadingRows } from '@/components/ui/states';
import { PageHeader, Table, Td } from '@/components/ui/table';

export function ConnectorList() {
  const trpc = useTRPC();
  const connectors = useQuery(trpc.connectors.list.queryOptions());
  return (
    <>
      <PageHeader title="Connectors" description="Deployed sources and targets on external systems." />
      {connectors.isPending ? (
        <LoadingRows label="connectors" />
      ) : connectors.isError ? (
        <ErrorState message={connectors.error.message} />
      ) : connectors.data.length === 0 ? (
        <EmptyState title="No connectors deployed">Connect MQTT, NATS, RabbitMQ, Redis or Kafka to bring their events in.</EmptyState>
      ) : (
        <Table label="Connectors" head={['Name', 'Kind', 'Direction', 'Status', 'Created']}>
          {connectors.data.map((c) => (
            <tr key={c.id}>
              <Td className="font-medium">{c.name}</Td>
              <Td>{c.kind}</Td>
              <Td>{c.direction}</Td>
              <Td>
                {c.status}
                {c.lastError ? <div className="text-xs text-rose-600">{c.lastError}</div> : null}
              </Td>
              <Td>{formatTime(c.createdAt)}</Td>
            </tr>
          ))}
        </Table>
      )}
    </>
  );
}
