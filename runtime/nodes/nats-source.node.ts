import { z } from 'zod';
import { connectorSource } from './shared.ts';

export default connectorSource({
  kind: 'nats-source',
  title: 'NATS subscribe',
  icon: 'zap',
  description: 'Subscribes to a NATS subject, core or through a JetStream durable consumer.',
  system: 'nats',
  fields: {
    connection: z.string().min(1).default('nats://localhost:4222').describe('Server URL or the name of a configured connector'),
    subject: z.string().min(1).default('events.>'),
    stream: z.string().min(1).optional().describe('JetStream stream; core NATS when empty'),
    durable: z.string().min(1).optional().describe('JetStream durable consumer name'),
  },
});
