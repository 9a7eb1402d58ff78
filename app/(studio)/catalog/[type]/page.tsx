import { EventTypePage } from '@/components/catalog/event-type-page';

export default async function CatalogTypePage({ params }: { params: Promise<{ type: string }> }) {
  const { type } = await params;
  return <EventTypePage type={decodeURIComponent(type)} />;
}
