import { z } from 'zod';
import { connectorSource } from './shared.ts';

export default connectorSource({
  kind: 'rabbitmq-source',
  title: 'RabbitMQ consume',
  icon: 'rabbit',
  description: 'Consumes an AMQP 0-9-1 queue, optionally bound to an exchange with a routing key.',
  system: 'amqp',
  fields: {
    connection: z.string().min(1).default('amqp://localhost:5672').describe('Broker URL or the name of a configured connector'),
    queue: z.string().min(1).default('meshflow'),
    exchange: z.string().min(1).optional(),
    routingKey: z.string().default('#'),
  },
});
