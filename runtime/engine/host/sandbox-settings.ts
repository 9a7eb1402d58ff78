/**
 * Settings that bound what a flow's own code can do: whether `run: script` runs at all, and
 * the time and memory budgets of scripts and of expressions (jq, CESQL, templates). Studio,
 * worker and `meshflow run` read the same variables; a bad value stops them at start.
 */
import { z } from 'zod';

export const sandboxSettingsShape = {
  /** `run: script` is off unless an administrator sets this to `enabled` (studio test runs and worker). */
  MESHFLOW_SCRIPTS: z.enum(['enabled', 'disabled'], { error: 'must be enabled or disabled' }).default('disabled'),
  /** Longest a script may run, whatever its task's timeout says. */
  MESHFLOW_SCRIPT_TIMEOUT_MS: z.coerce.number().int().min(10).max(3_600_000).default(30_000),
  /** Memory of a script's process (JavaScript heap and resident size). */
  MESHFLOW_SCRIPT_MEMORY_MB: z.coerce.number().int().min(16).max(16_384).default(128),
  /** Longest one jq evaluation (one expression, or one batch of events) may run. */
  MESHFLOW_EXPRESSION_TIMEOUT_MS: z.coerce.number().int().min(10).max(600_000).default(1_000),
  /** Memory one jq evaluation may use (jq's WebAssembly heap). */
  MESHFLOW_EXPRESSION_MEMORY_MB: z.coerce.number().int().min(16).max(4_000).default(256),
};

const schema = z.object(sandboxSettingsShape);

export type SandboxSettings = z.infer<typeof schema>;

/** The settings from an environment; throws one error listing every bad variable. */
export function sandboxSettings(source: Record<string, string | undefined> = process.env): SandboxSettings {
  const parsed = schema.safeParse(source);
  if (parsed.success) return parsed.data;
  throw new Error(`invalid sandbox settings: ${parsed.error.issues.map((i) => `${i.path.join('.')} ${i.message}`).join('; ')}`);
}
