import { z } from 'zod';
import { dslUri, fromRuntimeExpression, isRecord, jqField, toRuntimeExpression } from './shared.ts';
import { defineTaskNode, linearPorts } from './types.ts';

export default defineTaskNode({
  kind: 'emit-event',
  title: 'Emit event',
  category: 'target',
  icon: 'send',
  description: 'Publishes a new CloudEvent onto the mesh, where other flows can consume it.',
  schema: z.object({
    type: z.string().min(1).default('com.example.order.processed'),
    source: dslUri.default('meshflow://flows'),
    data: jqField('.data'),
    subject: z.string().min(1).optional(),
  }),
  ports: () => linearPorts,
  compile: (config) => ({
    task: {
      emit: {
        event: {
          with: {
            source: config.source,
            type: config.type,
            ...(config.subject ? { subject: config.subject } : {}),
            data: toRuntimeExpression(config.data),
          },
        },
      },
    },
  }),
  decompile(task) {
    if (!isRecord(task.emit) || !isRecord(task.emit.event) || !isRecord(task.emit.event.with)) return undefined;
    const { source, type, subject, data } = task.emit.event.with;
    return { source, type, subject, data: fromRuntimeExpression(data) };
  },
});
