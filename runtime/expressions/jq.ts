/**
 * jq, the DSL's default expression language, with real jq semantics from jq-wasm (jq 1.8
 * compiled to WebAssembly). Each call costs about a millisecond, so callers batch several
 * expressions over one input into one call, and plain paths, literals and comparisons skip
 * jq altogether through the JavaScript compiler in jq-fast.ts.
 *
 * Every call runs in a worker thread with a time and memory budget (jq-thread.ts;
 * MESHFLOW_EXPRESSION_TIMEOUT_MS, MESHFLOW_EXPRESSION_MEMORY_MB): at the budget it ends with
 * "jq expression exceeded its 1000 ms budget". `runAsync`/`runManyAsync` (and `runJqAsync`)
 * are the non-blocking forms: a small pool of jq threads answers them while the event loop
 * goes on, which is what the engine, the pipeline and request handlers use. The synchronous
 * `run`/`runMany` block the calling thread for up to the budget; they remain for one-shot
 * command-line use and tests.
 */
import { sandboxSettings } from '../engine/host/sandbox-settings.ts';
import { JqLimitError, JqPool, SyncJq, type JqCall, type JqLimits, type JqRawResult } from './jq-thread.ts';

export type JqValue = null | boolean | number | string | JqValue[] | { [key: string]: JqValue };

export class JqEvaluationError extends Error {
  constructor(
    message: string,
    readonly expression: string,
  ) {
    super(message);
    this.name = 'JqEvaluationError';
  }
}

export interface JqRuntime {
  /** Every output of `expression` run on `input`; variables are bound only when referenced. */
  run(expression: string, input: JqValue, vars: (name: string) => JqValue | undefined): JqValue[];
  /** The outputs of several expressions over one input, in one jq call. */
  runMany(expressions: string[], input: JqValue, vars: (name: string) => JqValue | undefined): JqValue[][];
  /** `run` without blocking this thread: jq answers from a pool thread while the event loop goes on. */
  runAsync(expression: string, input: JqValue, vars: (name: string) => JqValue | undefined): Promise<JqValue[]>;
  /** `runMany` without blocking this thread. */
  runManyAsync(expressions: string[], input: JqValue, vars: (name: string) => JqValue | undefined): Promise<JqValue[][]>;
  /** The jq compile error of `expression`, if any; every variable it names counts as defined. */
  syntaxError(expression: string): string | undefined;
}

/** An evaluation stopped at its time or memory budget (MESHFLOW_EXPRESSION_TIMEOUT_MS / _MEMORY_MB). */
export class JqBudgetError extends JqEvaluationError {
  constructor(message: string, expression: string) {
    super(message, expression);
    this.name = 'JqBudgetError';
  }
}

const VARIABLE = /\$([A-Za-z_][A-Za-z0-9_]*)/g;

/** Names of the `$variables` an expression mentions (jq's own `$__loc__` excluded). */
export function referencedVariables(expression: string): string[] {
  const names = new Set<string>();
  for (const match of expression.matchAll(VARIABLE)) {
    const name = match[1]!;
    if (name !== '__loc__') names.add(name);
  }
  return [...names];
}

function cleanMessage(stderr: string): string {
  return stderr
    .replace(/^jq: error \(at [^)]*\): /gm, '')
    .replace(/^jq: /gm, '')
    .trim();
}

/** The budgets every jq call runs with, from the environment (read once). */
export function jqLimits(): JqLimits {
  const settings = sandboxSettings(process.env);
  return { timeoutMs: settings.MESHFLOW_EXPRESSION_TIMEOUT_MS, memoryMb: settings.MESHFLOW_EXPRESSION_MEMORY_MB };
}

let loading: Promise<JqRuntime> | undefined;

/** The process-wide jq runtime; its thread loads jq once, on first use. */
export function loadJqRuntime(): Promise<JqRuntime> {
  loading ??= (async () => {
    const jq = new SyncJq(jqLimits());
    await jq.ready();
    return createRuntime(
      (call) => jq.raw(call),
      (call) => sharedPool().call(call),
    );
  })();
  return loading;
}

/**
 * A runtime whose jq calls together may take at most `totalMs`: past it, every call fails at
 * once. Each call already has its own budget; this bounds how long one run (a studio test
 * run, which shares the studio's thread) can keep jq busy through many slow calls.
 */
export function withTotalBudget(jq: JqRuntime, totalMs: number, what = 'this run'): JqRuntime {
  let spent = 0;
  const timed = <T>(expression: string, call: () => T): T => {
    if (spent >= totalMs) throw new JqBudgetError(`jq expressions of ${what} exceeded their total budget of ${totalMs} ms`, expression);
    const started = Date.now();
    try {
      return call();
    } finally {
      spent += Date.now() - started;
    }
  };
  const timedAsync = async <T>(expression: string, call: () => Promise<T>): Promise<T> => {
    if (spent >= totalMs) throw new JqBudgetError(`jq expressions of ${what} exceeded their total budget of ${totalMs} ms`, expression);
    const started = Date.now();
    try {
      return await call();
    } finally {
      spent += Date.now() - started;
    }
  };
  return {
    run: (expression, input, vars) => timed(expression, () => jq.run(expression, input, vars)),
    runMany: (expressions, input, vars) => timed(expressions.join(' ; '), () => jq.runMany(expressions, input, vars)),
    runAsync: (expression, input, vars) => timedAsync(expression, () => jq.runAsync(expression, input, vars)),
    runManyAsync: (expressions, input, vars) => timedAsync(expressions.join(' ; '), () => jq.runManyAsync(expressions, input, vars)),
    syntaxError: (expression) => jq.syntaxError(expression),
  };
}

let pool: JqPool | undefined;

/** The process-wide pool of jq threads behind every asynchronous jq call. */
function sharedPool(): JqPool {
  pool ??= new JqPool(jqLimits(), poolSize());
  return pool;
}

/** Threads start only when calls need them; a few let one slow expression leave room for the rest. */
function poolSize(): number {
  const cores = (process as unknown as { getBuiltinModule: (id: string) => typeof import('node:os') }).getBuiltinModule('node:os').availableParallelism();
  return Math.max(2, Math.min(4, cores));
}

/**
 * Every output of one jq expression on one input, without blocking the event loop: for
 * request handlers (filter tester, inspector previews), so one slow expression never holds
 * up other requests. Throws JqEvaluationError, also at the budget.
 */
export async function runJqAsync(expression: string, input: JqValue): Promise<JqValue[]> {
  let result: JqRawResult;
  try {
    result = await sharedPool().call({ input: [input, {}], program: wrap(`(${expression}\n)`, []), flags: ['-c'] });
  } catch (error) {
    if (error instanceof JqLimitError) throw new JqBudgetError(error.message, expression);
    throw error;
  }
  return outputsOf(result, expression);
}

// Variables travel inside the input (`[data, {vars}]`) and are destructured by the program,
// which is cheaper than one `--argjson` per variable and keeps `.` the data itself.
function wrap(body: string, names: string[]): string {
  if (names.length === 0) return `.[0] | ${body}`;
  return `. as [$__data, {${names.map((n) => `$${n}`).join(', ')}}] | $__data | ${body}`;
}

function outputsOf(result: JqRawResult, expression: string): JqValue[] {
  if (result.exitCode !== 0) throw new JqEvaluationError(cleanMessage(result.stderr) || `jq exited with ${result.exitCode}`, expression);
  const outputs: JqValue[] = [];
  for (const line of result.stdout.split('\n')) {
    if (line !== '') outputs.push(JSON.parse(line) as JqValue);
  }
  return outputs;
}

function createRuntime(raw: (call: JqCall) => JqRawResult, rawAsync: (call: JqCall) => Promise<JqRawResult>): JqRuntime {
  function limited(call: JqCall, expression: string): JqRawResult {
    try {
      return raw(call);
    } catch (error) {
      if (error instanceof JqLimitError) throw new JqBudgetError(error.message, expression);
      throw error;
    }
  }

  async function limitedAsync(call: JqCall, expression: string): Promise<JqRawResult> {
    try {
      return await rawAsync(call);
    } catch (error) {
      if (error instanceof JqLimitError) throw new JqBudgetError(error.message, expression);
      throw error;
    }
  }

  function bound(expressions: string[], vars: (name: string) => JqValue | undefined): { names: string[]; values: Record<string, JqValue> } {
    const values: Record<string, JqValue> = {};
    const names: string[] = [];
    for (const expression of expressions) {
      for (const name of referencedVariables(expression)) {
        if (name in values) continue;
        const value = vars(name);
        if (value === undefined) continue;
        values[name] = value;
        names.push(name);
      }
    }
    return { names, values };
  }

  function call(program: string, input: JqValue, expression: string): JqValue[] {
    return outputsOf(limited({ input, program, flags: ['-c'] }, expression), expression);
  }

  async function callAsync(program: string, input: JqValue, expression: string): Promise<JqValue[]> {
    return outputsOf(await limitedAsync({ input, program, flags: ['-c'] }, expression), expression);
  }

  function single(expression: string, input: JqValue, vars: (name: string) => JqValue | undefined): [string, JqValue] {
    const { names, values } = bound([expression], vars);
    return [wrap(`(${expression}\n)`, names), [input, values]];
  }

  function many(expressions: string[], input: JqValue, vars: (name: string) => JqValue | undefined): [string, JqValue] {
    const { names, values } = bound(expressions, vars);
    const body = expressions.map((e) => `[(${e}\n)]`).join(', ');
    return [wrap(`(${body})`, names), [input, values]];
  }

  return {
    run(expression, input, vars) {
      return call(...single(expression, input, vars), expression);
    },
    runMany(expressions, input, vars) {
      return call(...many(expressions, input, vars), expressions.join(' ; ')) as JqValue[][];
    },
    runAsync(expression, input, vars) {
      return callAsync(...single(expression, input, vars), expression);
    },
    async runManyAsync(expressions, input, vars) {
      return (await callAsync(...many(expressions, input, vars), expressions.join(' ; '))) as JqValue[][];
    },
    syntaxError(expression) {
      const names = referencedVariables(expression);
      const binds = names.map((n) => `null as $${n} | `).join('');
      // `limit(0; …)` compiles the expression without running it.
      let result: JqRawResult;
      try {
        result = limited({ input: null, program: `${binds}[limit(0; (${expression}\n))]`, flags: ['-c'] }, expression);
      } catch (error) {
        if (error instanceof JqEvaluationError) return error.message;
        throw error;
      }
      if (result.exitCode !== 3) return undefined;
      // An expression cut short shows up as our own closing parenthesis on the line after it.
      const closing = `unexpected ')' at <top-level>, line ${expression.split('\n').length + 1}`;
      const message = cleanMessage(result.stderr).split('\n')[0]!;
      return message.includes(closing) ? 'syntax error: the expression ends too early' : message.replace(/^error: /, '');
    },
  };
}
