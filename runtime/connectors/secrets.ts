/**
 * Connector secrets at rest: AES-256-GCM with the key from MESHFLOW_SECRET_KEY. The stored
 * form is `v1.<iv>.<tag>.<ciphertext>` (base64url), so a later key rotation can add v2. The
 * studio encrypts (server/services/secrets.ts re-exports these); the worker decrypts.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

export function encryptSecrets(key: Buffer, secrets: Record<string, string>): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  const body = Buffer.concat([cipher.update(JSON.stringify(secrets), 'utf8'), cipher.final()]);
  return ['v1', iv, cipher.getAuthTag(), body].map((p) => (typeof p === 'string' ? p : p.toString('base64url'))).join('.');
}

export function decryptSecrets(key: Buffer, stored: string): Record<string, string> {
  const [version, iv, tag, body] = stored.split('.');
  if (version !== 'v1' || !iv || !tag || !body) throw new Error('unrecognised secret format');
  const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'));
  decipher.setAuthTag(Buffer.from(tag, 'base64url'));
  const plain = Buffer.concat([decipher.update(Buffer.from(body, 'base64url')), decipher.final()]);
  return JSON.parse(plain.toString('utf8')) as Record<string, string>;
}
