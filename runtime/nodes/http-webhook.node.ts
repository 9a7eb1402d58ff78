import { z } from 'zod';
import { connectorSource } from './shared.ts';

export default connectorSource({
  kind: 'http-webhook',
  title: 'HTTP webhook',
  icon: 'webhook',
  description: 'Receives HTTP requests at /hooks/<path>: CloudEvents (binary, structured, batch), plain JSON, or GitHub deliveries checked with HMAC.',
  system: 'http-webhook',
  fields: {
    path: z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'lowercase letters, digits and dashes').default('orders'),
    mode: z.enum(['cloudevents', 'json', 'github']).default('cloudevents'),
    secret: z.string().min(1).optional().describe('Name of a secret (Secrets page) holding the HMAC key or shared secret'),
  },
});
