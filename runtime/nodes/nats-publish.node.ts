import { z } from 'zod';
import { brokerTarget } from './shared.ts';

export default brokerTarget({
  kind: 'nats-publish',
  title: 'NATS publish',
  icon: 'zap',
  description: 'Publishes the event to a NATS subject, through JetStream when asked (acknowledged).',
  system: 'nats',
  protocol: 'nats',
  defaultConnection: 'nats://localhost:4222',
  channelField: 'subject',
  channelDefault: 'events.out',
  options: { jetstream: z.boolean().default(false) },
});
