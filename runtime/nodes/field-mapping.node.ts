import { z } from 'zod';
import { fromRuntimeExpression, isRecord, toRuntimeExpression } from './shared.ts';
import { defineTaskNode, linearPorts } from './types.ts';

const mapping = z.object({
  to: z.string().regex(/^[A-Za-z_][A-Za-z0-9_-]*$/, 'a field name'),
  from: z.string().min(1, 'a jq expression'),
});

export default defineTaskNode({
  kind: 'field-mapping',
  title: 'Field mapping',
  category: 'transform',
  icon: 'arrow-right-left',
  description: 'Builds a new object field by field, each from a jq expression on the event.',
  schema: z.object({
    mappings: z
      .array(mapping)
      .min(1)
      .default([{ to: 'id', from: '.id' }])
      .refine((items) => new Set(items.map((item) => item.to)).size === items.length, 'each target field once'),
  }),
  ports: () => linearPorts,
  pipeline: (config) => ({ role: 'transform', transform: { kind: 'jq', expression: `{${config.mappings.map((m) => `${JSON.stringify(m.to)}: (${m.from})`).join(', ')}}` } }),
  compile: (config) => ({ task: { set: Object.fromEntries(config.mappings.map((m) => [m.to, toRuntimeExpression(m.from)])) } }),
  decompile(task) {
    if (!isRecord(task.set)) return undefined;
    const mappings = Object.entries(task.set).map(([to, value]) => ({ to, from: fromRuntimeExpression(value) }));
    return mappings.every((m) => m.from !== undefined) ? { mappings } : undefined;
  },
});
