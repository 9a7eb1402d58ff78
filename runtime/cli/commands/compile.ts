/** `meshflow compile <graph.json>`: the DSL 1.0 YAML of a flow graph. */
import { readFile } from 'node:fs/promises';
import { compileAndValidate } from '../../compiler/compile.ts';
import { formatDiagnostic, hasErrors } from '../../compiler/diagnostics.ts';
import type { Command } from '../main.ts';

const USAGE = 'Usage: meshflow compile <graph.json>\n';

const compile: Command = async (args, io) => {
  const file = args.find((a) => !a.startsWith('-'));
  if (!file || args.includes('--help')) {
    io.stderr(USAGE);
    return 2;
  }
  let graph: unknown;
  try {
    graph = JSON.parse(await readFile(file, 'utf8'));
  } catch (error) {
    io.stderr(`meshflow compile: cannot read ${file}: ${(error as Error).message}\n`);
    return 2;
  }
  const { yaml, diagnostics } = await compileAndValidate(graph);
  if (diagnostics.length > 0) io.stderr(`${diagnostics.map((d) => `${file}: ${formatDiagnostic(d)}`).join('\n')}\n`);
  if (hasErrors(diagnostics)) return 2;
  io.stdout(yaml);
  return 0;
};

export default compile;
