import { z } from 'zod';
import { fromRuntimeExpression, isRecord, jqField, toRuntimeExpression } from './shared.ts';
import { defineTaskNode, nextPort } from './types.ts';

const variable = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'a variable name');

export default defineTaskNode({
  kind: 'for-each',
  title: 'For each',
  category: 'control',
  icon: 'repeat',
  description: 'Runs the body once per item of a list picked by a jq expression.',
  schema: z.object({
    in: jqField('.data.items'),
    each: variable.default('item'),
    at: variable.default('index'),
  }),
  ports: () => ({ input: true, outputs: [{ id: 'body', label: 'Each item', role: 'list' }, nextPort] }),
  compile: (config, ctx) => ({ task: { for: { each: config.each, in: toRuntimeExpression(config.in), at: config.at }, do: ctx.list('body') } }),
  decompile(task) {
    if (!isRecord(task.for)) return undefined;
    return { in: fromRuntimeExpression(task.for.in), each: task.for.each, at: task.for.at };
  },
});
