/** The retry policy shared by the try/catch node and the HTTP request target. */
import { z } from 'zod';
import { isoDuration, isRecord } from './shared.ts';

export const retrySchema = z.object({
  attempts: z.number().int().min(0).max(1000).default(3).describe('Retries after the first attempt; 0 tries once'),
  delay: isoDuration.default('PT1S'),
  backoff: z.enum(['constant', 'linear', 'exponential']).default('exponential'),
});

export type RetryConfig = z.infer<typeof retrySchema>;

/**
 * What an HTTP target retries when its author set nothing: over a day of attempts (184 retries,
 * exponential from 1 s; the engine and the data plane both cap a wait at 10 minutes,
 * MAX_RETRY_DELAY_MS in runtime/engine/tasks/try.ts),
 * as EventBridge targets ride out an outage. The compiler states it in the task, so the engine
 * and the data plane read the same policy.
 */
export const DEFAULT_RETRY: RetryConfig = { attempts: 184, delay: 'PT1S', backoff: 'exponential' };

export function isDefaultRetry(retry: RetryConfig | undefined): boolean {
  return retry !== undefined && retry.attempts === DEFAULT_RETRY.attempts && retry.delay === DEFAULT_RETRY.delay && retry.backoff === DEFAULT_RETRY.backoff;
}

export function retryPolicy(retry: RetryConfig): Record<string, unknown> {
  return { delay: retry.delay, backoff: { [retry.backoff]: {} }, limit: { attempt: { count: retry.attempts } } };
}

export function readRetryPolicy(policy: unknown): RetryConfig | undefined {
  if (!isRecord(policy) || !isRecord(policy.backoff) || !isRecord(policy.limit) || !isRecord(policy.limit.attempt)) return undefined;
  const backoff = Object.keys(policy.backoff)[0];
  return { attempts: policy.limit.attempt.count, delay: policy.delay, backoff } as RetryConfig;
}

/**
 * Which failed HTTP calls are worth retrying, following Knative's dispatcher: network errors
 * and timeouts (the engine reports them with status 500), 5xx, and these client statuses; any
 * other status will not change by retrying. The one definition of that rule: the HTTP target
 * states it in its DSL task (`catch.exceptWhen`, below), and the data plane reads it from there.
 */
export const RETRIED_CLIENT_STATUSES: readonly number[] = [404, 408, 409, 429];

export function isRetriedStatus(status: number): boolean {
  return status >= 500 || RETRIED_CLIENT_STATUSES.includes(status);
}

/**
 * `catch.exceptWhen` of an HTTP target that retries: true (the error is not caught, so the run
 * faults at once) for a status that retrying will not change. Its input is the caught error.
 */
export const NOT_RETRIED_WHEN = `\${ .status != null and .status < 500 and ${RETRIED_CLIENT_STATUSES.map((s) => `.status != ${s}`).join(' and ')} }`;
