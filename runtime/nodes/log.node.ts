import { z } from 'zod';
import { fromRuntimeExpression, isRecord, jqField, toRuntimeExpression } from './shared.ts';
import { defineTaskNode, linearPorts } from './types.ts';

export const logEventType = 'io.meshflow.log';

/**
 * The DSL has no log task; a log line is an `io.meshflow.log` event, which any DSL runtime can
 * emit and which the worker records with the run instead of routing it to flows.
 */
export default defineTaskNode({
  kind: 'log',
  title: 'Log',
  category: 'target',
  icon: 'scroll-text',
  description: 'Writes a line to the run log: a jq expression on the event, at a level.',
  schema: z.object({
    level: z.enum(['debug', 'info', 'warn', 'error']).default('info'),
    message: jqField('.'),
  }),
  ports: () => linearPorts,
  compile: (config) => ({
    task: {
      emit: { event: { with: { source: 'meshflow://log', type: logEventType, data: { level: config.level, message: toRuntimeExpression(config.message) } } } },
    },
  }),
  decompile(task) {
    if (!isRecord(task.emit) || !isRecord(task.emit.event) || !isRecord(task.emit.event.with)) return undefined;
    const data = task.emit.event.with.data;
    return isRecord(data) ? { level: data.level, message: fromRuntimeExpression(data.message) } : undefined;
  },
});
