import { z } from 'zod';
import { isoDuration } from './shared.ts';
import { defineSourceNode, sourcePorts } from './types.ts';

export default defineSourceNode({
  kind: 'schedule',
  title: 'Schedule',
  category: 'source',
  icon: 'clock',
  description: 'Starts the flow on a timer: every fixed interval, or on a cron expression.',
  schema: z.object({
    mode: z.enum(['every', 'cron']).default('every'),
    every: isoDuration.default('PT1M'),
    cron: z
      .string()
      .regex(/^(\S+\s+){4}\S+$/, 'five cron fields: minute hour day-of-month month day-of-week')
      .default('*/5 * * * *'),
  }),
  ports: () => sourcePorts,
  binding: { system: 'schedule', direction: 'source' },
  compileSource: (config) => (config.mode === 'every' ? { schedule: { every: config.every } } : { schedule: { cron: config.cron } }),
  decompileSource(schedule) {
    if (typeof schedule.every === 'string') return { mode: 'every', every: schedule.every };
    if (typeof schedule.cron === 'string') return { mode: 'cron', cron: schedule.cron };
    return undefined;
  },
});
