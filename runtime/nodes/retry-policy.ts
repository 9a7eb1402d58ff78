/** The retry policy shared by the try/catch node and the HTTP request target. */
import { z } from 'zod';
import { isoDuration, isRecord } from './shared.ts';

export const retrySchema = z.object({
  attempts: z.number().int().min(1).max(1000).default(3),
  delay: isoDuration.default('PT1S'),
  backoff: z.enum(['constant', 'linear', 'exponential']).default('exponential'),
});

export type RetryConfig = z.infer<typeof retrySchema>;

export function retryPolicy(retry: RetryConfig): Record<string, unknown> {
  return { delay: retry.delay, backoff: { [retry.backoff]: {} }, limit: { attempt: { count: retry.attempts } } };
}

export function readRetryPolicy(policy: unknown): RetryConfig | undefined {
  if (!isRecord(policy) || !isRecord(policy.backoff) || !isRecord(policy.limit) || !isRecord(policy.limit.attempt)) return undefined;
  const backoff = Object.keys(policy.backoff)[0];
  return { attempts: policy.limit.attempt.count, delay: policy.delay, backoff } as RetryConfig;
}
