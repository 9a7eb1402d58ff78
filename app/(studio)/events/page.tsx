import { EventList } from '@/components/events/event-list';

export default function EventsPage() {
  return <EventList />;
}
