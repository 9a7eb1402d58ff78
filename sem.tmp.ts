import { readdirSync, readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { validateWorkflow, formatDiagnostics } from './runtime/engine/validate.ts';
const dir = 'test/unit/compiler/fixtures/spec/';
for (const f of readdirSync(dir).filter((f) => f.endsWith('.yaml'))) {
  const d = await validateWorkflow(parse(readFileSync(dir + f, 'utf8')));
  if (d.length) console.log(f, '\n  ' + formatDiagnostics(d).split('\n').join('\n  '));
}
