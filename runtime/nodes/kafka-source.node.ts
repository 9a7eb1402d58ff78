import { z } from 'zod';
import { connectorSource } from './shared.ts';

export default connectorSource({
  kind: 'kafka-source',
  title: 'Kafka consume',
  icon: 'layers',
  description: 'Consumes a Kafka topic in a consumer group; records become CloudEvents by the Kafka binding.',
  system: 'kafka',
  fields: {
    connection: z.string().min(1).default('localhost:9092').describe('Bootstrap servers or the name of a configured connector'),
    topic: z.string().min(1).default('events'),
    groupId: z.string().min(1).default('meshflow'),
  },
});
