/** Connector secrets at rest: one implementation, shared with the worker that decrypts them. */
export { decryptSecrets, encryptSecrets } from '@/runtime/connectors/secrets';
