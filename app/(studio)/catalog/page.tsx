import { EventTypeList } from '@/components/catalog/event-type-list';

export default function CatalogPage() {
  return <EventTypeList />;
}
