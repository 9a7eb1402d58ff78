/**
 * Render and pan time of a 500-node canvas in Chromium (target: smooth, no frame over 50 ms
 * while panning). The designer's real canvas is bundled with esbuild into a bare page (no
 * studio, no server), so this measures React Flow plus our node renderer and store.
 * Run: npx tsx test/bench/canvas.bench.ts [nodes]
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { chromium, type Page } from 'playwright-core';

const root = fileURLToPath(new URL('../../', import.meta.url));
const size = Number(process.argv[2] ?? 500);

const bundle = await build({
  entryPoints: [fileURLToPath(new URL('canvas-harness.tsx', import.meta.url))],
  bundle: true,
  write: false,
  minify: true,
  format: 'esm',
  platform: 'browser',
  jsx: 'automatic',
  alias: { '@': root.replace(/\/$/, '') },
  define: { 'process.env.NODE_ENV': '"production"' },
  logLevel: 'error',
});
const files: Record<string, [string, string | Uint8Array]> = {
  '/': ['text/html', '<!doctype html><html><head><link rel="stylesheet" href="/style.css"></head><body style="margin:0"><div id="root"></div><script type="module" src="/bench.js"></script></body></html>'],
  '/bench.js': ['text/javascript', bundle.outputFiles[0]!.contents],
  '/style.css': ['text/css', readFileSync(`${root}node_modules/@xyflow/react/dist/style.css`)],
};
const server = createServer((req, res) => {
  const file = files[(req.url ?? '/').split('?')[0]!];
  if (!file) return void res.writeHead(404).end();
  res.writeHead(200, { 'content-type': file[0] }).end(file[1]);
});
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const { port } = server.address() as AddressInfo;

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});

/** Frame-to-frame times (ms) while `action` runs, from requestAnimationFrame in the page. */
async function frameTimes(page: Page, action: () => Promise<void>): Promise<number[]> {
  // A string, not a function: tsx would wrap a named inner function in a helper the page lacks.
  await page.evaluate(`(() => {
    window.frames_ = [];
    window.recording = true;
    let last = performance.now();
    const tick = (now) => {
      window.frames_.push(now - last);
      last = now;
      if (window.recording) requestAnimationFrame(tick);
    };
    requestAnimationFrame(tick);
  })()`);
  await action();
  return page.evaluate(() => {
    const w = window as unknown as { frames_: number[]; recording: boolean };
    w.recording = false;
    return w.frames_.slice(1);
  });
}

async function pan(page: Page): Promise<void> {
  const box = (await page.locator('.react-flow__pane').boundingBox())!;
  const [cx, cy] = [box.x + box.width / 2, box.y + box.height / 2];
  await page.mouse.move(cx, cy);
  await page.mouse.down();
  for (let i = 1; i <= 60; i++) await page.mouse.move(cx - i * 10, cy - i * 5);
  for (let i = 59; i >= 0; i--) await page.mouse.move(cx - i * 10, cy - i * 5);
  await page.mouse.up();
}

function report(label: string, times: number[]): void {
  const sorted = [...times].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
  const over = times.filter((t) => t > 50).length;
  console.log(`${label.padEnd(34)} frames ${String(times.length).padStart(4)}  p50 ${at(0.5).toFixed(1)} ms  p95 ${at(0.95).toFixed(1)} ms  max ${at(1).toFixed(1)} ms  over 50 ms: ${over}`);
}

try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  await page.goto(`http://127.0.0.1:${port}/?nodes=${size}`);
  await page.waitForFunction((n) => document.querySelectorAll('.react-flow__node').length >= n, size, { timeout: 60_000, polling: 'raf' });
  const rendered = await page.evaluate(() => performance.now() - (window as unknown as { renderStart: number }).renderStart);
  console.log(`first render of ${size} nodes (fit view)       ${rendered.toFixed(0)} ms`);
  report(`pan, all ${size} nodes in view`, await frameTimes(page, () => pan(page)));
  // At 100 % zoom only part of the flow is in view; panning brings nodes in and out.
  await page.mouse.move(640, 400);
  for (let i = 0; i < 12; i++) await page.mouse.wheel(0, -200);
  await page.waitForTimeout(300);
  report('pan, zoomed in (nodes come and go)', await frameTimes(page, () => pan(page)));
} finally {
  await browser.close();
  server.close();
}
