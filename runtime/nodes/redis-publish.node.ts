import { z } from 'zod';
import { brokerTarget } from './shared.ts';

export default brokerTarget({
  kind: 'redis-publish',
  title: 'Redis stream add',
  icon: 'database',
  description: 'Appends the event to a Redis stream (XADD), optionally capped in length.',
  system: 'redis',
  protocol: 'redis',
  defaultConnection: 'redis://localhost:6379',
  channelField: 'stream',
  channelDefault: 'events-out',
  options: { maxLength: z.number().int().positive().optional() },
});
