/**
 * The example workflows of the Serverless Workflow specification (fixtures/spec, sources and
 * skipped files in its README), what each one is, and what "equivalent" means for a round trip.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { DSL_VERSION } from '@/runtime/compiler/compile';
import { withoutMeshflowMetadata } from '@/runtime/compiler/metadata';

export const specDir = fileURLToPath(new URL('./fixtures/spec/', import.meta.url));

export const specFiles = readdirSync(specDir)
  .filter((file) => file.endsWith('.yaml'))
  .sort();

/**
 * Examples that are not YAML at all: a plain scalar holds a jq object literal, whose `": "`
 * every YAML parser reads as a nested mapping. `meshflow graph` refuses them at that line.
 */
export const notYaml: Readonly<Record<string, { line: number }>> = {
  'task-level-catch-basic.yaml': { line: 23 },
  'task-level-catch-http.yaml': { line: 33 },
  'task-level-vs-try-catch.yaml': { line: 25 },
};

/**
 * Examples the engine's validator (`validateWorkflow`: the DSL 1.0.0 JSON Schema through
 * @serverlessworkflow/sdk, plus Meshflow's reference checks) rejects, with the place it
 * reports first and why. Most use constructs of later 1.0.x schema releases; `meshflow graph`
 * refuses them, and the compiler on its own still round-trips them (decompile.test.ts).
 */
export const invalidExamples: Readonly<Record<string, { path: string; why: string }>> = {
  'call-http-query-headers-expressions.yaml': { path: 'do.1.searchStarWarsCharacters.with.headers', why: 'headers as a runtime expression; the 1.0.0 schema wants an object' },
  'call-mcp-1.yaml': { path: 'do.0.GenerateReport.call', why: '`call: mcp` is not in the 1.0.0 schema' },
  'call-mcp-2.yaml': { path: 'do.0.GenerateReport.call', why: '`call: mcp` is not in the 1.0.0 schema' },
  'call-mcp.yaml': { path: 'do.0.publishMessageToSlack.call', why: '`call: mcp` is not in the 1.0.0 schema' },
  'run-container-stdin-and-arguments.yaml': { path: 'do.1.runContainer.run.container', why: 'container stdin and arguments are not in the 1.0.0 schema' },
  'run-container-with-pull-policy.yaml': { path: 'do.0.runContainer.run.container', why: 'container pullPolicy is not in the 1.0.0 schema' },
  'run-script-with-stdin-and-arguments.yaml': { path: 'do.1.runScript.run.script.arguments', why: 'script arguments as a list; the 1.0.0 schema wants an object' },
  'run-shell-stdin-and-arguments.yaml': { path: 'do.1.runShell.run.shell.arguments', why: 'shell arguments as a list; the 1.0.0 schema wants an object' },
  'set-expression.yaml': { path: 'do.0.initialize.set', why: '`set` as a runtime expression; the 1.0.0 schema wants an object' },
  'while.yaml': { path: 'do.0.fetchPaginatedData', why: 'a proposed `while` task the DSL does not have, with undeclared functions' },
};

/** Every example that parses as YAML: the compiler alone must round-trip all of them. */
export const readableFiles = specFiles.filter((file) => !(file in notYaml));

/** Examples valid DSL 1.0 documents: these must survive `meshflow graph` then `meshflow compile`. */
export const validFiles = readableFiles.filter((file) => !(file in invalidExamples));

export function readExample(file: string): unknown {
  return parse(readFileSync(join(specDir, file), 'utf8'));
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * A document as a round trip must keep it; two documents are equivalent when these are
 * deep-equal. Only two things are normalised, everything else must come back as it was:
 * - Meshflow's metadata (`metadata.meshflow`, and a `metadata` it alone filled) is removed:
 *   it holds what the canvas needs (kinds, positions) and other runtimes ignore it.
 * - `document.dsl` of any 1.0.x release reads as 1.0.0, which is what Meshflow writes: the
 *   patch releases are backward compatible, and what a 1.0.0 document cannot say fails
 *   validation instead (see `invalidExamples`).
 * YAML comments, quoting and key order are not compared: they are not part of the document.
 */
export function comparable(document: unknown): unknown {
  const stripped = withoutMeshflowMetadata(document);
  if (!isObject(stripped) || !isObject(stripped.document) || typeof stripped.document.dsl !== 'string') return stripped;
  const dsl = /^1\.0\.\d+$/.test(stripped.document.dsl) ? DSL_VERSION : stripped.document.dsl;
  return { ...stripped, document: { ...stripped.document, dsl } };
}
