/**
 * The restart policy `npm start` applies to the studio and the worker, with real child
 * processes and short delays: doubling, capped, started over after a stable run, never
 * restarted once stopping, and no restart for a crash before the first "ready".
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { supervise } from '@/scripts/supervise';
import { waitFor } from '@/test/helpers/databases';

// Quick runs exit as soon as Node has started; the long run lasts twice stableAfterMs.
const policy = { firstDelayMs: 20, maxDelayMs: 80, stableAfterMs: 3_000 };
const dir = mkdtempSync(join(tmpdir(), 'meshflow-supervise-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A process that counts its runs in a file; the runs listed in `longRuns` last 6 s, the others exit at once. */
function counted(file: string, longRuns: number[]) {
  const script = `
    const fs = require('node:fs');
    const n = (fs.existsSync(${JSON.stringify(file)}) ? Number(fs.readFileSync(${JSON.stringify(file)}, 'utf8')) : 0) + 1;
    fs.writeFileSync(${JSON.stringify(file)}, String(n));
    if (${JSON.stringify(longRuns)}.includes(n)) setTimeout(() => process.exit(2), 6000); else process.exit(1);`;
  return () => spawn(process.execPath, ['-e', script], { stdio: 'ignore' });
}

describe('supervise', () => {
  it('restarts with doubling delays up to the cap, and starts over after a stable run', async () => {
    const lines: string[] = [];
    const s = supervise({
      name: 'worker',
      start: counted(join(dir, 'a'), [6]),
      say: (l) => lines.push(l),
      startedOk: () => true,
      onFailedStart: () => {},
      policy,
    });
    const exits = () => lines.filter((l) => l.includes('restarting it in'));
    await waitFor(async () => (exits().length >= 7 ? true : undefined), 30_000, 'seven restarts');
    await s.stop();
    expect(lines[0]).toMatch(/^worker started \(pid \d+\)$/);
    expect(exits().slice(0, 7)).toEqual([
      'worker exited (code 1); restarting it in 0.02 s (restart 1)',
      'worker exited (code 1); restarting it in 0.04 s (restart 2)',
      'worker exited (code 1); restarting it in 0.08 s (restart 3)',
      'worker exited (code 1); restarting it in 0.08 s (restart 4)',
      'worker exited (code 1); restarting it in 0.08 s (restart 5)',
      // run 6 lasted longer than stableAfterMs: the delays start over
      'worker exited (code 2); restarting it in 0.02 s (restart 6)',
      'worker exited (code 1); restarting it in 0.04 s (restart 7)',
    ]);
    expect(lines.filter((l) => /^worker restarted \(pid \d+\)$/.test(l)).length).toBeGreaterThanOrEqual(6);
  }, 60_000);

  it('does not restart what it was asked to stop', async () => {
    const lines: string[] = [];
    const s = supervise({
      name: 'studio',
      start: () => spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' }),
      say: (l) => lines.push(l),
      startedOk: () => true,
      onFailedStart: () => {},
      policy,
    });
    await s.stop();
    // A restart would have been announced by the exit that stop() waited for.
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^studio started/);
  });

  it('gives up, and says so, when the process dies before the first ready', async () => {
    const lines: string[] = [];
    let failed = false;
    supervise({
      name: 'worker',
      start: () => spawn(process.execPath, ['-e', 'process.exit(1)'], { stdio: 'ignore' }),
      say: (l) => lines.push(l),
      startedOk: () => false,
      onFailedStart: () => (failed = true),
      policy,
    });
    await waitFor(async () => (failed ? true : undefined), 10_000, 'the failed start');
    expect(lines.at(-1)).toBe('worker exited (code 1) while starting; stopping the rest');
    expect(lines.some((l) => l.includes('restarting'))).toBe(false);
  });
});
