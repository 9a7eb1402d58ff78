/**
 * `meshflow events explain <id>`: what each deployment that considered an event did with it
 * — filtered (by which node, and why), delivered, waiting, dead-lettered, or started a run —
 * as the worker recorded it, read through the studio's API (`--json` for scripts).
 */
import { parseArgs } from 'node:util';
import type { Command } from '../main.ts';
import { describeStudioError, studioClient, studioOptions } from '../studio-client.ts';

const USAGE = 'Usage: meshflow events explain <event id | seq> [--json] [--server <studio URL>] [--token <API token>]\n';

const events: Command = async (args, io) => {
  let parsed;
  try {
    parsed = parseArgs({ args, allowPositionals: true, options: { server: { type: 'string' }, token: { type: 'string' }, json: { type: 'boolean' }, help: { type: 'boolean' } } });
  } catch (error) {
    io.stderr(`meshflow events: ${(error as Error).message}\n${USAGE}`);
    return 2;
  }
  const [sub, ref, ...extra] = parsed.positionals;
  if (parsed.values.help || sub !== 'explain' || !ref || extra.length > 0) {
    io.stderr(sub && sub !== 'explain' ? `meshflow events: unknown subcommand "${sub}"\n${USAGE}` : USAGE);
    return 2;
  }
  const options = studioOptions(parsed.values);
  if (typeof options === 'string') {
    io.stderr(`meshflow events: ${options}\n`);
    return 2;
  }
  try {
    const explained = await studioClient(options).events.explain.query({ ref });
    if (parsed.values.json) {
      io.stdout(`${JSON.stringify(explained)}\n`);
      return 0;
    }
    const { event } = explained;
    const lines = [
      `event ${event.id} (${event.type} from ${event.source}), seq ${event.seq}, received ${event.receivedAt.toISOString()} on ${explained.ingress}`,
      explained.summary,
      ...explained.decisions.map((d) => `  - ${d.summary}${d.runId ? `  [run ${d.runId}]` : ''}`),
    ];
    io.stdout(`${lines.join('\n')}\n`);
    return 0;
  } catch (error) {
    io.stderr(`meshflow events: ${describeStudioError(error, options.server)}\n`);
    return 1;
  }
};

export default events;
