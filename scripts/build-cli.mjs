/**
 * The `meshflow` command as plain JavaScript: esbuild bundles runtime/cli into .build/cli
 * (one chunk per command, so each still loads only what it needs). bin/meshflow.js calls
 * `ensureCliBuild()` on every start; it rebuilds only when a file under runtime/ or prisma/
 * is newer than the build, which costs a directory walk (a few ms), not a compile.
 * Plain .mjs so the bin can import it without a TypeScript loader.
 */
import { mkdirSync, readdirSync, statSync, writeFileSync, rmSync, renameSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const outdir = join(root, '.build', 'cli');
const stamp = join(outdir, 'built-at');
const sources = ['runtime', 'prisma'];

function newestMtime(dir) {
  let newest = 0;
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return 0;
  }
  for (const entry of entries) {
    if (entry.name === 'node_modules' || entry.name.startsWith('.')) continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestMtime(path));
    else if (/\.(ts|mts|js|mjs|json|sql)$/.test(entry.name)) newest = Math.max(newest, statSync(path).mtimeMs);
  }
  return newest;
}

export function cliBuildIsFresh() {
  let built;
  try {
    built = statSync(stamp).mtimeMs;
  } catch {
    return false;
  }
  return sources.every((dir) => newestMtime(join(root, dir)) <= built);
}

/** Bundles the CLI; resolves to the entry's path. Writes to a temporary folder first so a
 * concurrent start never sees half a build. */
export async function buildCli() {
  const { build } = await import('esbuild');
  const temp = `${outdir}.${process.pid}`;
  rmSync(temp, { recursive: true, force: true });
  await build({
    entryPoints: { main: join(root, 'runtime/cli/main.ts') },
    outdir: temp,
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    packages: 'external',
    outExtension: { '.js': '.mjs' },
    logLevel: 'warning',
  });
  writeFileSync(join(temp, 'built-at'), new Date().toISOString());
  mkdirSync(dirname(outdir), { recursive: true });
  rmSync(outdir, { recursive: true, force: true });
  renameSync(temp, outdir);
  return join(outdir, 'main.mjs');
}

/** The path of an up-to-date build, building it when needed; undefined when it cannot be built
 * (no esbuild, read-only install): the caller then falls back to compiling on load. */
export async function ensureCliBuild() {
  if (cliBuildIsFresh()) return join(outdir, 'main.mjs');
  try {
    return await buildCli();
  } catch {
    return undefined;
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const entry = await buildCli();
  process.stdout.write(`built ${entry}\n`);
}
