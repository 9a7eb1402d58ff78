/**
 * `run: script` JavaScript in a separate, locked-down process — never in the studio's or
 * the worker's own process. Each run starts `node` with:
 *
 * - Node's permission model and nothing allowed: no file reads or writes, no child
 *   processes, no worker threads, no native addons, no `process.binding`;
 * - an empty environment, `/` as working directory, and (when the host runs as root) the
 *   unprivileged `nobody` user;
 * - a heap limit (`--max-old-space-size`) and a resident-memory watch that kills it;
 * - no network: every socket, listener and datagram API is replaced before the script runs;
 * - code generation from strings off, in its own realm as well as the script's.
 *
 * Inside it the script runs in a fresh `node:vm` context that holds no object of the host
 * realm: arguments travel as JSON text parsed inside the context, console output is
 * collected inside it and read back as one JSON string, so `x.constructor('return process')`
 * reaches only the context's own Function, which cannot compile strings. The process is
 * killed at the time limit and when the task is cancelled.
 */
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import type { ProcessResult, ScriptPort, ScriptRequest } from '../ports.ts';
import type { Json } from '../types.ts';

export interface ScriptLimits {
  /** Upper bound on a script's run time; the task's own timeout can only shorten it. */
  timeoutMs: number;
  /** Heap limit of the script's process, and the resident size at which it is killed. */
  memoryMb: number;
}

const DEFAULT_LIMITS: ScriptLimits = { timeoutMs: 30_000, memoryMb: 128 };
/** Result and console output the parent accepts from one script. */
const MAX_OUTPUT_BYTES = 8 * 1024 * 1024;
/** Time the process gets to start and report beyond the script's own limit. */
const START_GRACE_MS = 5_000;
/** Unprivileged user and group the script runs as when the host is root. */
const NOBODY = 65_534;

/**
 * Runs first in every script process, before any script code exists there: network off.
 * (The permission model covers files, processes, workers and addons; on Node 20 it does not
 * cover sockets.) Exported for the tests that attack the process itself.
 */
export const LOCKDOWN_SOURCE = String.raw`
'use strict';
// Network off, before any script code exists in this process.
(() => {
  const denied = () => { throw new Error('network access is disabled for scripts'); };
  const lock = (target, key) => { try { Object.defineProperty(target, key, { value: denied, writable: false, configurable: false }); } catch {} };
  const net = require('node:net'), dgram = require('node:dgram'), tls = require('node:tls'), http = require('node:http'), https = require('node:https'), inspector = require('node:inspector');
  lock(net.Socket.prototype, 'connect'); lock(net.Server.prototype, 'listen'); lock(net, 'connect'); lock(net, 'createConnection'); lock(net, 'createServer');
  lock(tls, 'connect'); lock(tls, 'createServer'); lock(http, 'request'); lock(http, 'get'); lock(http, 'createServer'); lock(https, 'request'); lock(https, 'get'); lock(https, 'createServer');
  lock(dgram, 'createSocket'); lock(dgram.Socket.prototype, 'bind'); lock(dgram.Socket.prototype, 'send'); lock(dgram.Socket.prototype, 'connect');
  lock(inspector, 'open');
  for (const name of ['fetch', 'WebSocket', 'EventSource']) lock(globalThis, name);
})();
`;

/**
 * Runs in the child, given `{ code, names, args, environment, timeoutMs }` as JSON on stdin;
 * writes one JSON report to stdout. Plain JavaScript: the child loads no file at all.
 */
const CHILD_SOURCE = String.raw`
'use strict';
const vm = require('node:vm');
const chunks = [];
process.stdin.on('data', (c) => chunks.push(c));
process.stdin.on('end', () => {
  const job = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  const context = vm.createContext(Object.create(null), { codeGeneration: { strings: false, wasm: false }, microtaskMode: 'afterEvaluate' });
  const text = (value) => JSON.stringify(JSON.stringify(value));
  // Everything below is compiled inside the context: its objects are the context's own.
  const source = [
    '(() => { "use strict";',
    'const out = [], err = [];',
    'const show = (v) => { if (typeof v === "string") return v; try { return JSON.stringify(v); } catch { return String(v); } };',
    'const line = (to) => (...a) => { to.push(a.map(show).join(" ")); };',
    'globalThis.console = { log: line(out), info: line(out), debug: line(out), error: line(err), warn: line(err) };',
    'globalThis.env = JSON.parse(' + text(job.environment) + ');',
    'const args = JSON.parse(' + text(job.args) + ');',
    'const state = { done: false };',
    'globalThis.__meshflowReport = () => JSON.stringify({ done: state.done, result: state.result, error: state.error, stdout: out.join("\\n"), stderr: err.join("\\n") });',
    'const fn = (async function (' + job.names.join(', ') + ') {\n' + job.code + '\n});',
    'fn(' + job.names.map((n) => 'args[' + JSON.stringify(n) + ']').join(', ') + ').then(',
    '  (v) => { state.result = v === undefined ? undefined : JSON.stringify(v); state.done = "ok"; },',
    '  (e) => { state.error = String((e && e.stack) || e).split("\\n").filter((l) => !/node:vm|\\[eval\\]|node:internal/.test(l)).join("\\n"); state.done = "error"; });',
    '})();',
  ].join('\n');
  const failed = (e) => JSON.stringify({ done: e && e.code === 'ERR_SCRIPT_EXECUTION_TIMEOUT' ? 'timeout' : 'error', error: String((e && e.message) || e) });
  const read = () => {
    const report = vm.runInContext('__meshflowReport()', context, { timeout: 1000 });
    if (typeof report !== 'string') throw new Error('the script replaced its report');
    return report;
  };
  const send = (report) => process.stdout.write(report, () => process.exit(0));
  // import() rejects with an error of the context's own realm, so no host object reaches the script.
  const importModuleDynamically = () => { throw vm.runInContext('new Error("import() is not available in scripts")', context); };
  let report;
  try {
    vm.runInContext(source, context, { timeout: job.timeoutMs, filename: 'script.js', importModuleDynamically });
    report = read();
  } catch (e) {
    return send(failed(e));
  }
  // A rejected import() settles on a later turn: give the context's microtasks a few more turns.
  let turns = 0;
  const settle = () => {
    try {
      if (turns > 0) { vm.runInContext('undefined', context, { timeout: job.timeoutMs }); report = read(); }
    } catch (e) {
      return send(failed(e));
    }
    if (JSON.parse(report).done === false && turns++ < 3) return setImmediate(settle);
    send(report);
  };
  settle();
});
`;

/** The permission flag this Node knows (`--permission` from Node 22, experimental before). */
function permissionFlag(): string {
  return process.allowedNodeEnvironmentFlags.has('--permission') ? '--permission' : '--experimental-permission';
}

/** Node's arguments for a script process running `source` (after LOCKDOWN_SOURCE, for scripts). */
export function scriptProcessArgs(memoryMb: number, source: string): string[] {
  return [permissionFlag(), '--experimental-vm-modules', '--disallow-code-generation-from-strings', `--max-old-space-size=${memoryMb}`, '--no-warnings', '-e', source];
}

/** Empty environment, `/` as working directory, and `nobody` when the host runs as root. */
export function scriptProcessOptions(): { env: NodeJS.ProcessEnv; cwd: string; uid?: number; gid?: number } {
  const root = process.getuid?.() === 0;
  return { env: {} as NodeJS.ProcessEnv, cwd: '/', ...(root ? { uid: NOBODY, gid: NOBODY } : {}) };
}

async function residentMb(pid: number): Promise<number | undefined> {
  try {
    const pages = Number((await readFile(`/proc/${pid}/statm`, 'utf8')).split(' ')[1]);
    return (pages * 4096) / (1024 * 1024);
  } catch {
    return undefined;
  }
}

interface Report {
  done: false | 'ok' | 'error' | 'timeout';
  result?: string;
  error?: string;
  stdout?: string;
  stderr?: string;
}

export class ProcessScriptRunner implements ScriptPort {
  private readonly limits: ScriptLimits;

  constructor(limits: Partial<ScriptLimits> = {}) {
    this.limits = { ...DEFAULT_LIMITS, ...limits };
  }

  run(request: ScriptRequest, signal: AbortSignal): Promise<ProcessResult> {
    const timeoutMs = Math.max(1, Math.min(request.timeoutMs, this.limits.timeoutMs));
    const memoryMb = this.limits.memoryMb;
    if (signal.aborted) return Promise.reject(signal.reason instanceof Error ? signal.reason : new Error('script cancelled'));
    return new Promise<ProcessResult>((resolve, reject) => {
      const child = spawn(
        process.execPath,
        scriptProcessArgs(memoryMb, LOCKDOWN_SOURCE + CHILD_SOURCE),
        { ...scriptProcessOptions(), stdio: ['pipe', 'pipe', 'pipe'] as const },
      );
      const stdout: Buffer[] = [];
      const stderr: Buffer[] = [];
      let outBytes = 0;
      let settled = false;
      let killedFor: { code: number; reason: string } | undefined;
      const kill = (code: number, reason: string) => {
        killedFor ??= { code, reason };
        child.kill('SIGKILL');
      };
      const finish = (result: ProcessResult | Error) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        clearInterval(watch);
        signal.removeEventListener('abort', abort);
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
        if (result instanceof Error) reject(result);
        else resolve(result);
      };
      const timer = setTimeout(() => kill(124, `script exceeded its time limit of ${timeoutMs} ms`), timeoutMs + START_GRACE_MS);
      const watch = setInterval(() => {
        if (child.pid === undefined) return;
        void residentMb(child.pid).then((mb) => {
          // The heap limit covers JavaScript objects; this covers buffers outside the heap.
          if (mb !== undefined && mb > memoryMb * 2 + 64) kill(137, `script exceeded its memory limit of ${memoryMb} MB`);
        });
      }, 50);
      const abort = () => finish(signal.reason instanceof Error ? signal.reason : new Error('script cancelled'));
      signal.addEventListener('abort', abort, { once: true });
      child.stdout.on('data', (chunk: Buffer) => {
        outBytes += chunk.length;
        if (outBytes > MAX_OUTPUT_BYTES) kill(1, `script output exceeded ${MAX_OUTPUT_BYTES / 1024 / 1024} MB`);
        else stdout.push(chunk);
      });
      child.stderr.on('data', (chunk: Buffer) => {
        if (stderr.reduce((n, b) => n + b.length, 0) < 64 * 1024) stderr.push(chunk);
      });
      child.on('error', (error) => finish(new Error(`cannot start the script process: ${error.message}`)));
      child.on('close', (code, sig) => {
        if (killedFor) return finish({ code: killedFor.code, stdout: '', stderr: killedFor.reason });
        const errText = Buffer.concat(stderr).toString('utf8');
        if (/heap out of memory|Reached heap limit|Allocation failed/i.test(errText) || sig === 'SIGABRT' || sig === 'SIGTRAP') {
          return finish({ code: 137, stdout: '', stderr: `script exceeded its memory limit of ${memoryMb} MB` });
        }
        let report: Report;
        try {
          report = JSON.parse(Buffer.concat(stdout).toString('utf8')) as Report;
        } catch {
          return finish({ code: code || 1, stdout: '', stderr: `the script process ended without a result (exit ${code ?? sig})${errText ? `: ${errText.slice(0, 500)}` : ''}` });
        }
        const out = report.stdout ?? '';
        const err = report.stderr ?? '';
        if (report.done === 'ok') {
          return finish({ code: 0, stdout: out, stderr: err, ...(report.result === undefined ? {} : { result: JSON.parse(report.result) as Json }) });
        }
        if (report.done === 'timeout') return finish({ code: 124, stdout: out, stderr: `script exceeded its time limit of ${timeoutMs} ms` });
        if (report.done === false) return finish({ code: 1, stdout: out, stderr: 'the script awaited something that never settles (scripts have no timers, I/O or network)' });
        return finish({ code: 1, stdout: out, stderr: [err, report.error ?? 'the script failed'].filter(Boolean).join('\n') });
      });
      const names = Object.keys(request.arguments).filter((n) => /^[A-Za-z_$][\w$]*$/.test(n));
      const job = { code: request.code, names, args: request.arguments, environment: request.environment, timeoutMs };
      child.stdin.on('error', () => undefined);
      child.stdin.end(JSON.stringify(job));
    });
  }
}
