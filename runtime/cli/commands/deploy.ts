/**
 * `meshflow deploy <file>`: saves a flow file (a graph exported by the studio, or a plain DSL
 * 1.0 document) as a new version of the flow of the same name, or as a new flow, deploys it,
 * and prints one JSON line: flow id, version, deployment, and the URLs of its webhooks.
 */
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { parse as parseYaml } from 'yaml';
import { compileAndValidate } from '../../compiler/compile.ts';
import { decompile } from '../../compiler/decompile.ts';
import { formatDiagnostic, hasErrors, type Diagnostic } from '../../compiler/diagnostics.ts';
import { validateDocument } from '../../compiler/validate.ts';
import type { Command, CommandIo } from '../main.ts';
import { describeStudioError, studioClient, studioOptions } from '../studio-client.ts';

const USAGE = 'Usage: meshflow deploy <flow.json|workflow.yaml> [--server <studio URL>] [--token <API token>] [--note <text>]\n';

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The graph a file holds: a graph as is (or under `graph`, as the studio exports it), or a DSL document decompiled. */
export async function readFlowFile(text: string): Promise<{ graph: unknown; diagnostics: Diagnostic[] }> {
  let content: unknown;
  try {
    // YAML is a superset of JSON, so one parser reads both.
    content = parseYaml(text);
  } catch (error) {
    return { graph: undefined, diagnostics: [{ severity: 'error', code: 'invalid-document', message: `neither JSON nor YAML: ${(error as Error).message}` }] };
  }
  const graph = isRecord(content) && isRecord(content.graph) ? content.graph : content;
  if (isRecord(graph) && Array.isArray(graph.nodes) && Array.isArray(graph.edges)) return { graph, diagnostics: [] };
  if (!isRecord(content) || !isRecord(content.document)) {
    return { graph: undefined, diagnostics: [{ severity: 'error', code: 'invalid-document', message: 'not a flow graph (nodes, edges) nor a DSL 1.0 workflow (document, do)' }] };
  }
  const problems = await validateDocument(content);
  const result = decompile(content);
  return { graph: result.graph, diagnostics: [...problems, ...result.diagnostics] };
}

function report(io: CommandIo, file: string, diagnostics: Diagnostic[]): void {
  if (diagnostics.length > 0) io.stderr(`${diagnostics.map((d) => `${file}: ${formatDiagnostic(d)}`).join('\n')}\n`);
}

const deploy: Command = async (args, io) => {
  let parsed;
  try {
    parsed = parseArgs({ args, allowPositionals: true, options: { server: { type: 'string' }, token: { type: 'string' }, note: { type: 'string' }, help: { type: 'boolean' } } });
  } catch (error) {
    io.stderr(`meshflow deploy: ${(error as Error).message}\n${USAGE}`);
    return 2;
  }
  const file = parsed.positionals[0];
  if (!file || parsed.values.help) {
    io.stderr(USAGE);
    return 2;
  }
  const options = studioOptions(parsed.values);
  if (typeof options === 'string') {
    io.stderr(`meshflow deploy: ${options}\n`);
    return 2;
  }
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    io.stderr(`meshflow deploy: cannot read ${file}: ${(error as Error).message}\n`);
    return 2;
  }
  const read = await readFlowFile(text);
  // Checked here first, so a broken file fails the same way with or without a studio to ask.
  const local = read.graph === undefined ? { diagnostics: [] } : await compileAndValidate(read.graph);
  const diagnostics = [...read.diagnostics, ...local.diagnostics];
  report(io, file, diagnostics);
  if (read.graph === undefined || hasErrors(diagnostics)) return 2;

  const api = studioClient(options);
  try {
    const saved = await api.flows.saveByName.mutate({ graph: read.graph, note: parsed.values.note ?? `deployed from ${file}` });
    if (!saved.ok) {
      // The studio knows more (catalog schemas), so it may refuse what passed here.
      report(io, file, saved.diagnostics);
      return 2;
    }
    const deployed = await api.flows.deploy.mutate({ flowId: saved.flowId, version: saved.version });
    io.stdout(
      `${JSON.stringify({
        flowId: saved.flowId,
        version: saved.version,
        deployment: { id: deployed.deploymentId, status: deployed.status },
        webhooks: deployed.webhooks,
      })}\n`,
    );
    return 0;
  } catch (error) {
    io.stderr(`meshflow deploy: ${describeStudioError(error, options.server)}\n`);
    return 1;
  }
};

export default deploy;
