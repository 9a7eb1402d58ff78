/**
 * The studio's environment, validated once with zod. `npm start` fills in what a local
 * install needs (database URL, generated secrets); a missing or malformed variable stops
 * the process with a readable list instead of a stack trace.
 */
import { z } from 'zod';
import { egressSettings } from '@/runtime/net/egress';
import { sandboxSettingsShape } from '@/runtime/engine/host/sandbox-settings';
import { trustProxySetting } from './client-address';

const postgresUrl = z
  .string()
  .url()
  .refine((u) => /^postgres(ql)?:\/\//.test(u), 'must be a postgres:// or postgresql:// URL');

export const studioEnvSchema = z.object({
  DATABASE_URL: postgresUrl,
  /** Signs session cookies; at least 32 characters. */
  MESHFLOW_AUTH_SECRET: z.string().min(32, 'must be at least 32 characters'),
  /** 32 bytes, base64: encrypts connector secrets at rest. */
  MESHFLOW_SECRET_KEY: z
    .string()
    .refine((k) => Buffer.from(k, 'base64').length === 32, 'must be 32 bytes encoded as base64'),
  MESHFLOW_WORKER_URL: z.string().url().default('http://127.0.0.1:8080'),
  /** Where producers reach the worker (webhook URLs shown to users); MESHFLOW_WORKER_URL when unset. */
  MESHFLOW_WORKER_PUBLIC_URL: z.string().url().optional(),
  MESHFLOW_PUBLIC_URL: z.string().url().optional(),
  /** The worker's `/metrics` token (the same MESHFLOW_METRICS_TOKEN the worker reads), for the overview's figures. */
  MESHFLOW_METRICS_TOKEN: z.string().min(1).optional(),
  PORT: z.coerce.number().int().min(1).max(65535).default(3000),
  /** How long events stay in the log, and so replayable: the same setting the worker's retention sweep reads. */
  MESHFLOW_EVENT_RETENTION_HOURS: z.coerce.number().positive().default(168),
  ...egressSettings,
  /** Scripts (off by default) and the budgets of scripts and expressions: see sandbox-settings.ts. */
  ...sandboxSettingsShape,
  /** Which X-Forwarded-For hops to believe for the client address (server/client-address.ts). */
  MESHFLOW_TRUST_PROXY: trustProxySetting,
});

export type StudioEnv = z.infer<typeof studioEnvSchema>;

/** Formats zod issues as one line per variable: what is wrong and what would be accepted. */
export function describeEnvIssues(error: z.ZodError): string {
  return error.issues
    .map((issue) => `  - ${issue.path.join('.') || '(root)'}: ${issue.message}`)
    .join('\n');
}

export function parseEnv<T extends z.ZodTypeAny>(
  schema: T,
  source: Record<string, string | undefined>,
  who: string,
): z.infer<T> {
  const result = schema.safeParse(source);
  if (!result.success) {
    throw new EnvError(`${who}: invalid configuration\n${describeEnvIssues(result.error)}`);
  }
  return result.data;
}

export class EnvError extends Error {
  override name = 'EnvError';
}

let cached: StudioEnv | undefined;

export function env(): StudioEnv {
  cached ??= parseEnv(studioEnvSchema, process.env, 'meshflow studio');
  return cached;
}
