import { z } from 'zod';
import { connectorSource } from './shared.ts';

export default connectorSource({
  kind: 'mqtt-source',
  title: 'MQTT subscribe',
  icon: 'radio-tower',
  description: 'Subscribes to an MQTT topic (v3.1.1 or v5); messages become CloudEvents by the MQTT binding.',
  system: 'mqtt',
  fields: {
    connection: z.string().min(1).default('mqtt://localhost:1883').describe('Broker URL or the name of a configured connector'),
    topic: z.string().min(1).default('meshflow/#'),
    qos: z.union([z.literal(0), z.literal(1), z.literal(2)]).default(1),
  },
});
