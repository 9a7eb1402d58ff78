import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
// @ts-expect-error: a plain .mjs script without type declarations
import { cliBuildIsFresh } from '@/scripts/build-cli.mjs';

const root = fileURLToPath(new URL('../../..', import.meta.url));

describe('the meshflow bin', () => {
  it('answers from the compiled bundle and leaves it up to date', () => {
    const result = spawnSync(process.execPath, ['bin/meshflow.js', 'cesql', '1 + 1'], { cwd: root, encoding: 'utf8', timeout: 60_000 });
    expect(result.stderr).toBe('');
    expect(JSON.parse(result.stdout)).toEqual({ value: 2, error: null });
    expect(result.status).toBe(0);
    expect(cliBuildIsFresh()).toBe(true);
  }, 60_000);

  it('answers an unknown command with its usage and exit 2', () => {
    const result = spawnSync(process.execPath, ['bin/meshflow.js', 'no-such-command'], { cwd: root, encoding: 'utf8', timeout: 60_000 });
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('unknown command "no-such-command"');
  }, 60_000);
});
