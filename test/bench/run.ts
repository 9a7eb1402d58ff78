/**
 * `npm run bench`: every benchmark in this folder except the pipeline (which needs minutes
 * and its own command, `npm run bench:pipeline`), one after another in fresh processes so
 * none warms the JIT for the next.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const benches = ['engine.bench.ts', 'compiler.bench.ts', 'filters.bench.ts', 'canvas.bench.ts'];
let failed = 0;
for (const file of benches) {
  process.stdout.write(`\n── ${file} ──\n`);
  const result = spawnSync(process.execPath, ['--import', 'tsx', fileURLToPath(new URL(file, import.meta.url))], {
    stdio: 'inherit',
  });
  if (result.status !== 0) failed += 1;
}
process.exit(failed ? 1 : 0);
