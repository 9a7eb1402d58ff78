/**
 * Code execution through `run: script` (SECURITY.md, "Scripts and expressions"): an editor's
 * flow tries to escape its sandbox — `console.log.constructor('return process')()` and its
 * variants — to read the server's environment and files, write files, start processes and
 * open sockets. Performed for real through a studio test run (tRPC), `meshflow run`, the
 * worker, and against the script process itself; each attempt must come back empty.
 */
import { spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { PrismaClient } from '@/prisma/generated/client';
import { decompile } from '@/runtime/compiler/decompile';
import { main } from '@/runtime/cli/main';
import { LOCKDOWN_SOURCE, ProcessScriptRunner, scriptProcessArgs, scriptProcessOptions } from '@/runtime/engine/host/script-runner';
import { loadWorkerConfig } from '@/runtime/worker/config';
import { createDb } from '@/server/db';
import { parseEnv, studioEnvSchema } from '@/server/env';
import { createCaller } from '@/server/routers/root';
import { waitFor } from '@/test/helpers/databases';
import { deploy, post, startWorker, structured, undeployAll } from '@/test/integration/events/helpers';

const CANARY = `canary-${randomBytes(8).toString('hex')}`;

/**
 * The attack an editor puts in a script: every known way out of the sandbox, and with
 * whatever it reaches, the server's environment, a secret file, a file write, a child
 * process and a connection to `port`. Returns what worked ({} when nothing did).
 */
function attack(secretFile: string, writeDir: string, port: number): string {
  return `
const leaks = {};
const escapes = {
  consoleConstructor: () => console.log.constructor('return process')(),
  objectConstructor: () => ({}).constructor.constructor('return process')(),
  arrowConstructor: () => (() => 0).constructor('return process')(),
  asyncConstructor: () => (async () => 0).constructor('return process')(),
  globalProcess: () => globalThis.process,
  globalRequire: () => globalThis.require,
};
const use = async (name, found) => {
  if (found === undefined || found === null) return;
  leaks[name] = typeof found;
  const p = typeof found === 'function' ? found('process') : found;
  if (!p || typeof p !== 'object') return;
  if (p.env) leaks[name + '.env'] = JSON.stringify(p.env);
  const req = (p.mainModule && p.mainModule.require) || (p.getBuiltinModule && ((m) => p.getBuiltinModule(m)));
  if (!req) return;
  try { leaks[name + '.read'] = req('fs').readFileSync(${JSON.stringify(secretFile)}, 'utf8'); } catch {}
  try { req('fs').writeFileSync(${JSON.stringify(join(writeDir, 'pwned'))}, 'x'); leaks[name + '.write'] = true; } catch {}
  try { leaks[name + '.spawn'] = String(req('child_process').execSync('id')); } catch {}
  try { req('net').connect(${port}, '127.0.0.1'); leaks[name + '.connect'] = true; } catch {}
};
for (const [name, escape] of Object.entries(escapes)) {
  let found;
  try { found = escape(); if (found && typeof found.then === 'function') found = await found; } catch { found = undefined; }
  await use(name, found);
}
for (const name of ['node:fs', 'node:net', 'node:child_process']) {
  try { await import(name); leaks['import ' + name] = true; } catch (e) {
    try { await use('importError ' + name, e.constructor.constructor('return process')()); } catch {}
  }
}
if (typeof fetch === 'function') { try { await fetch('http://127.0.0.1:${port}/'); leaks.fetch = true; } catch {} }
return leaks;
`;
}

/** A loopback listener that counts connections: any connection is a script reaching the network. */
async function listener(): Promise<{ server: Server; port: number; connections: () => number }> {
  let count = 0;
  const server = createServer((socket) => {
    count++;
    socket.destroy();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as { port: number }).port, connections: () => count };
}

function scriptWorkflow(name: string, code: string, schedule?: string) {
  return {
    document: { dsl: '1.0.0', namespace: 'security', name, version: '0.1.0' },
    ...(schedule ? { schedule: { on: { one: { with: { type: schedule } } } } } : {}),
    do: [{ js: { run: { script: { language: 'javascript', code } } } }],
  };
}

describe('the script setting', () => {
  const base = { DATABASE_URL: 'postgresql://postgres@127.0.0.1:5432/x', MESHFLOW_AUTH_SECRET: 'x'.repeat(32), MESHFLOW_SECRET_KEY: randomBytes(32).toString('base64') };

  it('is off by default for the studio and the worker, and a value other than enabled/disabled stops them at start', () => {
    expect(parseEnv(studioEnvSchema, base, 'studio').MESHFLOW_SCRIPTS).toBe('disabled');
    const worker = loadWorkerConfig({ DATABASE_URL: base.DATABASE_URL });
    expect(worker.ok && worker.config.MESHFLOW_SCRIPTS).toBe('disabled');
    expect(() => parseEnv(studioEnvSchema, { ...base, MESHFLOW_SCRIPTS: 'yes' }, 'studio')).toThrow(/MESHFLOW_SCRIPTS: must be enabled or disabled/);
    expect(loadWorkerConfig({ DATABASE_URL: base.DATABASE_URL, MESHFLOW_SCRIPTS: 'on' })).toEqual({ ok: false, problems: ['MESHFLOW_SCRIPTS: must be enabled or disabled'] });
  });
});

describe('run: script cannot reach the host', () => {
  let dir: string;
  let writeDir: string;
  let secretFile: string;
  let net: Awaited<ReturnType<typeof listener>>;
  const saved = { canary: process.env.MESHFLOW_TEST_CANARY, scripts: process.env.MESHFLOW_SCRIPTS };

  beforeAll(async () => {
    process.env.MESHFLOW_TEST_CANARY = CANARY;
    delete process.env.MESHFLOW_SCRIPTS;
    dir = mkdtempSync(join(tmpdir(), 'meshflow-security-'));
    chmodSync(dir, 0o755);
    // World-readable, so only the sandbox (not file modes) keeps the script from it.
    secretFile = join(dir, 'secret.txt');
    writeFileSync(secretFile, CANARY, { mode: 0o644 });
    chmodSync(secretFile, 0o644);
    writeDir = join(dir, 'writable');
    mkdirSync(writeDir);
    chmodSync(writeDir, 0o777);
    net = await listener();
  });

  afterAll(async () => {
    if (saved.canary === undefined) delete process.env.MESHFLOW_TEST_CANARY;
    else process.env.MESHFLOW_TEST_CANARY = saved.canary;
    if (saved.scripts === undefined) delete process.env.MESHFLOW_SCRIPTS;
    else process.env.MESHFLOW_SCRIPTS = saved.scripts;
    await new Promise((resolve) => net.server.close(resolve));
    rmSync(dir, { recursive: true, force: true });
  });

  const nothingLeaked = (output: unknown) => {
    expect(output).toEqual({});
    expect(JSON.stringify(output)).not.toContain(CANARY);
    expect(existsSync(join(writeDir, 'pwned'))).toBe(false);
    expect(net.connections()).toBe(0);
  };

  describe('in a studio test run (tRPC, as an editor)', () => {
    let db: PrismaClient;
    let caller: ReturnType<typeof createCaller>;
    const event = { specversion: '1.0', id: 'e-1', source: '/security', type: 'com.example.security', data: {} };
    const graphOf = (code: string) => decompile(scriptWorkflow('escape', code)).graph;

    beforeAll(() => {
      db = createDb(inject('databaseUrl'));
      caller = createCaller({ db, user: { id: 'u', name: 'e', email: 'e@example.com', role: 'editor' }, workerUrl: 'http://127.0.0.1:1', secretKey: randomBytes(32) });
    });
    afterAll(() => db.$disconnect());

    it('refuses scripts unless an administrator enabled them, saying how', async () => {
      const result = await caller.designer.testRun({ graph: graphOf(attack(secretFile, writeDir, net.port)), event });
      expect(result).toMatchObject({ ok: true, status: 'faulted' });
      if (!result.ok) return;
      expect(JSON.stringify(result.error)).toContain('MESHFLOW_SCRIPTS=enabled');
      expect(net.connections()).toBe(0);
    });

    it('when enabled, the constructor escape and every other way out reach nothing', async () => {
      process.env.MESHFLOW_SCRIPTS = 'enabled';
      try {
        // The sandbox works: a plain script runs and returns its value.
        const plain = await caller.designer.testRun({ graph: graphOf('return { sum: 1 + 2 }'), event });
        expect(plain).toMatchObject({ ok: true, status: 'completed', output: { sum: 3 } });
        const result = await caller.designer.testRun({ graph: graphOf(attack(secretFile, writeDir, net.port)), event });
        expect(result).toMatchObject({ ok: true, status: 'completed' });
        if (!result.ok) return;
        nothingLeaked(result.output);
      } finally {
        delete process.env.MESHFLOW_SCRIPTS;
      }
    });
  });

  describe('through meshflow run', () => {
    async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
      let stdout = '';
      let stderr = '';
      const code = await main(['run', ...args], { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t) });
      return { code, stdout, stderr };
    }

    it('refuses scripts without --allow-scripts, saying how to enable them', async () => {
      const file = join(dir, 'off.yaml');
      writeFileSync(file, stringify(scriptWorkflow('off', 'return 1')));
      const result = await cli([file]);
      expect(result.code).toBe(1);
      expect(result.stderr).toContain('--allow-scripts');
    });

    it('with --allow-scripts, the escape reaches nothing', async () => {
      const file = join(dir, 'escape.yaml');
      writeFileSync(file, stringify(scriptWorkflow('escape', attack(secretFile, writeDir, net.port))));
      const result = await cli([file, '--allow-scripts']);
      expect(result.stderr).toBe('');
      expect(result.code).toBe(0);
      nothingLeaked(JSON.parse(result.stdout));
    });
  });

  describe("in the worker's script port", () => {
    let pool: pg.Pool;
    beforeAll(() => {
      pool = new pg.Pool({ connectionString: inject('databaseUrl') });
    });
    afterAll(async () => {
      await undeployAll(pool);
      await pool.end();
    });

    async function runInWorker(env: Record<string, string>, code: string) {
      const type = `com.example.security.${randomUUID().slice(0, 8)}`;
      await undeployAll(pool);
      await deploy(pool, scriptWorkflow(`w-${type.slice(-8)}`, code, type));
      const worker = await startWorker(inject('databaseUrl'), { MESHFLOW_TEST_CANARY: CANARY, ...env });
      try {
        const id = randomUUID();
        await waitFor(async () => ((await post(worker.base, '/events', structured({ id, source: '/security', type, data: {} }))).status === 202 ? true : undefined), 20_000, 'the event accepted');
        return await waitFor(
          async () => {
            const { rows } = await pool.query<{ status: string; output: unknown; error: unknown }>(
              `SELECT r.status, r.output, r.error FROM run r JOIN event e ON e.seq = r."eventSeq" WHERE e.id = $1`,
              [id],
            );
            const run = rows[0];
            return run && (run.status === 'completed' || run.status === 'faulted') ? run : undefined;
          },
          40_000,
          `the run of ${type} ended: ${worker.running.output()}`,
        );
      } finally {
        await worker.running.stop();
      }
    }

    it('refuses scripts by default, saying how to enable them', async () => {
      const run = await runInWorker({}, 'return 1');
      expect(run.status).toBe('faulted');
      expect(JSON.stringify(run.error)).toContain('MESHFLOW_SCRIPTS=enabled');
    });

    it('with MESHFLOW_SCRIPTS=enabled, the escape reaches nothing', async () => {
      const run = await runInWorker({ MESHFLOW_SCRIPTS: 'enabled' }, attack(secretFile, writeDir, net.port));
      expect(run).toMatchObject({ status: 'completed' });
      nothingLeaked(run.output);
    });
  });

  describe('the script process itself, as if the sandbox inside it had been escaped', () => {
    /** Runs `code` in the script process's own realm (with its flags, environment, user and network lock). */
    function inScriptProcess(code: string): Promise<Record<string, unknown>> {
      return new Promise((resolve, reject) => {
        const child = spawn(process.execPath, scriptProcessArgs(64, `${LOCKDOWN_SOURCE};(async () => { ${code} })().then((r) => process.stdout.write(JSON.stringify(r)));`), {
          ...scriptProcessOptions(),
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        let out = '';
        let err = '';
        child.stdout.on('data', (d) => (out += d));
        child.stderr.on('data', (d) => (err += d));
        child.on('error', reject);
        child.on('close', () => {
          try {
            resolve(JSON.parse(out) as Record<string, unknown>);
          } catch {
            reject(new Error(`no report from the script process: ${out} ${err}`));
          }
        });
      });
    }

    it('has no environment, cannot read or write files, start processes or threads, or open sockets', async () => {
      const report = await inScriptProcess(`
        const r = {};
        const attempt = async (name, f) => { try { await f(); r[name] = 'ALLOWED'; } catch (e) { r[name] = 'denied'; } };
        r.env = JSON.stringify(process.env);
        r.uid = process.getuid();
        await attempt('read', () => require('fs').readFileSync(${JSON.stringify(secretFile)}, 'utf8'));
        await attempt('write', () => require('fs').writeFileSync(${JSON.stringify(join(writeDir, 'pwned'))}, 'x'));
        await attempt('spawn', () => require('child_process').execFileSync('/bin/true'));
        await attempt('worker', () => new (require('worker_threads').Worker)('1', { eval: true }));
        await attempt('binding', () => process.binding('tcp_wrap'));
        await attempt('connect', () => require('net').connect(${net.port}, '127.0.0.1'));
        await attempt('socket', () => new (require('net').Socket)().connect(${net.port}, '127.0.0.1'));
        await attempt('http', () => require('http').get('http://127.0.0.1:${net.port}/'));
        await attempt('fetch', () => fetch('http://127.0.0.1:${net.port}/'));
        await attempt('listen', () => require('net').createServer().listen(0));
        await attempt('udp', () => require('dgram').createSocket('udp4'));
        await attempt('codegen', () => Function('return 1')());
        return r;
      `);
      // A host running as root starts scripts as the unprivileged nobody user.
      expect(report.uid).toBe(process.getuid?.() === 0 ? 65_534 : process.getuid?.());
      delete report.uid;
      expect(report).toEqual({
        env: '{}',
        read: 'denied',
        write: 'denied',
        spawn: 'denied',
        worker: 'denied',
        binding: 'denied',
        connect: 'denied',
        socket: 'denied',
        http: 'denied',
        fetch: 'denied',
        listen: 'denied',
        udp: 'denied',
        codegen: 'denied',
      });
      expect(existsSync(join(writeDir, 'pwned'))).toBe(false);
      expect(net.connections()).toBe(0);
    });
  });

  describe('limits', () => {
    const runner = new ProcessScriptRunner({ timeoutMs: 1_000, memoryMb: 64 });
    const run = (code: string) => runner.run({ language: 'javascript', code, arguments: {}, environment: {}, timeoutMs: 60_000 }, new AbortController().signal);

    it('kills an endless loop at its time limit', async () => {
      const result = await run('while (true) {}');
      expect(result).toMatchObject({ code: 124, stderr: 'script exceeded its time limit of 1000 ms' });
    });

    it('kills an endless chain of promises at its time limit', async () => {
      const result = await run('for (;;) await null;');
      expect(result).toMatchObject({ code: 124, stderr: 'script exceeded its time limit of 1000 ms' });
    });

    it('kills a script that takes memory without bound, in the heap or in buffers', async () => {
      expect(await run('const a = []; for (;;) a.push(new Array(1e6).fill(1));')).toMatchObject({ code: 137, stderr: 'script exceeded its memory limit of 64 MB' });
      const buffers = new ProcessScriptRunner({ timeoutMs: 60_000, memoryMb: 64 });
      const result = await buffers.run(
        { language: 'javascript', code: 'const b = []; for (let i = 0; i < 200; i++) b.push(new Uint8Array(64e6).fill(1)); return b.length', arguments: {}, environment: {}, timeoutMs: 60_000 },
        new AbortController().signal,
      );
      expect(result).toMatchObject({ code: 137, stderr: 'script exceeded its memory limit of 64 MB' });
    });
  });
});
