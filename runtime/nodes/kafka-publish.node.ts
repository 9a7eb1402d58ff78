import { z } from 'zod';
import { brokerTarget } from './shared.ts';

export default brokerTarget({
  kind: 'kafka-publish',
  title: 'Kafka produce',
  icon: 'layers',
  description: 'Produces the event to a Kafka topic, keyed by a jq expression when given.',
  system: 'kafka',
  protocol: 'kafka',
  defaultConnection: 'localhost:9092',
  channelField: 'topic',
  channelDefault: 'events-out',
  options: { key: z.string().min(1).optional().describe('jq expression for the record key') },
});
