import { z } from 'zod';
import { dslUri, isRecord } from './shared.ts';
import { defineTaskNode } from './types.ts';

export default defineTaskNode({
  kind: 'raise-error',
  title: 'Raise error',
  category: 'control',
  icon: 'triangle-alert',
  description: 'Fails the flow (or the enclosing try) with a problem-details error.',
  schema: z.object({
    type: dslUri.default('https://serverlessworkflow.io/spec/1.0.0/errors/runtime'),
    status: z.number().int().min(100).max(599).default(500),
    title: z.string().min(1).optional(),
    detail: z.string().min(1).optional(),
  }),
  ports: () => ({ input: true, outputs: [] }),
  compile: (config) => ({
    task: {
      raise: {
        error: {
          type: config.type,
          status: config.status,
          ...(config.title ? { title: config.title } : {}),
          ...(config.detail ? { detail: config.detail } : {}),
        },
      },
    },
  }),
  decompile(task) {
    if (!isRecord(task.raise) || !isRecord(task.raise.error)) return undefined;
    const { type, status, title, detail } = task.raise.error;
    return { type, status, title, detail };
  },
});
