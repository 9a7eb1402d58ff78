/** Secrets as the studio stores them, written straight to a test database. */
import { randomBytes } from 'node:crypto';
import type pg from 'pg';
import { sealSecret } from '@/runtime/secrets/seal';

/** A MESHFLOW_SECRET_KEY for one test file: the bytes, and the base64 a process is given. */
export function testSecretKey(): { key: Buffer; env: string } {
  const key = randomBytes(32);
  return { key, env: key.toString('base64') };
}

export async function defineSecret(pool: pg.Pool, key: Buffer, name: string, value: string): Promise<void> {
  await pool.query(
    `INSERT INTO secret (id, name, value, "updatedAt") VALUES (gen_random_uuid()::text, $1, $2, now())
     ON CONFLICT (name) DO UPDATE SET value = EXCLUDED.value, "updatedAt" = now()`,
    [name, sealSecret(key, name, value)],
  );
}
