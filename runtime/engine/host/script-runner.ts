/**
 * `run: script` JavaScript, isolated: each run gets a fresh worker thread with memory
 * limits, and inside it a `node:vm` context with no `require`, `process` or network; the
 * worker is terminated at the time limit or when the task is cancelled.
 */
import { Worker } from 'node:worker_threads';
import type { ProcessResult, ScriptPort, ScriptRequest } from '../ports.ts';

// Runs inside the worker: the script body becomes an async function whose parameters are the arguments.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const vm = require('node:vm');
const out = [], err = [];
const show = (v) => typeof v === 'string' ? v : JSON.stringify(v);
const sandbox = {
  console: { log: (...a) => out.push(a.map(show).join(' ')), info: (...a) => out.push(a.map(show).join(' ')),
             error: (...a) => err.push(a.map(show).join(' ')), warn: (...a) => err.push(a.map(show).join(' ')) },
  env: workerData.environment,
};
const names = Object.keys(workerData.args).filter((n) => /^[A-Za-z_$][\\w$]*$/.test(n));
const context = vm.createContext(sandbox, { codeGeneration: { strings: false, wasm: false } });
const fn = vm.runInContext('(async function (' + names.join(', ') + ') {\\n' + workerData.code + '\\n})', context, { timeout: workerData.timeoutMs });
Promise.resolve(fn(...names.map((n) => workerData.args[n])))
  .then((result) => parentPort.postMessage({ code: 0, stdout: out.join('\\n'), stderr: err.join('\\n'), result: result === undefined ? undefined : JSON.parse(JSON.stringify(result)) }))
  .catch((e) => parentPort.postMessage({ code: 1, stdout: out.join('\\n'), stderr: err.concat(String(e && e.stack || e)).join('\\n') }));
`;

export class WorkerScriptRunner implements ScriptPort {
  constructor(private readonly limits = { maxOldGenerationSizeMb: 64, maxYoungGenerationSizeMb: 16, stackSizeMb: 4 }) {}

  run(request: ScriptRequest, signal: AbortSignal): Promise<ProcessResult> {
    return new Promise<ProcessResult>((resolve, reject) => {
      const worker = new Worker(WORKER_SOURCE, {
        eval: true,
        workerData: { code: request.code, args: request.arguments, environment: request.environment, timeoutMs: request.timeoutMs },
        resourceLimits: this.limits,
        env: {},
        stdout: true,
        stderr: true,
      });
      let settled = false;
      const finish = (result: ProcessResult | Error) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        signal.removeEventListener('abort', abort);
        void worker.terminate();
        if (result instanceof Error) reject(result);
        else resolve(result);
      };
      const timer = setTimeout(() => finish({ code: 124, stdout: '', stderr: `script exceeded its time limit of ${request.timeoutMs} ms` }), request.timeoutMs);
      const abort = () => finish(signal.reason instanceof Error ? signal.reason : new Error('script cancelled'));
      signal.addEventListener('abort', abort, { once: true });
      worker.on('message', (message: ProcessResult) => finish(message));
      worker.on('error', (error) => finish({ code: 1, stdout: '', stderr: String(error.message) }));
      worker.on('exit', (code) => finish({ code: code === 0 ? 1 : code, stdout: '', stderr: 'the script ended without a result (out of memory?)' }));
    });
  }
}
