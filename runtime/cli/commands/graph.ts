/** `meshflow graph <dsl.yaml|json>`: the graph JSON of a DSL 1.0 document (decompile). */
import { readFile } from 'node:fs/promises';
import { parse } from 'yaml';
import { decompile } from '../../compiler/decompile.ts';
import { formatDiagnostic, hasErrors } from '../../compiler/diagnostics.ts';
import { validateDocument } from '../../compiler/validate.ts';
import type { Command } from '../main.ts';

const USAGE = 'Usage: meshflow graph <workflow.yaml|workflow.json>\n';

const graph: Command = async (args, io) => {
  const file = args.find((a) => !a.startsWith('-'));
  if (!file || args.includes('--help')) {
    io.stderr(USAGE);
    return 2;
  }
  let document: unknown;
  try {
    // YAML is a superset of JSON, so one parser reads both.
    document = parse(await readFile(file, 'utf8'));
  } catch (error) {
    io.stderr(`meshflow graph: cannot read ${file}: ${(error as Error).message}\n`);
    return 2;
  }
  const problems = await validateDocument(document);
  const result = decompile(document);
  const diagnostics = [...problems, ...result.diagnostics];
  if (diagnostics.length > 0) io.stderr(`${diagnostics.map((d) => `${file}: ${formatDiagnostic(d)}`).join('\n')}\n`);
  if (hasErrors(diagnostics)) return 2;
  io.stdout(`${JSON.stringify(result.graph, null, 2)}\n`);
  return 0;
};

export default graph;
