import { z } from 'zod';
import { isRecord } from './shared.ts';
import { defineTaskNode, nextPort } from './types.ts';

export default defineTaskNode({
  kind: 'parallel',
  title: 'Parallel',
  category: 'control',
  icon: 'git-fork',
  description: 'Runs every connected branch at once and continues when all finish, or, with compete, when the first one does.',
  schema: z.object({ compete: z.boolean().default(false) }),
  ports: () => ({ input: true, outputs: [{ id: 'branches', label: 'Branches', role: 'branches' }, nextPort] }),
  compile: (config, ctx) => ({ task: { fork: config.compete ? { branches: ctx.branches('branches'), compete: true } : { branches: ctx.branches('branches') } } }),
  decompile: (task) => (isRecord(task.fork) ? { compete: task.fork.compete === true } : undefined),
});
