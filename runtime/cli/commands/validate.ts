/**
 * `meshflow validate <file>`: exit 0 when the workflow is valid, 2 with every problem otherwise.
 * A valid document still gets the YAML editor's warnings about Meshflow metadata that nothing
 * reads (e.g. retries asked of a call that states none), on stderr.
 */
import { readFile } from 'node:fs/promises';
import type { Command } from '../main.ts';
import { decompile } from '../../compiler/decompile.ts';
import { formatDiagnostic } from '../../compiler/diagnostics.ts';
import { formatDiagnostics, loadWorkflow } from '../../engine/validate.ts';

const USAGE = 'Usage: meshflow validate <workflow.yaml|workflow.json>\n';

const validate: Command = async (args, io) => {
  const file = args.find((a) => !a.startsWith('-'));
  if (!file || args.includes('--help')) {
    io.stderr(USAGE);
    return 2;
  }
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    io.stderr(`meshflow validate: cannot read ${file}: ${(error as Error).message}\n`);
    return 2;
  }
  const { document, diagnostics } = await loadWorkflow(text);
  if (diagnostics.length > 0) {
    io.stderr(`${file}: ${diagnostics.length} problem${diagnostics.length === 1 ? '' : 's'}\n${formatDiagnostics(diagnostics)}\n`);
    return 2;
  }
  const unread = decompile(document).diagnostics.filter((d) => d.code === 'metadata-ignored');
  io.stderr(`${file}: valid\n${unread.map((d) => `${formatDiagnostic(d)}\n`).join('')}`);
  return 0;
};

export default validate;
