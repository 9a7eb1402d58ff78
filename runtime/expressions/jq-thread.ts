/**
 * jq evaluations with a time and memory budget. jq-wasm is synchronous WebAssembly: run in
 * the calling thread, one slow expression (`[range(1e9)] | length`, `def f: f; f`) would
 * hold the whole process for as long as it runs. Here jq runs in a worker thread instead:
 *
 * - `JqPool.call` is the form the engine, the worker's pipeline and the studio's request
 *   handlers use: the event loop stays free while jq runs, so other requests, events and
 *   deliveries go on. At the budget the thread is terminated (and a fresh one started) and the
 *   call fails with a clear error; nothing keeps running behind the caller's back.
 * - `JqThread.callSync` is the synchronous form (compile checks, one-shot command-line use):
 *   it posts the call and blocks on an `Atomics.wait` for at most the time budget.
 *
 * Memory: jq's WebAssembly heap is capped by rewriting the module's declared maximum, the
 * thread's JavaScript heap by resourceLimits, and the output it may return by a byte limit.
 */
import type * as Fs from 'node:fs';
import type * as NodeModule from 'node:module';
import type * as Path from 'node:path';
import type * as Threads from 'node:worker_threads';

/**
 * Node's modules, fetched when first needed rather than imported: the studio's browser
 * bundle reaches this file through the engine's validator (which never runs jq there), and
 * a static `node:` import would break that bundle.
 */
function node(): { fs: typeof Fs; module: typeof NodeModule; path: typeof Path; threads: typeof Threads } {
  const get = (process as unknown as { getBuiltinModule: (id: string) => unknown }).getBuiltinModule;
  return { fs: get('node:fs') as typeof Fs, module: get('node:module') as typeof NodeModule, path: get('node:path') as typeof Path, threads: get('node:worker_threads') as typeof Threads };
}

export interface JqLimits {
  timeoutMs: number;
  memoryMb: number;
}

export interface JqRawResult {
  stdout: string;
  stderr: string;
  exitCode: number;
}

export interface JqCall {
  input: unknown;
  program: string;
  flags: string[];
}

/** A call stopped at its budget; the caller turns it into its own error type. */
export class JqLimitError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'JqLimitError';
  }
}

/** Output of one call the thread sends back; more than this is refused. */
const MAX_OUTPUT_CHARS = 32 * 1024 * 1024;
/** How long a fresh thread may take to load jq before calls fail. */
const START_TIMEOUT_MS = 30_000;

const THREAD_SOURCE = `
const { workerData } = require('node:worker_threads');
const { loadJq } = require(workerData.jqPath);
const flag = new Int32Array(workerData.flag);
const port = workerData.port;
loadJq({ wasmModule: workerData.module }).then((jq) => {
  port.on('message', (request) => {
    let reply;
    try {
      const result = jq.raw(request.input, request.program, request.flags);
      reply = result.stdout.length > workerData.maxOutput
        ? { id: request.id, limit: 'output' }
        : { id: request.id, result: { stdout: result.stdout, stderr: result.stderr, exitCode: result.exitCode } };
    } catch (error) {
      // jq aborts when its heap cannot grow: the instance is spent, the parent starts another.
      reply = { id: request.id, crashed: true, error: String((error && error.message) || error) };
    }
    port.postMessage(reply);
    Atomics.store(flag, 0, request.id);
    Atomics.notify(flag, 0);
  });
  Atomics.store(flag, 1, 1);
  Atomics.notify(flag, 1);
}, (error) => {
  port.postMessage({ id: 0, startError: String((error && error.message) || error) });
  Atomics.store(flag, 1, -1);
  Atomics.notify(flag, 1);
});
`;

function readLeb(bytes: Uint8Array, at: number): [number, number] {
  let result = 0;
  let shift = 0;
  let byte: number;
  do {
    byte = bytes[at++]!;
    result += (byte & 0x7f) * 2 ** shift;
    shift += 7;
  } while (byte & 0x80);
  return [result, at];
}

function leb(value: number): number[] {
  const out: number[] = [];
  do {
    let byte = value & 0x7f;
    value = Math.floor(value / 128);
    if (value !== 0) byte |= 0x80;
    out.push(byte);
  } while (value !== 0);
  return out;
}

/** The module with its memory's declared maximum set to `maxPages` (64 KiB each), so jq's heap cannot grow past it. */
export function capWasmMemory(binary: Uint8Array, maxPages: number): Uint8Array {
  let at = 8;
  while (at < binary.length) {
    const id = binary[at]!;
    const [size, payload] = readLeb(binary, at + 1);
    if (id === 5) {
      const [count, afterCount] = readLeb(binary, payload);
      const flags = binary[afterCount]!;
      if (count !== 1 || flags > 1) return binary;
      const [min] = readLeb(binary, afterCount + 1);
      const section = [1, 1, ...leb(min), ...leb(Math.max(min, maxPages))];
      const replaced = new Uint8Array([5, ...leb(section.length), ...section]);
      const out = new Uint8Array(at + replaced.length + (binary.length - (payload + size)));
      out.set(binary.subarray(0, at), 0);
      out.set(replaced, at);
      out.set(binary.subarray(payload + size), at + replaced.length);
      return out;
    }
    at = payload + size;
  }
  return binary;
}

type WaitResult = { async: false; value: 'not-equal' | 'timed-out' | 'ok' } | { async: true; value: Promise<'ok' | 'timed-out'> };
/** `Atomics.waitAsync` (Node 16+), typed here since the project's TypeScript lib predates it. */
const waitAsync = (array: Int32Array, index: number, value: number, timeoutMs: number): WaitResult =>
  (Atomics as unknown as { waitAsync: (a: Int32Array, i: number, v: number, t: number) => WaitResult }).waitAsync(array, index, value, timeoutMs);

/** Awaits a `waitAsync` result while holding the event loop open (a pending waitAsync alone does not). */
async function settled(waited: WaitResult, timeoutMs: number): Promise<string> {
  if (!waited.async) return waited.value;
  const keep = setTimeout(() => undefined, timeoutMs + 1000);
  try {
    return await waited.value;
  } finally {
    clearTimeout(keep);
  }
}

let located: { jqPath: string; wasmPath: string } | undefined;

function locateJq(): { jqPath: string; wasmPath: string } {
  if (located) return located;
  const { fs, module, path } = node();
  const { readFileSync } = fs;
  const { createRequire } = module;
  const { dirname, join } = path;
  const bases = [import.meta.url, join(process.cwd(), 'package.json')];
  for (const base of bases) {
    try {
      const jqPath = createRequire(base).resolve('jq-wasm');
      const wasmPath = join(dirname(jqPath), 'build', 'jq.wasm');
      readFileSync(wasmPath, { flag: 'r' }).subarray(0, 4);
      located = { jqPath, wasmPath };
      return located;
    } catch {
      // try the next base
    }
  }
  throw new Error('cannot find the jq-wasm package (is it installed?)');
}

const modules = new Map<number, WebAssembly.Module>();

/** jq's compiled WebAssembly with its heap capped; compiled once per memory budget, shared by every thread. */
function jqModule(memoryMb: number): WebAssembly.Module {
  let compiled = modules.get(memoryMb);
  if (!compiled) {
    const binary = capWasmMemory(new Uint8Array(node().fs.readFileSync(locateJq().wasmPath)), Math.min(65_536, memoryMb * 16));
    compiled = new WebAssembly.Module(binary as Uint8Array<ArrayBuffer>);
    modules.set(memoryMb, compiled);
  }
  return compiled;
}

interface Reply {
  id: number;
  result?: JqRawResult;
  limit?: 'output';
  crashed?: boolean;
  error?: string;
  startError?: string;
}

/** One worker thread holding one jq instance. */
export class JqThread {
  private readonly worker: Threads.Worker;
  private readonly port: Threads.MessagePort;
  private readonly flag = new Int32Array(new SharedArrayBuffer(8));
  private seq = 0;
  /** Set once the thread is no longer usable (terminated, crashed, failed to start). */
  dead = false;

  constructor(private readonly limits: JqLimits) {
    const { MessageChannel, Worker } = node().threads;
    const { port1, port2 } = new MessageChannel();
    this.port = port1;
    this.worker = new Worker(THREAD_SOURCE, {
      eval: true,
      workerData: { jqPath: locateJq().jqPath, module: jqModule(limits.memoryMb), flag: this.flag.buffer, port: port2, maxOutput: MAX_OUTPUT_CHARS },
      transferList: [port2],
      resourceLimits: { maxOldGenerationSizeMb: Math.max(64, limits.memoryMb), maxYoungGenerationSizeMb: 32 },
      env: {},
      stdout: true,
      stderr: true,
    });
    this.worker.unref();
    this.port.unref();
    this.worker.on('error', () => (this.dead = true));
    this.worker.on('exit', () => (this.dead = true));
  }

  /** Resolves once jq is loaded in the thread. */
  async ready(): Promise<void> {
    while (Atomics.load(this.flag, 1) === 0) {
      if ((await settled(waitAsync(this.flag, 1, 0, START_TIMEOUT_MS), START_TIMEOUT_MS)) === 'timed-out') throw new JqLimitError('jq did not start in time');
    }
    this.checkStarted();
  }

  private checkStarted(): void {
    if (Atomics.load(this.flag, 1) === -1) {
      this.dead = true;
      const message = node().threads.receiveMessageOnPort(this.port)?.message as Reply | undefined;
      throw new Error(`jq could not start: ${message?.startError ?? 'unknown error'}`);
    }
  }

  private nextId(): number {
    this.seq = this.seq >= 2 ** 30 ? 1 : this.seq + 1;
    return this.seq;
  }

  private settle(reply: Reply | undefined): JqRawResult {
    if (!reply) {
      this.stop();
      throw new JqLimitError('jq stopped without an answer');
    }
    if (reply.limit === 'output') throw new JqLimitError(`jq expression output exceeded ${MAX_OUTPUT_CHARS / 1024 / 1024} MB`);
    if (reply.crashed) {
      this.stop();
      throw new JqLimitError(`jq expression exceeded its ${this.limits.memoryMb} MB memory budget`);
    }
    return reply.result!;
  }

  private timedOut(): JqLimitError {
    this.stop();
    return new JqLimitError(`jq expression exceeded its ${this.limits.timeoutMs} ms budget`);
  }

  /** One jq call, blocking this thread for at most the time budget. */
  callSync(call: JqCall): JqRawResult {
    if (Atomics.load(this.flag, 1) === 0) Atomics.wait(this.flag, 1, 0, START_TIMEOUT_MS);
    if (Atomics.load(this.flag, 1) === 0) throw new JqLimitError('jq did not start in time');
    this.checkStarted();
    const id = this.nextId();
    Atomics.store(this.flag, 0, 0);
    this.port.postMessage({ id, ...call });
    const deadline = Date.now() + this.limits.timeoutMs;
    while (Atomics.load(this.flag, 0) !== id) {
      const left = deadline - Date.now();
      if (left <= 0) throw this.timedOut();
      Atomics.wait(this.flag, 0, 0, left);
    }
    return this.settle(node().threads.receiveMessageOnPort(this.port)?.message as Reply | undefined);
  }

  /** One jq call without blocking: the event loop keeps serving while it runs. */
  async call(call: JqCall): Promise<JqRawResult> {
    await this.ready();
    const id = this.nextId();
    Atomics.store(this.flag, 0, 0);
    this.port.postMessage({ id, ...call });
    await settled(waitAsync(this.flag, 0, 0, this.limits.timeoutMs), this.limits.timeoutMs);
    if (Atomics.load(this.flag, 0) !== id) throw this.timedOut();
    return this.settle(node().threads.receiveMessageOnPort(this.port)?.message as Reply | undefined);
  }

  stop(): void {
    this.dead = true;
    void this.worker.terminate();
  }
}

/** The synchronous, bounded jq of this thread: one jq thread, replaced whenever one is stopped. */
export class SyncJq {
  private thread: JqThread;

  constructor(private readonly limits: JqLimits) {
    this.thread = new JqThread(limits);
  }

  ready(): Promise<void> {
    return this.thread.ready();
  }

  raw(call: JqCall): JqRawResult {
    if (this.thread.dead) this.thread = new JqThread(this.limits);
    try {
      return this.thread.callSync(call);
    } finally {
      // Warm the replacement up while the caller goes on.
      if (this.thread.dead) this.thread = new JqThread(this.limits);
    }
  }
}

/** A few jq threads for asynchronous callers; calls beyond them wait their turn. */
export class JqPool {
  private readonly idle: JqThread[] = [];
  private busy = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(
    private readonly limits: JqLimits,
    private readonly size = 2,
  ) {}

  async call(call: JqCall): Promise<JqRawResult> {
    while (this.busy >= this.size) await new Promise<void>((resolve) => this.waiting.push(resolve));
    this.busy++;
    let thread = this.idle.pop();
    while (thread?.dead) thread = this.idle.pop();
    thread ??= new JqThread(this.limits);
    try {
      return await thread.call(call);
    } finally {
      // A thread stopped at its budget is replaced at once, so the next request finds a warm
      // thread instead of paying jq's start-up behind a slow neighbour.
      this.idle.push(thread.dead ? new JqThread(this.limits) : thread);
      this.busy--;
      this.waiting.shift()?.();
    }
  }
}
