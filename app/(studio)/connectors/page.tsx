import { ConnectorGallery } from '@/components/connectors/connector-gallery';

export default function ConnectorsPage() {
  return <ConnectorGallery />;
}
