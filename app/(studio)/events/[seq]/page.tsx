import { EventDetail } from '@/components/events/event-detail';

export default async function EventPage({ params }: { params: Promise<{ seq: string }> }) {
  const { seq } = await params;
  return <EventDetail seq={seq} />;
}
