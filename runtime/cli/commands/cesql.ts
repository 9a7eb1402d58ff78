/**
 * `meshflow cesql '<expression>' [--event '<CloudEvent JSON>']` — evaluates a CloudEvents
 * SQL expression and prints `{"value": …, "error": null | {"kind", "message"}}` on one
 * line. Exit 0 whenever the expression parses (evaluation errors are part of the answer),
 * 2 when it does not parse or the arguments are wrong.
 */
import { CesqlParseError, compileCesql, type CesqlEvent } from '../../expressions/cesql/index.ts';
import type { Command, CommandIo } from '../main.ts';

const USAGE = "usage: meshflow cesql '<expression>' [--event '<CloudEvent JSON>']\n";

/** Used when no --event is given: the spec evaluates against "any valid event". */
const DEFAULT_EVENT: CesqlEvent = {
  specversion: '1.0',
  id: '00000000-0000-0000-0000-000000000000',
  source: '/meshflow/cli',
  type: 'dev.meshflow.cli.test',
};

const REQUIRED = ['specversion', 'id', 'source', 'type'] as const;

/** Parses a structured-mode CloudEvent given on the command line; returns a message when it is not one. */
export function parseEventOption(text: string): CesqlEvent | string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    return `--event is not valid JSON: ${(error as Error).message}`;
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    return '--event must be a JSON object (a CloudEvent in structured mode)';
  }
  const event = parsed as Record<string, unknown>;
  const absent = REQUIRED.filter((name) => typeof event[name] !== 'string' || event[name] === '');
  if (absent.length > 0) return `--event is missing the required attribute(s) ${absent.join(', ')}`;
  return event;
}

/**
 * Splits `<positional> [--event JSON]`; prints usage and returns undefined when they do not
 * fit. Hand-rolled rather than util.parseArgs, which would read `-4 + 1` as an option.
 */
export function readArguments(args: string[], io: CommandIo, usage: string): { positional: string; event?: string } | undefined {
  const positionals: string[] = [];
  let event: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    if (arg === '--event') {
      event = args[++i];
      if (event === undefined) {
        io.stderr(`--event needs a value\n${usage}`);
        return undefined;
      }
    } else if (arg.startsWith('--event=')) {
      event = arg.slice('--event='.length);
    } else {
      positionals.push(arg);
    }
  }
  const [positional, ...extra] = positionals;
  if (positional === undefined || extra.length > 0) {
    io.stderr(`expected exactly one argument, got ${positionals.length}\n${usage}`);
    return undefined;
  }
  return { positional, event };
}

const cesql: Command = async (args, io) => {
  const parsed = readArguments(args, io, USAGE);
  if (!parsed) return 2;
  let event = DEFAULT_EVENT;
  if (parsed.event !== undefined) {
    const result = parseEventOption(parsed.event);
    if (typeof result === 'string') {
      io.stderr(`${result}\n`);
      return 2;
    }
    event = result;
  }
  let expression;
  try {
    expression = compileCesql(parsed.positional);
  } catch (error) {
    if (!(error instanceof CesqlParseError)) throw error;
    io.stdout(`${JSON.stringify({ value: null, error: { kind: 'parse', message: error.message } })}\n`);
    return 2;
  }
  const { value, errors } = expression.evaluate(event);
  // The line has room for one error: the first one met is the cause of the rest.
  const [first] = errors;
  io.stdout(`${JSON.stringify({ value, error: first ? { kind: first.kind, message: first.message } : null })}\n`);
  return 0;
};

export default cesql;
