import { z } from 'zod';
import { CesqlParseError } from '../expressions/cesql/index.ts';
import { CesqlTranslationError } from '../expressions/cesql/jq.ts';
import { filterWarnings, subscriptionsApiFilterSchema } from '../expressions/filters/index.ts';
import { filterToJq } from '../expressions/filters/jq.ts';
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
    filters: z
      .array(subscriptionsApiFilterSchema)
      .min(1)
      .default([{ exact: { type: 'com.example.order.created' } }])
      .superRefine((filters, ctx) => {
        // What the data plane accepts but a compiled document cannot express the same way (CESQL functions).
        try {
          filterToJq(filters);
        } catch (error) {
          // A parse error is reported at its filter by the filter schema itself.
          if (error instanceof CesqlParseError) return;
          if (!(error instanceof CesqlTranslationError)) throw error;
          ctx.addIssue({ code: 'custom', message: error.message });
        }
      }),
  }),
  ports: () => filterPorts,
  pipeline: (config) => ({ role: 'filter', filter: config.filters }),
  warnings: (config) => filterWarnings(config.filters).map((w) => ({ message: w.message, path: ['filters', ...pointerPath(w.path)] })),
  compile: (config, ctx) => ({
    task: filterTask(filterToJq(config.filters), ctx),
    meta: { filters: config.filters },
  }),
  decompile: (task, meta) => (readFilterCondition(task) === undefined ? undefined : { filters: meta.filters }),
});

function pointerPath(pointer: string): (string | number)[] {
  return pointer
    .split('/')
    .slice(1)
    .map((part) => part.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((part) => (/^\d+$/.test(part) ? Number(part) : part));
}
