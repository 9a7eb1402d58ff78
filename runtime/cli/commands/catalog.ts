/**
 * `meshflow catalog export [--type <pattern>]` prints the catalog (or the types matching a
 * `*` pattern) as an AsyncAPI 3.0 YAML document; `meshflow catalog import <file>` registers the
 * messages of an AsyncAPI 3.0 document as event types. Both go through the studio's API with
 * an API token, like the other studio commands: the studio owns the catalog's rules (schema
 * versions, validation of the document) and its access control.
 */
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import type { Command } from '../main.ts';
import { describeStudioError, studioClient, studioOptions } from '../studio-client.ts';

const USAGE =
  'Usage: meshflow catalog export [--type <pattern>] [--server <studio URL>] [--token <API token>]\n' +
  '       meshflow catalog import <asyncapi file> [--server <studio URL>] [--token <API token>]\n';

const catalog: Command = async (args, io) => {
  let parsed;
  try {
    parsed = parseArgs({ args, allowPositionals: true, options: { type: { type: 'string' }, server: { type: 'string' }, token: { type: 'string' }, help: { type: 'boolean' } } });
  } catch (error) {
    io.stderr(`meshflow catalog: ${(error as Error).message}\n${USAGE}`);
    return 2;
  }
  const [action, file, ...extra] = parsed.positionals;
  if (parsed.values.help || (action !== 'export' && action !== 'import') || (action === 'import' && !file) || extra.length > 0 || (action === 'export' && file)) {
    io.stderr(USAGE);
    return 2;
  }
  const options = studioOptions(parsed.values);
  if (typeof options === 'string') {
    io.stderr(`meshflow catalog: ${options}\n`);
    return 2;
  }
  const api = studioClient(options);
  if (action === 'export') {
    try {
      const { yaml, count } = await api.catalog.exportAsyncApi.query(parsed.values.type ? { type: parsed.values.type } : {});
      io.stdout(yaml);
      if (count === 0) io.stderr(`meshflow catalog: no event type matches ${parsed.values.type ?? '(any)'}\n`);
      return 0;
    } catch (error) {
      io.stderr(`meshflow catalog export: ${describeStudioError(error, options.server)}\n`);
      return 1;
    }
  }
  let document: string;
  try {
    document = await readFile(file!, 'utf8');
  } catch (error) {
    io.stderr(`meshflow catalog import: cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}\n`);
    return 1;
  }
  try {
    const { imported } = await api.catalog.importAsyncApi.mutate({ document });
    for (const entry of imported) {
      const what = entry.created ? 'registered' : entry.newVersion ? `updated (schema version ${entry.newVersion})` : 'unchanged';
      io.stdout(`${entry.type}  ${what}\n`);
    }
    return 0;
  } catch (error) {
    io.stderr(`meshflow catalog import: ${file}: ${describeStudioError(error, options.server)}\n`);
    return 1;
  }
};

export default catalog;
