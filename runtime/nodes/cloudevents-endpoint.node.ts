import { z } from 'zod';
import { dslUri, eventFilterWith, readOneFilter } from './shared.ts';
import { defineSourceNode, sourcePorts } from './types.ts';

/** Events posted to the worker's shared `/events` ingress, selected by their attributes. */
export default defineSourceNode({
  kind: 'cloudevents-endpoint',
  title: 'CloudEvents endpoint',
  category: 'source',
  icon: 'radio',
  description: 'Starts the flow for each CloudEvent posted to the mesh (POST /events) that matches the type and source.',
  schema: z.object({
    eventType: z.string().min(1).default('com.example.order.created'),
    eventSource: dslUri.optional(),
  }),
  ports: () => sourcePorts,
  binding: { system: 'cloudevents-http', direction: 'source' },
  compileSource: (config) => ({ schedule: { on: { one: { with: eventFilterWith(config) } } } }),
  decompileSource(schedule) {
    const filter = readOneFilter(schedule);
    return filter ? { eventType: filter.type, eventSource: filter.source } : undefined;
  },
});
