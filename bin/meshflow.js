#!/usr/bin/env node
// The CLI runs as a plain-JavaScript bundle (.build/cli), built on install and rebuilt on the
// first start after a source change; where it cannot be built, tsx compiles it on load.
import { ensureCliBuild } from '../scripts/build-cli.mjs';

const built = await ensureCliBuild();
let main;
if (built) {
  ({ main } = await import(built));
} else {
  const { register } = await import('tsx/esm/api');
  register();
  ({ main } = await import('../runtime/cli/main.ts'));
}
process.exitCode = await main(process.argv.slice(2));
