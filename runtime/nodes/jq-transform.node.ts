import { z } from 'zod';
import { fromRuntimeExpression, isRecord, jqField, toRuntimeExpression } from './shared.ts';
import { defineTaskNode, linearPorts } from './types.ts';

/**
 * `set` only takes an object in DSL 1.0, so a jq result of any shape is set under `result`
 * and lifted out again by `output.as`.
 */
export default defineTaskNode({
  kind: 'jq-transform',
  title: 'jq transform',
  category: 'transform',
  icon: 'braces',
  description: 'Replaces the event with the result of a jq expression.',
  schema: z.object({ expression: jqField('{ id: .id, data: .data }') }),
  ports: () => linearPorts,
  pipeline: (config) => ({ role: 'transform', transform: { kind: 'jq', expression: config.expression } }),
  compile: (config) => ({ task: { set: { result: toRuntimeExpression(config.expression) }, output: { as: '${ .result }' } } }),
  decompile(task) {
    if (!isRecord(task.set)) return undefined;
    const expression = fromRuntimeExpression(task.set.result);
    return expression === undefined ? undefined : { expression };
  },
});
