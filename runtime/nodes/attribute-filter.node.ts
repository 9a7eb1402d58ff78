import { z } from 'zod';
import { subscriptionFilterSchema, subscriptionFilterToJq, subscriptionFilterWarnings } from './predicates.ts';
import { filterPorts, filterTask, readFilterCondition } from './shared.ts';
import { defineTaskNode } from './types.ts';

/** CloudEvents Subscriptions API filters on event attributes; a list means all must match. */
export default defineTaskNode({
  kind: 'attribute-filter',
  title: 'Attribute filter',
  category: 'filter',
  icon: 'list-filter',
  description: 'Keeps events whose attributes match CloudEvents subscription filters (exact, prefix, suffix, all, any, not, sql).',
  schema: z.object({
    filters: z.array(subscriptionFilterSchema).min(1).default([{ exact: { type: 'com.example.order.created' } }]),
  }),
  ports: () => filterPorts,
  warnings: (config) => config.filters.flatMap((filter, i) => subscriptionFilterWarnings(filter, ['filters', i])),
  compile: (config, ctx) => ({
    task: filterTask(config.filters.map(subscriptionFilterToJq).join(' and '), ctx),
    meta: { filters: config.filters },
  }),
  decompile: (task, meta) => (readFilterCondition(task) === undefined ? undefined : { filters: meta.filters }),
});
