import { ConnectorList } from '@/components/connectors/connector-list';

export default function ConnectorsPage() {
  return <ConnectorList />;
}
