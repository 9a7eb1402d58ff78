/**
 * Browser tests: Debian's Chromium (never a downloaded browser) against a real `npm start`
 * on its own ports, with an embedded PostgreSQL in a fresh data directory, so the run
 * starts from an empty studio exactly as a new user does.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defineConfig } from '@playwright/test';

// Set once in the main process; Playwright's workers inherit it. The main process removes it
// on exit, after Playwright has stopped the studio and its database.
if (!process.env.MESHFLOW_E2E_DATA_DIR) {
  const dir = mkdtempSync(join(tmpdir(), 'meshflow-e2e-'));
  process.env.MESHFLOW_E2E_DATA_DIR = dir;
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
}
const studioPort = Number(process.env.MESHFLOW_E2E_PORT ?? 3310);
const workerPort = Number(process.env.MESHFLOW_E2E_WORKER_PORT ?? 8310);

export default defineConfig({
  testDir: 'test/e2e',
  testMatch: ['**/*.spec.ts', '**/*.setup.ts'],
  fullyParallel: false,
  workers: 1,
  retries: 0,
  timeout: 60_000,
  expect: { timeout: 10_000 },
  reporter: process.env.CI ? [['list']] : [['list']],
  // studio.spec starts from a fresh studio (its first test creates the owner), so it runs
  // before every other spec, which signs in as that owner or creates it when run alone.
  projects: [
    { name: 'first-visit', testMatch: 'studio.spec.ts' },
    // The owner signs in once; the other specs start signed in (their sign-ins would meet the login limit).
    { name: 'owner-session', testMatch: 'owner.setup.ts', dependencies: ['first-visit'] },
    {
      name: 'studio',
      testIgnore: ['studio.spec.ts', 'owner.setup.ts'],
      dependencies: ['owner-session'],
      use: { storageState: join(process.env.MESHFLOW_E2E_DATA_DIR!, 'owner-state.json') },
    },
  ],
  use: {
    baseURL: `http://localhost:${studioPort}`,
    trace: 'retain-on-failure',
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    },
  },
  webServer: {
    command: 'node --import tsx scripts/start.ts',
    url: `http://127.0.0.1:${workerPort}/ready`,
    timeout: 240_000,
    reuseExistingServer: false,
    stdout: 'pipe',
    gracefulShutdown: { signal: 'SIGTERM', timeout: 20_000 },
    env: {
      PORT: String(studioPort),
      WORKER_PORT: String(workerPort),
      MESHFLOW_DATA_DIR: process.env.MESHFLOW_E2E_DATA_DIR,
      MESHFLOW_EMBEDDED_PG_PORT: String(Number(process.env.MESHFLOW_E2E_PG_PORT ?? 54339)),
      DATABASE_URL: '',
      NEXT_TELEMETRY_DISABLED: '1',
    },
  },
});
