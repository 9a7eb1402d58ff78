import { z } from 'zod';
import { CesqlSyntaxError, cesqlCondition, cesqlToJq, cesqlWarning } from './predicates.ts';
import { filterPorts, filterTask, readFilterCondition } from './shared.ts';
import { defineTaskNode } from './types.ts';

export default defineTaskNode({
  kind: 'cesql-filter',
  title: 'CESQL filter',
  category: 'filter',
  icon: 'code',
  description: "Keeps events for which a CloudEvents SQL expression is true, e.g. type LIKE 'com.example.%' AND amount > 100.",
  schema: z.object({
    expression: z
      .string()
      .min(1, 'a CESQL expression')
      .default("type LIKE 'com.example.%'")
      .superRefine((expression, ctx) => {
        try {
          cesqlToJq(expression);
        } catch (error) {
          if (!(error instanceof CesqlSyntaxError)) throw error;
          ctx.addIssue({ code: 'custom', message: `invalid CESQL: ${error.message}` });
        }
      }),
  }),
  ports: () => filterPorts,
  warnings: (config) => {
    const message = cesqlWarning(config.expression);
    return message ? [{ message, path: ['expression'] }] : [];
  },
  compile: (config, ctx) => ({ task: filterTask(cesqlCondition(config.expression), ctx), meta: { expression: config.expression } }),
  decompile: (task, meta) => (readFilterCondition(task) === undefined ? undefined : { expression: meta.expression }),
});
