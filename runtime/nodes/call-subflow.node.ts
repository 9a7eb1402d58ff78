import { z } from 'zod';
import { isRecord } from './shared.ts';
import { defineTaskNode, linearPorts } from './types.ts';

export default defineTaskNode({
  kind: 'call-subflow',
  title: 'Call subflow',
  category: 'target',
  icon: 'workflow',
  description: 'Runs another deployed flow with the event as its input and continues with its output.',
  schema: z.object({
    namespace: z.string().min(1).default('default'),
    name: z.string().min(1).default('subflow'),
    version: z.string().min(1).default('0.1.0'),
  }),
  ports: () => linearPorts,
  compile: (config) => ({ task: { run: { workflow: { namespace: config.namespace, name: config.name, version: config.version } } } }),
  decompile(task) {
    if (!isRecord(task.run) || !isRecord(task.run.workflow)) return undefined;
    const { namespace, name, version } = task.run.workflow;
    return { namespace, name, version };
  },
});
