#!/usr/bin/env node
// `npm run worker`: the runtime worker as its plain-JavaScript bundle (.build/worker), rebuilt
// first when a source under runtime/ or prisma/ changed (scripts/build-cli.mjs); where it cannot
// be built, tsx compiles the TypeScript on load. The worker reads its settings from the environment.
import { ensureBuild } from './build-cli.mjs';

const built = await ensureBuild('worker');
if (built) {
  await import(built);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import('../runtime/worker/main.ts');
}
