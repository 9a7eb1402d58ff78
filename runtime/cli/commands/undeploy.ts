/** `meshflow undeploy <flow id>`: stops a flow's intake; runs in flight finish. */
import { parseArgs } from 'node:util';
import type { Command } from '../main.ts';
import { describeStudioError, studioClient, studioOptions } from '../studio-client.ts';

const USAGE = 'Usage: meshflow undeploy <flow id> [--server <studio URL>] [--token <API token>]\n';

const undeploy: Command = async (args, io) => {
  let parsed;
  try {
    parsed = parseArgs({ args, allowPositionals: true, options: { server: { type: 'string' }, token: { type: 'string' }, help: { type: 'boolean' } } });
  } catch (error) {
    io.stderr(`meshflow undeploy: ${(error as Error).message}\n${USAGE}`);
    return 2;
  }
  const flowId = parsed.positionals[0];
  if (!flowId || parsed.values.help) {
    io.stderr(USAGE);
    return 2;
  }
  const options = studioOptions(parsed.values);
  if (typeof options === 'string') {
    io.stderr(`meshflow undeploy: ${options}\n`);
    return 2;
  }
  try {
    await studioClient(options).flows.undeploy.mutate({ flowId });
    io.stdout(`${JSON.stringify({ flowId, status: 'stopped' })}\n`);
    return 0;
  } catch (error) {
    io.stderr(`meshflow undeploy: ${describeStudioError(error, options.server)}\n`);
    return 1;
  }
};

export default undeploy;
