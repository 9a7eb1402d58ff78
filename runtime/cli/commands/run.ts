/**
 * `meshflow run <file> [--input '<json>' | --input-file <path>] [--secrets-file <path>]
 * [--secret <name>=<value>]… [--timeout <duration>] [--allow-scripts] [--allow-processes]`: runs the
 * workflow in this process, with no database. `$secrets` holds only what the file and flags give
 * (and only the names `use.secrets` declares), never the environment. `run: script` runs only with
 * --allow-scripts (or MESHFLOW_SCRIPTS=enabled), and then in a separate locked-down process.
 * Output JSON on stdout and exit 0; a fault as problem details on stderr and
 * exit 1; an invalid document or invocation, every problem on stderr and exit 2.
 */
import { readFile } from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import type { Command } from '../main.ts';
import { durationMs } from '../../engine/duration.ts';
import { sandboxSettings } from '../../engine/host/sandbox-settings.ts';
import { ProcessScriptRunner } from '../../engine/host/script-runner.ts';
import { runWorkflow } from '../../engine/runner.ts';
import type { Json } from '../../engine/types.ts';
import { formatDiagnostics, loadWorkflow } from '../../engine/validate.ts';

const USAGE = `Usage: meshflow run <workflow.yaml|workflow.json> [options]

Options:
  --input '<json>'        workflow input (default {})
  --input-file <path>     workflow input from a JSON or YAML file
  --secrets-file <path>   secrets ($secrets, use.secrets) from a JSON or YAML object
  --secret <name>=<value> one secret (repeatable; wins over --secrets-file)
  --timeout <duration>    fail after this long: 30s, 5m, 1h, 1500ms or ISO 8601 (PT30S)
  --allow-scripts         let run: script execute, in a separate locked-down process with no
                          network, files or environment (also MESHFLOW_SCRIPTS=enabled)
  --allow-processes       let run: shell and run: container execute
`;

const secretsSchema = z.record(z.string(), z.unknown());

function parseTimeout(value: string): number {
  const simple = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(value);
  if (simple) return Number(simple[1]) * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[simple[2] ?? 'ms']!;
  return durationMs(value);
}

interface Options {
  file?: string;
  input?: string;
  inputFile?: string;
  secretsFile?: string;
  secret: [string, string][];
  timeout?: string;
  allowProcesses: boolean;
  allowScripts: boolean;
}

function parseArgs(args: string[]): Options | string {
  const options: Options = { allowProcesses: false, allowScripts: false, secret: [] };
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    const [flag, inline] = arg.startsWith('--') && arg.includes('=') ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)] : [arg, undefined];
    const value = () => inline ?? args[++i];
    switch (flag) {
      case '--input':
        options.input = value();
        break;
      case '--input-file':
        options.inputFile = value();
        break;
      case '--secrets-file':
        options.secretsFile = value();
        break;
      case '--secret': {
        const pair = value() ?? '';
        const at = pair.indexOf('=');
        if (at < 1) return `--secret ${pair}: expected <name>=<value>`;
        options.secret.push([pair.slice(0, at), pair.slice(at + 1)]);
        break;
      }
      case '--timeout':
        options.timeout = value();
        break;
      case '--allow-scripts':
        options.allowScripts = true;
        break;
      case '--allow-processes':
        options.allowProcesses = true;
        break;
      default:
        if (flag.startsWith('-')) return `unknown option ${flag}`;
        if (options.file) return `only one workflow file can be run (got ${options.file} and ${flag})`;
        options.file = flag;
    }
  }
  if (!options.file) return 'which workflow file?';
  if (options.input !== undefined && options.inputFile !== undefined) return 'give --input or --input-file, not both';
  return options;
}

const run: Command = async (args, io) => {
  if (args.includes('--help') || args.includes('-h')) {
    io.stdout(USAGE);
    return 0;
  }
  const options = parseArgs(args);
  if (typeof options === 'string') {
    io.stderr(`meshflow run: ${options}\n\n${USAGE}`);
    return 2;
  }
  const problems: string[] = [];
  let input: Json = {};
  let secrets: Record<string, Json> = {};
  let timeoutMs: number | undefined;
  let settings: ReturnType<typeof sandboxSettings> | undefined;
  try {
    settings = sandboxSettings(process.env);
  } catch (error) {
    problems.push((error as Error).message);
  }
  try {
    if (options.input !== undefined) input = JSON.parse(options.input) as Json;
  } catch (error) {
    problems.push(`--input is not JSON: ${(error as Error).message}`);
  }
  try {
    if (options.inputFile !== undefined) input = parseYaml(await readFile(options.inputFile, 'utf8')) as Json;
  } catch (error) {
    problems.push(`--input-file ${options.inputFile}: ${(error as Error).message}`);
  }
  try {
    if (options.secretsFile !== undefined) secrets = secretsSchema.parse(parseYaml(await readFile(options.secretsFile, 'utf8'))) as Record<string, Json>;
  } catch (error) {
    problems.push(`--secrets-file ${options.secretsFile}: must be a JSON or YAML object (${(error as Error).message.split('\n')[0]})`);
  }
  for (const [name, value] of options.secret) secrets[name] = value;
  try {
    if (options.timeout !== undefined) timeoutMs = parseTimeout(options.timeout);
  } catch {
    problems.push(`--timeout ${options.timeout}: expected e.g. 30s, 5m, 1500ms or PT30S`);
  }
  let text = '';
  try {
    text = await readFile(options.file!, 'utf8');
  } catch (error) {
    problems.push(`cannot read ${options.file}: ${(error as Error).message}`);
  }
  if (problems.length > 0) {
    io.stderr(`meshflow run: ${problems.join('\nmeshflow run: ')}\n`);
    return 2;
  }
  const { document, diagnostics } = await loadWorkflow(text);
  if (!document) {
    io.stderr(`${options.file}: ${diagnostics.length} problem${diagnostics.length === 1 ? '' : 's'}\n${formatDiagnostics(diagnostics)}\n`);
    return 2;
  }
  const scripts =
    options.allowScripts || settings!.MESHFLOW_SCRIPTS === 'enabled'
      ? new ProcessScriptRunner({ timeoutMs: settings!.MESHFLOW_SCRIPT_TIMEOUT_MS, memoryMb: settings!.MESHFLOW_SCRIPT_MEMORY_MB })
      : undefined;
  const result = await runWorkflow(document, input, {
    secrets,
    allowProcesses: options.allowProcesses,
    ...(scripts ? { scripts } : {}),
    ...(timeoutMs === undefined ? {} : { timeoutMs }),
  });
  if (result.status === 'completed') {
    io.stdout(`${JSON.stringify(result.output, null, 2)}\n`);
    return 0;
  }
  if (result.status === 'faulted') {
    io.stderr(`${JSON.stringify(result.error, null, 2)}\n`);
    return 1;
  }
  io.stderr(`${JSON.stringify({ type: 'about:blank', title: `workflow ${result.status}`, status: 500 })}\n`);
  return 1;
};

export default run;
