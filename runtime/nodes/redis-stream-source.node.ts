import { z } from 'zod';
import { connectorSource } from './shared.ts';

export default connectorSource({
  kind: 'redis-stream-source',
  title: 'Redis stream',
  icon: 'database',
  description: 'Reads a Redis stream through a consumer group, acknowledging after the event is stored.',
  system: 'redis',
  fields: {
    connection: z.string().min(1).default('redis://localhost:6379').describe('Server URL or the name of a configured connector'),
    stream: z.string().min(1).default('events'),
    group: z.string().min(1).default('meshflow'),
  },
});
