/**
 * `meshflow filter '<filter JSON>' --event '<CloudEvent JSON>'` — tests a filter without
 * deploying it, as EventBridge's TestEventPattern does. The filter is the Subscriptions API
 * form (`{"exact": {…}}`, `{"all": […]}`, `{"sql": "…"}`, …) or `{"pattern": {…}}`.
 * Prints `true` or `false` and exits 0 (warnings, e.g. a sql filter that can never pass, on
 * stderr); an invalid filter is explained on stderr, exit 2.
 */
import { DefinitionError, compileFilter, filterWarnings, formatIssue } from '../../expressions/filters/index.ts';
import type { Command } from '../main.ts';
import { parseEventOption, readArguments } from './cesql.ts';

const USAGE = "usage: meshflow filter '<filter JSON>' --event '<CloudEvent JSON>'\n";

const filter: Command = async (args, io) => {
  const parsed = readArguments(args, io, USAGE);
  if (!parsed) return 2;
  if (parsed.event === undefined) {
    io.stderr(`--event is required\n${USAGE}`);
    return 2;
  }
  const event = parseEventOption(parsed.event);
  if (typeof event === 'string') {
    io.stderr(`${event}\n`);
    return 2;
  }
  let definition: unknown;
  try {
    definition = JSON.parse(parsed.positional);
  } catch (error) {
    io.stderr(`the filter is not valid JSON: ${(error as Error).message}\n`);
    return 2;
  }
  let predicate;
  try {
    predicate = await compileFilter(definition);
  } catch (error) {
    if (!(error instanceof DefinitionError)) throw error;
    io.stderr(`${error.message}\n`);
    return 2;
  }
  for (const warning of filterWarnings(definition)) io.stderr(`warning: ${formatIssue(warning)}\n`);
  io.stdout(`${predicate(event)}\n`);
  return 0;
};

export default filter;
