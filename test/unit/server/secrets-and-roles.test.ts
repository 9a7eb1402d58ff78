import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { hasRole } from '@/server/services/roles';
import { decryptSecrets, encryptSecrets } from '@/server/services/secrets';

describe('connector secrets', () => {
  const key = randomBytes(32);

  it('round-trips and never stores the plain text', () => {
    const stored = encryptSecrets(key, { password: 'hunter2' });
    expect(stored).not.toContain('hunter2');
    expect(decryptSecrets(key, stored)).toEqual({ password: 'hunter2' });
  });

  it('gives a different ciphertext each time', () => {
    expect(encryptSecrets(key, { a: 'b' })).not.toBe(encryptSecrets(key, { a: 'b' }));
  });

  it('secrets bound to a connection open only for that connection', () => {
    const stored = encryptSecrets(key, { password: 'hunter2' }, 'amqp://broker-a:5672');
    expect(stored.startsWith('v2.')).toBe(true);
    expect(decryptSecrets(key, stored, 'amqp://broker-a:5672')).toEqual({ password: 'hunter2' });
    expect(() => decryptSecrets(key, stored, 'amqp://attacker:5672')).toThrow(/stored for another connection/);
    expect(() => decryptSecrets(key, stored)).toThrow(/bound to a connection/);
  });

  it('refuses a tampered value or the wrong key', () => {
    const stored = encryptSecrets(key, { password: 'hunter2' });
    const parts = stored.split('.');
    const body = Buffer.from(parts[3]!, 'base64url');
    body[0] = body[0]! ^ 1;
    parts[3] = body.toString('base64url');
    expect(() => decryptSecrets(key, parts.join('.'))).toThrow();
    expect(() => decryptSecrets(randomBytes(32), stored)).toThrow();
  });
});

describe('roles', () => {
  it('orders viewer < editor < admin', () => {
    expect(hasRole('viewer', 'editor')).toBe(false);
    expect(hasRole('editor', 'editor')).toBe(true);
    expect(hasRole('admin', 'editor')).toBe(true);
    expect(hasRole('editor', 'admin')).toBe(false);
    expect(hasRole(undefined, 'viewer')).toBe(true);
  });
});
