import { z } from 'zod';
import { DEFAULT_RETRY, isDefaultRetry, NOT_RETRIED_WHEN, readRetryPolicy, retryPolicy, retrySchema, type RetryConfig } from './retry-policy.ts';
import { fromRuntimeExpression, isoDuration, isRecord, jqField, runtimeExpression, toRuntimeExpression } from './shared.ts';
import { defineTaskNode, linearPorts, type DslTask } from './types.ts';

const auth = z.discriminatedUnion('type', [
  z.object({ type: z.literal('none') }),
  z.object({ type: z.literal('bearer'), token: z.string().min(1).describe('Token, or ${ $secrets.name }') }),
  z.object({ type: z.literal('basic'), username: z.string().min(1), password: z.string().min(1).describe('Password, or ${ $secrets.name }') }),
]);

const methodsWithBody = new Set(['post', 'put', 'patch']);
const requestName = 'request';
const communicationError = 'https://serverlessworkflow.io/spec/1.0.0/errors/communication';

function authentication(config: z.infer<typeof auth>): Record<string, unknown> | undefined {
  if (config.type === 'bearer') return { bearer: { token: config.token } };
  if (config.type === 'basic') return { basic: { username: config.username, password: config.password } };
  return undefined;
}

function readAuthentication(policy: unknown): z.infer<typeof auth> | undefined {
  if (policy === undefined) return { type: 'none' };
  if (isRecord(policy) && isRecord(policy.bearer)) return { type: 'bearer', token: policy.bearer.token } as z.infer<typeof auth>;
  if (isRecord(policy) && isRecord(policy.basic)) return { type: 'basic', ...policy.basic } as z.infer<typeof auth>;
  return undefined;
}

/**
 * `call: http`; a retry policy wraps the call in a `try` that retries communication errors,
 * so the node stays one task in the document. Its `exceptWhen` leaves out the statuses that
 * retrying will not change (retry-policy.ts), so the engine and the data plane, which reads
 * the rule from the task, try a target as often.
 */
export default defineTaskNode({
  kind: 'http-request',
  title: 'HTTP request',
  category: 'target',
  icon: 'globe',
  description: 'Sends the event to an HTTP endpoint, with authentication, timeout and retry.',
  schema: z.object({
    method: z.enum(['get', 'post', 'put', 'patch', 'delete']).default('post'),
    url: z.string().regex(/^([A-Za-z][A-Za-z0-9+\-.]*:\/\/.*|\s*\$\{.+\}\s*)$/, 'an absolute URL or a ${ } expression').default('https://example.com/hooks/orders').meta(runtimeExpression),
    headers: z.record(z.string(), z.string()).default({}),
    body: jqField('.').describe('jq expression for the request body (POST, PUT, PATCH)'),
    auth: auth.default({ type: 'none' }),
    timeout: isoDuration.optional(),
    retry: retrySchema
      .optional()
      .describe('Unset: failed deliveries are retried for over a day (185 attempts, exponential backoff up to 10 minutes, with jitter) before they are dead-lettered'),
    rateLimit: z.number().int().min(1).max(100_000).optional().describe('Most events per second the endpoint receives; more wait their turn'),
  }),
  ports: () => linearPorts,
  binding: { system: 'http', direction: 'target' },
  compile(config) {
    const policy = authentication(config.auth);
    const call: DslTask = {
      call: 'http',
      with: {
        method: config.method,
        endpoint: policy ? { uri: config.url, authentication: policy } : config.url,
        ...(Object.keys(config.headers).length > 0 ? { headers: config.headers } : {}),
        ...(methodsWithBody.has(config.method) ? { body: toRuntimeExpression(config.body) } : {}),
      },
    };
    const timeout = config.timeout ? { timeout: { after: config.timeout } } : {};
    // The data plane's delivery options (runtime/events/plan.ts) have no place in the DSL.
    const meta = config.rateLimit === undefined ? {} : { meta: { delivery: { rateLimit: config.rateLimit } } };
    // Unset, the default policy is written out: the YAML says what the engine and the data plane do.
    const retry = config.retry ?? DEFAULT_RETRY;
    return {
      ...meta,
      task: {
        try: [{ [requestName]: call }],
        catch: { errors: { with: { type: communicationError } }, exceptWhen: NOT_RETRIED_WHEN, retry: retryPolicy(retry) },
        ...timeout,
      },
    };
  },
  decompile(task, meta) {
    let call = task;
    let retry: unknown;
    if (Array.isArray(task.try)) {
      const item: unknown = task.try[0];
      if (!isRecord(item) || !isRecord(item[requestName]) || !isRecord(task.catch)) return undefined;
      call = item[requestName];
      retry = readRetryPolicy(task.catch.retry);
      if (isDefaultRetry(retry as RetryConfig | undefined)) retry = undefined;
    } else {
      // A bare call is tried once by the engine: not what this node compiles to (it always
      // states a retry), so it stays a DSL task on the canvas and keeps its meaning.
      return undefined;
    }
    const args = call.with;
    if (call.call !== 'http' || !isRecord(args)) return undefined;
    const endpoint = isRecord(args.endpoint) ? args.endpoint : { uri: args.endpoint };
    return {
      method: args.method,
      url: endpoint.uri,
      headers: args.headers ?? {},
      body: fromRuntimeExpression(args.body) ?? '.',
      auth: readAuthentication(endpoint.authentication),
      timeout: isRecord(task.timeout) ? task.timeout.after : undefined,
      retry,
      rateLimit: isRecord(meta.delivery) ? meta.delivery.rateLimit : undefined,
    };
  },
});
