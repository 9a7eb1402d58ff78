/**
 * Connector secrets at rest: AES-256-GCM with the key from MESHFLOW_SECRET_KEY. The stored
 * form is `v2.<iv>.<tag>.<ciphertext>` (base64url). A v2 value is bound to the connection it
 * was given for (the connection fields, as authenticated data): it opens only with that same
 * connection, so secrets can never follow a connector to another host, whatever changed the
 * row. `v1` values (before the binding) still open, without it, until their connector is next
 * saved. The studio encrypts (server/services/secrets.ts re-exports these); the worker decrypts.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

export function encryptSecrets(key: Buffer, secrets: Record<string, string>, boundTo?: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  if (boundTo !== undefined) cipher.setAAD(Buffer.from(boundTo, 'utf8'));
  const body = Buffer.concat([cipher.update(JSON.stringify(secrets), 'utf8'), cipher.final()]);
  return [boundTo === undefined ? 'v1' : 'v2', iv, cipher.getAuthTag(), body].map((p) => (typeof p === 'string' ? p : p.toString('base64url'))).join('.');
}

export function decryptSecrets(key: Buffer, stored: string, boundTo?: string): Record<string, string> {
  const [version, iv, tag, body] = stored.split('.');
  if ((version !== 'v1' && version !== 'v2') || !iv || !tag || !body) throw new Error('unrecognised secret format');
  if (version === 'v2' && boundTo === undefined) throw new Error('these secrets are bound to a connection, and none was given');
  const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'));
  if (version === 'v2') decipher.setAAD(Buffer.from(boundTo!, 'utf8'));
  decipher.setAuthTag(Buffer.from(tag, 'base64url'));
  let plain: Buffer;
  try {
    plain = Buffer.concat([decipher.update(Buffer.from(body, 'base64url')), decipher.final()]);
  } catch (error) {
    throw new Error(version === 'v2' ? 'they were stored for another connection (or another MESHFLOW_SECRET_KEY); enter them again for this one' : (error as Error).message);
  }
  return JSON.parse(plain.toString('utf8')) as Record<string, string>;
}
