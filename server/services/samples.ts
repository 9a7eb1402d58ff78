/**
 * Sample events for the designer's test panel and its inspector previews: each catalog type's
 * example, and the newest event of each catalog type captured in the event log (what really
 * arrives), so previews run on real shapes rather than a made-up order.
 */
import type { PrismaClient } from '@/prisma/generated/client';

export interface SampleEvent {
  key: string;
  label: string;
  type: string;
  event: Record<string, unknown>;
}

export async function sampleEvents(db: PrismaClient): Promise<SampleEvent[]> {
  const types = await db.eventType.findMany({ orderBy: { type: 'asc' }, select: { type: true, source: true, examples: true } });
  const examples = types.flatMap((t) => {
    const example: unknown = Array.isArray(t.examples) ? t.examples[0] : undefined;
    if (example === undefined || example === null) return [];
    const data = typeof example === 'object' && !Array.isArray(example) && 'data' in example ? (example as { data: unknown }).data : example;
    const event = { specversion: '1.0', id: 'sample-1', source: t.source || '/studio/test', type: t.type, datacontenttype: 'application/json', data };
    return [{ key: `example:${t.type}`, label: `${t.type} (catalog example)`, type: t.type, event }];
  });
  // One indexed look-up per type; the picker lists at most this many captured ones.
  const captured = await Promise.all(
    types.slice(0, 50).map((t) =>
      db.event.findFirst({
        where: { type: t.type },
        orderBy: { seq: 'desc' },
        select: { id: true, source: true, type: true, subject: true, time: true, datacontenttype: true, data: true },
      }),
    ),
  );
  const latest = captured.flatMap((e) => {
    if (!e) return [];
    const event = {
      specversion: '1.0',
      id: e.id,
      source: e.source,
      type: e.type,
      ...(e.subject ? { subject: e.subject } : {}),
      ...(e.time ? { time: e.time.toISOString() } : {}),
      ...(e.datacontenttype ? { datacontenttype: e.datacontenttype } : {}),
      data: e.data,
    };
    return [{ key: `captured:${e.type}`, label: `${e.type} (latest captured, ${e.id})`, type: e.type, event }];
  });
  return [...examples, ...latest];
}
