import { z } from 'zod';
import { isRecord } from './shared.ts';
import { defineTaskNode, linearPorts } from './types.ts';

const jsonPath = z
  .string()
  .regex(/^\$(\.[A-Za-z_][A-Za-z0-9_]*|\[\d+\]|\['[^']*'\])*$/, "a JSONPath such as $.data.id, $.items[0] or $['a key']");

/** `$.a[0]['b c']` → `.a[0]["b c"]`: the JSONPath subset EventMesh templates use. */
function jsonPathToJq(path: string): string {
  const jq = path
    .slice(1)
    .replace(/\['([^']*)'\]/g, (_, key: string) => `[${JSON.stringify(key)}]`);
  return jq === '' ? '.' : jq.startsWith('[') ? `.${jq}` : jq;
}

/** The template as a jq string literal, `${name}` placeholders interpolating the named values. */
function templateToJq(template: string): string {
  const escaped = template.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n').replace(/\t/g, '\\t');
  return `"${escaped.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (_, name: string) => `\\($v.${name})`)}"`;
}

export function templateExpression(config: { values: Record<string, string>; template: string; parseJson: boolean }): string {
  // A JSONPath that finds nothing (or meets a value it cannot descend into) renders as null, as the data plane's JSONPath does.
  const values = Object.entries(config.values)
    .map(([name, path]) => `${name}: first((${jsonPathToJq(path)})?, null)`)
    .join(', ');
  return `{ ${values} } as $v | ${templateToJq(config.template)}${config.parseJson ? ' | fromjson' : ''}`;
}

/** An EventMesh transformer template: values picked by JSONPath, then substituted into text. */
export default defineTaskNode({
  kind: 'template-transform',
  title: 'Template',
  category: 'transform',
  icon: 'file-code',
  description: 'Picks values with JSONPath and renders a ${name} template (EventMesh transformer style); JSON output is parsed.',
  schema: z
    .object({
      values: z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'a name of letters, digits and _'), jsonPath).default({ id: '$.data.id' }),
      template: z.string().default('{"orderId": "${id}"}'),
      parseJson: z.boolean().default(true),
    })
    .superRefine((config, ctx) => {
      // The data plane refuses such a template at deploy time (runtime/expressions/transforms); say so here.
      for (const [, name] of config.template.matchAll(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g)) {
        if (!(name! in config.values)) ctx.addIssue({ code: 'custom', path: ['template'], message: `\${${name}} names no entry of values (${Object.keys(config.values).join(', ') || 'none'})` });
      }
    }),
  ports: () => linearPorts,
  pipeline: (config) => ({ role: 'transform', transform: { kind: 'template', values: config.values, template: config.template }, parseJson: config.parseJson }),
  compile: (config) => ({
    task: { set: { result: `\${ ${templateExpression(config)} }` }, output: { as: '${ .result }' } },
    meta: { values: config.values, template: config.template, parseJson: config.parseJson },
  }),
  decompile: (task, meta) => (isRecord(task.set) ? meta : undefined),
});
