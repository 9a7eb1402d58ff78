/**
 * The `meshflow` command and the runtime worker as plain JavaScript: esbuild bundles
 * runtime/cli into .build/cli (one chunk per command, so each still loads only what it needs)
 * and runtime/worker into .build/worker. bin/meshflow.js and scripts/worker.mjs call
 * `ensureBuild()` on every start; it rebuilds only when a file under runtime/ or prisma/
 * is newer than the build, which costs a directory walk (a few ms), not a compile.
 * Plain .mjs so the bin can import it without a TypeScript loader.
 *
 * Bundled code runs from .build/<target>/: anything that finds files next to its source via
 * `import.meta.url` must also look there relative to the repository (prisma/migrator.ts does).
 */
import { mkdirSync, readdirSync, statSync, writeFileSync, rmSync, renameSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const sources = ['runtime', 'prisma'];

/** What can be built: the entry point of each target. */
export const TARGETS = {
  cli: 'runtime/cli/main.ts',
  worker: 'runtime/worker/main.ts',
};

const outdirOf = (target) => join(root, '.build', target);
const stampOf = (target) => join(outdirOf(target), 'built-at');

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

export function buildIsFresh(target) {
  let built;
  try {
    built = statSync(stampOf(target)).mtimeMs;
  } catch {
    return false;
  }
  return sources.every((dir) => newestMtime(join(root, dir)) <= built);
}

/** Bundles one target; resolves to its entry's path. Writes to a temporary folder first so a
 * concurrent start never sees half a build. */
export async function build(target) {
  const entry = TARGETS[target];
  if (!entry) throw new Error(`unknown build target "${target}"; known: ${Object.keys(TARGETS).join(', ')}`);
  const { build: esbuild } = await import('esbuild');
  const outdir = outdirOf(target);
  const temp = `${outdir}.${process.pid}`;
  rmSync(temp, { recursive: true, force: true });
  await esbuild({
    entryPoints: { main: join(root, entry) },
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
export async function ensureBuild(target) {
  if (buildIsFresh(target)) return join(outdirOf(target), 'main.mjs');
  try {
    return await build(target);
  } catch {
    return undefined;
  }
}

export const cliBuildIsFresh = () => buildIsFresh('cli');
export const buildCli = () => build('cli');
export const ensureCliBuild = () => ensureBuild('cli');

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const wanted = process.argv.slice(2);
  for (const target of wanted.length > 0 ? wanted : Object.keys(TARGETS)) {
    process.stdout.write(`built ${await build(target)}\n`);
  }
}
