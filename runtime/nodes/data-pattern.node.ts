import { z } from 'zod';
import { dataPatternSchema } from '../expressions/filters/index.ts';
import { dataPatternToJq } from '../expressions/filters/jq.ts';
import { filterPorts, filterTask, readFilterCondition } from './shared.ts';
import { defineTaskNode } from './types.ts';

/** EventBridge / EventMesh style content filter on the event's attributes and `data`. */
export default defineTaskNode({
  kind: 'data-pattern',
  title: 'Data pattern',
  category: 'filter',
  icon: 'scan-search',
  description: 'Keeps events matching a pattern on attributes and data: exact values, prefix, suffix, wildcard, numeric ranges, exists, anything-but, $or.',
  schema: z.object({
    // A starting pattern on a CloudEvent attribute: it names no data field a catalog schema may lack.
    pattern: dataPatternSchema.default({ source: [{ exists: true }] }),
  }),
  ports: () => filterPorts,
  pipeline: (config) => ({ role: 'filter', filter: { pattern: config.pattern } }),
  compile: (config, ctx) => ({ task: filterTask(dataPatternToJq(config.pattern), ctx), meta: { pattern: config.pattern } }),
  decompile: (task, meta) => (readFilterCondition(task) === undefined ? undefined : { pattern: meta.pattern }),
});
