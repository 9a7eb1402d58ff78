import { z } from 'zod';
import { brokerTarget } from './shared.ts';

export default brokerTarget({
  kind: 'mqtt-publish',
  title: 'MQTT publish',
  icon: 'radio-tower',
  description: 'Publishes the event to an MQTT topic.',
  system: 'mqtt',
  protocol: 'mqtt',
  defaultConnection: 'mqtt://localhost:1883',
  channelField: 'topic',
  channelDefault: 'meshflow/out',
  options: {
    qos: z.union([z.literal(0), z.literal(1), z.literal(2)]).default(1),
    retain: z.boolean().default(false),
  },
});
