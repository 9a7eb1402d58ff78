/**
 * Secrets users define: the only values a workflow's `$secrets` (scoped by its `use.secrets`)
 * and webhook sources can read. Values are encrypted at rest with MESHFLOW_SECRET_KEY and
 * write-only: created or replaced here, never returned by the API. Test runs read them here;
 * the worker reads them itself, from the same table with the same key.
 */
import { z } from 'zod';
import type { PrismaClient } from '@/prisma/generated/client';
import { secretMasker, type Masker } from '@/runtime/secrets/mask';
import { SECRET_NAME, SECRET_NAME_RULE, undefinedSecretsMessage } from '@/runtime/secrets/names';
import { openSecret, sealSecret } from '@/runtime/secrets/seal';
import { ServiceError } from './errors';

/** Connector secrets at rest: one implementation, shared with the worker that decrypts them. */
export { decryptSecrets, encryptSecrets } from '@/runtime/connectors/secrets';

const secretName = z.string().trim().regex(SECRET_NAME, `must be ${SECRET_NAME_RULE}`);
const secretValue = z.string().min(1, 'a value is required').max(65_536, 'at most 64 KiB');
const description = z.string().trim().max(500, 'at most 500 characters');

export const newSecretInput = z.object({ name: secretName, value: secretValue, description: description.default('') });
export const updateSecretInput = z.object({
  name: secretName,
  /** A new value replaces the old one; left out, the value stays. */
  value: secretValue.optional(),
  description: description.optional(),
});
export const secretNameInput = z.object({ name: secretName });

/** Names and metadata only: a value never leaves the server. */
export async function listSecrets(db: PrismaClient) {
  return db.secret.findMany({
    orderBy: { name: 'asc' },
    select: { id: true, name: true, description: true, createdBy: true, updatedBy: true, createdAt: true, updatedAt: true },
  });
}

export async function createSecret(db: PrismaClient, key: Buffer, input: z.input<typeof newSecretInput>, by?: string) {
  const data = newSecretInput.parse(input);
  if (await db.secret.findUnique({ where: { name: data.name } })) throw new ServiceError('CONFLICT', `name: a secret named "${data.name}" exists already; change its value instead`);
  return db.secret.create({
    data: { name: data.name, description: data.description, value: sealSecret(key, data.name, data.value), createdBy: by ?? null, updatedBy: by ?? null },
    select: { id: true, name: true },
  });
}

export async function updateSecret(db: PrismaClient, key: Buffer, input: z.input<typeof updateSecretInput>, by?: string) {
  const data = updateSecretInput.parse(input);
  const row = await db.secret.findUnique({ where: { name: data.name } });
  if (!row) throw new ServiceError('NOT_FOUND', `no secret named "${data.name}"`);
  await db.secret.update({
    where: { id: row.id },
    data: {
      ...(data.value === undefined ? {} : { value: sealSecret(key, data.name, data.value) }),
      ...(data.description === undefined ? {} : { description: data.description }),
      updatedBy: by ?? null,
    },
  });
  return { id: row.id, name: row.name };
}

export async function deleteSecret(db: PrismaClient, input: z.input<typeof secretNameInput>) {
  const { name } = secretNameInput.parse(input);
  const row = await db.secret.findUnique({ where: { name } });
  if (!row) throw new ServiceError('NOT_FOUND', `no secret named "${name}"`);
  await db.secret.delete({ where: { id: row.id } });
  return { name };
}

function open(key: Buffer, row: { name: string; value: string }): string {
  try {
    return openSecret(key, row.name, row.value);
  } catch (error) {
    throw new ServiceError('PRECONDITION_FAILED', `secret "${row.name}" cannot be read with this studio's MESHFLOW_SECRET_KEY (${(error as Error).message})`);
  }
}

/** The named secrets, for a test run's `$secrets`; throws naming those not defined. */
export async function resolveSecrets(db: PrismaClient, key: Buffer, names: string[]): Promise<Record<string, string>> {
  if (names.length === 0) return {};
  const rows = await db.secret.findMany({ where: { name: { in: names } }, select: { name: true, value: true } });
  const missing = names.filter((n) => !rows.some((r) => r.name === n));
  if (missing.length > 0) throw new ServiceError('BAD_REQUEST', undefinedSecretsMessage(missing));
  return Object.fromEntries(rows.map((r) => [r.name, open(key, r)]));
}

/** Masks every secret's value (those this studio can read) in what is about to be shown. */
export async function secretsMasker(db: PrismaClient, key: Buffer): Promise<Masker> {
  const rows = await db.secret.findMany({ select: { name: true, value: true } });
  const values: string[] = [];
  for (const row of rows) {
    try {
      values.push(openSecret(key, row.name, row.value));
    } catch {
      // A value this key cannot open cannot have been handed to anything this studio ran.
    }
  }
  return secretMasker(values);
}
