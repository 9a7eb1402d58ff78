/**
 * `npm run bench`: every benchmark in this folder except the pipeline (which needs minutes
 * and its own command, `npm run bench:pipeline`), one after another in fresh processes so
 * none warms the JIT for the next. Benchmarks of per-call overhead run as a plain-Node bundle
 * (esbuild), since tsx wraps every closure in a `__name` helper that would be measured too.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const benches: { file: string; bundle?: boolean }[] = [
  { file: 'engine.bench.ts', bundle: true },
  { file: 'compiler.bench.ts' },
  { file: 'filters.bench.ts' },
  { file: 'canvas.bench.ts' },
  { file: 'catalog.bench.ts' },
];
const bundles = fileURLToPath(new URL('../../node_modules/.cache/meshflow-bench/', import.meta.url));

let failed = 0;
for (const { file, bundle } of benches) {
  process.stdout.write(`\n── ${file}${bundle ? ' (bundled, plain node)' : ''} ──\n`);
  const source = fileURLToPath(new URL(file, import.meta.url));
  let args = ['--import', 'tsx', source];
  if (bundle) {
    mkdirSync(bundles, { recursive: true });
    const outfile = `${bundles}${file.replace(/\.ts$/, '.mjs')}`;
    await build({ entryPoints: [source], bundle: true, platform: 'node', format: 'esm', packages: 'external', outfile, logLevel: 'warning' });
    args = [outfile];
  }
  const result = spawnSync(process.execPath, args, { stdio: 'inherit' });
  if (result.status !== 0) failed += 1;
}
process.exit(failed ? 1 : 0);
