import { z } from 'zod';
import { brokerTarget } from './shared.ts';

export default brokerTarget({
  kind: 'rabbitmq-publish',
  title: 'RabbitMQ publish',
  icon: 'rabbit',
  description: 'Publishes the event to an AMQP 0-9-1 exchange with a routing key.',
  system: 'amqp',
  protocol: 'amqp',
  defaultConnection: 'amqp://localhost:5672',
  channelField: 'exchange',
  channelDefault: 'amq.topic',
  options: { routingKey: z.string().default('meshflow.out') },
});
