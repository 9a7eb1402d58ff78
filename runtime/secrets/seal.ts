/**
 * A user secret at rest: its value encrypted with MESHFLOW_SECRET_KEY (the connectors'
 * AES-256-GCM format), together with its name, so a ciphertext copied onto another row does
 * not open under that row's name.
 */
import { decryptSecrets, encryptSecrets } from '../connectors/secrets.ts';

export function sealSecret(key: Buffer, name: string, value: string): string {
  return encryptSecrets(key, { name, value });
}

/** The value, or an Error saying why it cannot be read. */
export function openSecret(key: Buffer, name: string, stored: string): string {
  const opened = decryptSecrets(key, stored);
  if (opened.name !== name || typeof opened.value !== 'string') throw new Error(`the stored value of secret "${name}" belongs to another secret`);
  return opened.value;
}
