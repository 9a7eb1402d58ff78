import { z } from 'zod';
import { fromRuntimeExpression, isRecord, jqField, toRuntimeExpression } from './shared.ts';
import { defineTaskNode, type OutputPort } from './types.ts';

const caseSchema = z.object({
  name: z
    .string()
    .regex(/^[a-z][a-z0-9-]*$/, 'lowercase letters, digits and dashes')
    .refine((name) => name !== 'default', '"default" is the fallback port'),
  when: jqField('true'),
});

/** Routes each event to the first case whose condition holds, or to `default`. */
export default defineTaskNode({
  kind: 'switch',
  title: 'Switch',
  category: 'control',
  icon: 'split',
  description: 'Routes the event to the first case whose jq condition is true; otherwise to default.',
  schema: z.object({
    cases: z
      .array(caseSchema)
      .min(1)
      // A starting case on a CloudEvent attribute: every event has one, whatever its data's schema.
      .default([{ name: 'created', when: '.type | endswith(".created")' }])
      .refine((cases) => new Set(cases.map((c) => c.name)).size === cases.length, 'case names must be unique'),
  }),
  ports: (config) => ({
    input: true,
    outputs: [
      ...config.cases.map((c): OutputPort => ({ id: c.name, label: c.name, role: 'jump' })),
      { id: 'default', label: 'default', role: 'jump' },
    ],
  }),
  compile: (config, ctx) => ({
    task: {
      switch: [
        ...config.cases.map((c) => ({ [c.name]: { when: toRuntimeExpression(c.when), then: ctx.jump(c.name) } })),
        { default: { then: ctx.jump('default') } },
      ],
    },
  }),
  decompile(task) {
    if (!Array.isArray(task.switch)) return undefined;
    const cases = task.switch.slice(0, -1).flatMap((item: unknown) => {
      if (!isRecord(item)) return [];
      return Object.entries(item).map(([name, body]) => ({ name, when: isRecord(body) ? fromRuntimeExpression(body.when) : undefined }));
    });
    return { cases };
  },
});
