import { z } from 'zod';
import { isoDuration } from './shared.ts';
import { defineTaskNode, linearPorts } from './types.ts';

export default defineTaskNode({
  kind: 'wait',
  title: 'Wait',
  category: 'control',
  icon: 'hourglass',
  description: 'Pauses the flow for a duration before passing the event on.',
  schema: z.object({ duration: isoDuration.default('PT5S') }),
  ports: () => linearPorts,
  compile: (config) => ({ task: { wait: config.duration } }),
  decompile: (task) => (typeof task.wait === 'string' ? { duration: task.wait } : undefined),
});
