/**
 * Runs `prisma generate` without its engine download: generate never runs the schema
 * engine, but the CLI fetches it first from a host this machine cannot reach
 * (STACK-NOTES). Pointing PRISMA_SCHEMA_ENGINE_BINARY at any file skips the download.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const result = spawnSync('npx', ['prisma', 'generate'], {
  cwd: root,
  stdio: 'inherit',
  env: {
    ...process.env,
    PRISMA_SCHEMA_ENGINE_BINARY: process.env.PRISMA_SCHEMA_ENGINE_BINARY ?? process.execPath,
    PRISMA_HIDE_UPDATE_MESSAGE: '1',
  },
});
process.exit(result.status ?? 1);
