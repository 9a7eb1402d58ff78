#!/usr/bin/env node
// The CLI is TypeScript; tsx compiles it on load so `npx meshflow` needs no build step.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../runtime/cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
