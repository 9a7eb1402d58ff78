/** `meshflow flows`: the studio's flows with their versions and deployments (`--json` for scripts). */
import { parseArgs } from 'node:util';
import type { Command } from '../main.ts';
import { describeStudioError, studioClient, studioOptions } from '../studio-client.ts';

const USAGE = 'Usage: meshflow flows [--json] [--server <studio URL>] [--token <API token>]\n';

const flows: Command = async (args, io) => {
  let parsed;
  try {
    parsed = parseArgs({ args, options: { server: { type: 'string' }, token: { type: 'string' }, json: { type: 'boolean' }, help: { type: 'boolean' } } });
  } catch (error) {
    io.stderr(`meshflow flows: ${(error as Error).message}\n${USAGE}`);
    return 2;
  }
  if (parsed.values.help) {
    io.stderr(USAGE);
    return 2;
  }
  const options = studioOptions(parsed.values);
  if (typeof options === 'string') {
    io.stderr(`meshflow flows: ${options}\n`);
    return 2;
  }
  try {
    const list = await studioClient(options).flows.list.query();
    const rows = list.map((f) => ({
      id: f.id,
      name: f.name,
      latestVersion: f.latestVersion,
      deployments: f.deployments.map((d) => ({ id: d.id, version: d.version, status: d.status })),
    }));
    if (parsed.values.json) {
      io.stdout(`${JSON.stringify(rows)}\n`);
      return 0;
    }
    const nameWidth = Math.max(4, ...rows.map((r) => r.name.length));
    const lines = rows.map((r) => {
      const deployed = r.deployments.map((d) => `v${d.version} ${d.status}`).join(', ') || 'not deployed';
      return `${r.id}  ${r.name.padEnd(nameWidth)}  v${r.latestVersion ?? '-'}  ${deployed}`;
    });
    io.stdout(`${['ID'.padEnd(36), 'NAME'.padEnd(nameWidth), 'LATEST', 'DEPLOYMENTS'].join('  ')}\n${lines.join('\n')}${lines.length ? '\n' : ''}`);
    return 0;
  } catch (error) {
    io.stderr(`meshflow flows: ${describeStudioError(error, options.server)}\n`);
    return 1;
  }
};

export default flows;
