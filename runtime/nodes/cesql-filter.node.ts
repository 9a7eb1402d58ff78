import { z } from 'zod';
import { CesqlParseError } from '../expressions/cesql/index.ts';
import { CesqlTranslationError, cesqlToJq } from '../expressions/cesql/jq.ts';
import { filterWarnings } from '../expressions/filters/index.ts';
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
          if (!(error instanceof CesqlParseError || error instanceof CesqlTranslationError)) throw error;
          ctx.addIssue({ code: 'custom', message: `invalid CESQL: ${error.message}` });
        }
      }),
  }),
  ports: () => filterPorts,
  pipeline: (config) => ({ role: 'filter', filter: { sql: config.expression } }),
  warnings: (config) => filterWarnings({ sql: config.expression }).map((w) => ({ message: w.message, path: ['expression'] })),
  compile: (config, ctx) => ({ task: filterTask(cesqlToJq(config.expression), ctx), meta: { expression: config.expression } }),
  decompile: (task, meta) => (readFilterCondition(task) === undefined ? undefined : { expression: meta.expression }),
});
