import { z } from 'zod';
import { filterPorts, filterTask, jqField, readFilterCondition } from './shared.ts';
import { defineTaskNode } from './types.ts';

export default defineTaskNode({
  kind: 'jq-filter',
  title: 'jq predicate',
  category: 'filter',
  icon: 'filter',
  description: 'Keeps events for which a jq expression is true.',
  schema: z.object({ expression: jqField('.data != null') }),
  ports: () => filterPorts,
  // The engine fails a run whose `when` raises an error; the data plane fails the event the same way.
  pipeline: (config) => ({ role: 'filter', filter: { jq: config.expression }, onError: 'fault' }),
  compile: (config, ctx) => ({ task: filterTask(config.expression, ctx) }),
  decompile(task) {
    const expression = readFilterCondition(task);
    return expression === undefined ? undefined : { expression };
  },
});
