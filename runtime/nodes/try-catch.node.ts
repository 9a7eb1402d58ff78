import { z } from 'zod';
import { readRetryPolicy, retryPolicy, retrySchema } from './retry-policy.ts';
import { dslUri, isRecord } from './shared.ts';
import { defineTaskNode, nextPort } from './types.ts';

export default defineTaskNode({
  kind: 'try-catch',
  title: 'Try / catch',
  category: 'control',
  icon: 'shield-alert',
  description: 'Runs the try branch; a matching error is retried by policy (when the attempts run out, it fails the flow) or, without a policy, handled by the catch branch.',
  schema: z.object({
    errorType: dslUri.optional().describe('Catch only errors of this type'),
    errorStatus: z.number().int().min(100).max(599).optional().describe('Catch only errors with this status'),
    as: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/).default('error'),
    retry: retrySchema.optional(),
  }),
  ports: () => ({
    input: true,
    outputs: [{ id: 'try', label: 'Try', role: 'list' }, { id: 'catch', label: 'Catch', role: 'list', optional: true }, nextPort],
  }),
  compile(config, ctx) {
    const errorFilter = {
      ...(config.errorType ? { type: config.errorType } : {}),
      ...(config.errorStatus !== undefined ? { status: config.errorStatus } : {}),
    };
    const handler = ctx.list('catch');
    return {
      task: {
        try: ctx.list('try'),
        catch: {
          ...(Object.keys(errorFilter).length > 0 ? { errors: { with: errorFilter } } : {}),
          as: config.as,
          ...(config.retry ? { retry: retryPolicy(config.retry) } : {}),
          ...(handler.length > 0 ? { do: handler } : {}),
        },
      },
    };
  },
  decompile(task) {
    if (!Array.isArray(task.try) || !isRecord(task.catch)) return undefined;
    const filter = isRecord(task.catch.errors) && isRecord(task.catch.errors.with) ? task.catch.errors.with : {};
    return {
      errorType: filter.type,
      errorStatus: filter.status,
      as: task.catch.as,
      retry: task.catch.retry === undefined ? undefined : readRetryPolicy(task.catch.retry),
    };
  },
});
