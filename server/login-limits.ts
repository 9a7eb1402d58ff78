/**
 * Failed sign-ins per account. better-auth's own limiter counts per client address and path;
 * this one counts per email, so guessing one person's password from many addresses stops too.
 * Kept in the studio process's memory (one studio process serves a Meshflow install); a
 * restart forgets it, as it forgets better-auth's per-address counts.
 */
export const accountLimit = { failures: 10, windowSeconds: 15 * 60 } as const;

interface Entry {
  failures: number;
  windowStart: number;
}

const globalForLimits = globalThis as unknown as { meshflowLoginFailures?: Map<string, Entry> };
const failures = (globalForLimits.meshflowLoginFailures ??= new Map());

function current(email: string, now: number): Entry | undefined {
  const entry = failures.get(email);
  if (entry && now - entry.windowStart >= accountLimit.windowSeconds * 1000) {
    failures.delete(email);
    return undefined;
  }
  return entry;
}

/** Seconds until the account may try again, or null when it may try now. */
export function accountRetryAfter(email: string, now = Date.now()): number | null {
  const entry = current(email, now);
  if (!entry || entry.failures < accountLimit.failures) return null;
  return Math.max(1, Math.ceil((entry.windowStart + accountLimit.windowSeconds * 1000 - now) / 1000));
}

export function recordFailedSignIn(email: string, now = Date.now()): void {
  const entry = current(email, now);
  if (entry) entry.failures += 1;
  else failures.set(email, { failures: 1, windowStart: now });
  if (failures.size > 100_000) {
    for (const key of failures.keys()) if (!current(key, now)) failures.delete(key);
  }
}

export function recordSuccessfulSignIn(email: string): void {
  failures.delete(email);
}
