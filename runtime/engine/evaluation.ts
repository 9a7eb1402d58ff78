/**
 * Runtime expressions (`${ … }`) over task data: jq through jq-wasm, with the fast JavaScript
 * path for simple expressions and one batched jq call per template. A failing expression
 * becomes the DSL's expression error, naming the task, the field and the expression.
 *
 * What the fast path answers comes back at once; what needs jq comes back as a Promise, since
 * jq runs in a pool thread (JqRuntime.runAsync) and the event loop must not wait for it. So
 * every method here gives `T | Promise<T>` (`Maybe<T>`): callers on a synchronous path check
 * `instanceof Promise` and go asynchronous only then, others simply `await`.
 */
import { compileFast, FAST_PATH_MISS, type FastExpression } from '../expressions/jq-fast.ts';
import { JqBudgetError, JqEvaluationError, type JqRuntime, type JqValue } from '../expressions/jq.ts';
import { WorkflowError } from './errors.ts';
import type { Json } from './types.ts';

export type Vars = (name: string) => Json | undefined;
/** A value now, or later when jq had to run. */
export type Maybe<T> = T | Promise<T>;
export type EvaluationMode = 'strict' | 'loose';

/** Where an expression sits, for error messages. */
export interface Site {
  task: string;
  ref: string;
  field: string;
}

const ENCLOSED = /^\s*\$\{([\s\S]*)\}\s*$/;

/** The expression inside `${ … }`, or undefined when the string is not one. */
export function enclosedExpression(value: string): string | undefined {
  const m = ENCLOSED.exec(value);
  return m ? m[1]!.trim() : undefined;
}

/** In a field that only takes an expression, `${ … }` is optional. */
export function bareExpression(value: string): string {
  return enclosedExpression(value) ?? value.trim();
}

type TemplateNode =
  | { kind: 'static'; value: Json }
  | { kind: 'expr'; slot: number }
  | { kind: 'object'; entries: [string, TemplateNode][] }
  | { kind: 'array'; items: TemplateNode[] };

interface CompiledTemplate {
  root: TemplateNode;
  expressions: string[];
}

function outputsToValue(outputs: JqValue[]): Json {
  // An expression yielding several values gives them all, as an array; none gives null.
  if (outputs.length === 1) return outputs[0]!;
  return outputs.length === 0 ? null : outputs;
}

/** One evaluator per jq runtime and mode, so compiled expressions and templates outlive a single run. */
const truthy = (value: Json): boolean => value !== null && value !== false;

const shared = new WeakMap<JqRuntime, Map<EvaluationMode, Evaluator>>();

export class Evaluator {
  private readonly fast = new Map<string, FastExpression | null>();
  /** Each source string read once: its bare expression and fast form. */
  private readonly sources = new Map<string, { expression: string; fast: FastExpression | null }>();
  private readonly templates = new WeakMap<object, CompiledTemplate>();
  /** Loose mode: whether a bare `.path`/`$var` string is a jq expression. */
  private readonly looseChecks = new Map<string, boolean>();

  static shared(jq: JqRuntime, mode: EvaluationMode): Evaluator {
    let byMode = shared.get(jq);
    if (!byMode) shared.set(jq, (byMode = new Map()));
    let evaluator = byMode.get(mode);
    if (!evaluator) byMode.set(mode, (evaluator = new Evaluator(jq, mode)));
    return evaluator;
  }

  constructor(
    private readonly jq: JqRuntime,
    readonly mode: EvaluationMode,
  ) {}

  /** A template string that is an expression in this mode (loose mode also takes bare `.path`/`$var` strings). */
  private templateExpression(value: string): string | undefined {
    const enclosed = enclosedExpression(value);
    if (enclosed !== undefined || this.mode === 'strict') return enclosed;
    const trimmed = value.trim();
    if (!/^[.$]/.test(trimmed)) return undefined;
    // Compiling (not running) in jq: each string is checked once, and the fast path's own parse settles most.
    let valid = this.looseChecks.get(trimmed);
    if (valid === undefined) {
      if (this.looseChecks.size >= 50_000) this.looseChecks.clear();
      valid = this.fastFor(trimmed) !== null || this.jq.syntaxError(trimmed) === undefined;
      this.looseChecks.set(trimmed, valid);
    }
    return valid ? trimmed : undefined;
  }

  private fastFor(expression: string): FastExpression | null {
    let compiled = this.fast.get(expression);
    if (compiled === undefined) {
      // Expressions come from definitions, so few are distinct; the bound only guards a long-lived worker.
      if (this.fast.size >= 50_000) this.fast.clear();
      compiled = compileFast(expression) ?? null;
      this.fast.set(expression, compiled);
    }
    return compiled;
  }

  private failure(error: unknown, expression: string, site: Site): WorkflowError {
    const message = error instanceof JqEvaluationError || error instanceof Error ? error.message : String(error);
    return WorkflowError.of('expression', `task "${site.task}", ${site.field}: expression \`${expression}\` failed: ${message}`, site.ref, 'Expression error');
  }

  /** Evaluates one expression (the string of an expression-only field, with or without `${}`). */
  evaluate(source: string, input: Json, vars: Vars, site: Site): Maybe<Json> {
    let read = this.sources.get(source);
    if (!read) {
      if (this.sources.size >= 50_000) this.sources.clear();
      const bare = bareExpression(source);
      read = { expression: bare, fast: this.fastFor(bare) };
      this.sources.set(source, read);
    }
    const { expression, fast } = read;
    if (fast) {
      try {
        return fast(input, vars);
      } catch (error) {
        if (error !== FAST_PATH_MISS) throw this.failure(error, expression, site);
      }
    }
    return this.viaJq(expression, input, vars, site);
  }

  private async viaJq(expression: string, input: Json, vars: Vars, site: Site): Promise<Json> {
    try {
      return outputsToValue(await this.jq.runAsync(expression, input, vars));
    } catch (error) {
      throw this.failure(error, expression, site);
    }
  }

  /** jq truthiness: everything but `false` and `null`. */
  test(source: string, input: Json, vars: Vars, site: Site): Maybe<boolean> {
    const value = this.evaluate(source, input, vars, site);
    return value instanceof Promise ? value.then(truthy) : truthy(value);
  }

  /** A value of an expression-only field: strings are expressions, other values are literals. */
  valueOf(source: unknown, input: Json, vars: Vars, site: Site): Maybe<Json> {
    return typeof source === 'string' ? this.evaluate(source, input, vars, site) : this.template(source as Json, input, vars, site);
  }

  /** Whether a template holds no expression at all (so it can be used as it is). */
  isStatic(value: Json): boolean {
    return this.compile(value).expressions.length === 0;
  }

  /** Evaluates every `${ … }` string inside a value; the rest is copied as it is. */
  template(value: Json, input: Json, vars: Vars, site: Site): Maybe<Json> {
    if (typeof value === 'string') {
      const expression = this.templateExpression(value);
      return expression === undefined ? value : this.evaluate(expression, input, vars, site);
    }
    if (value === null || typeof value !== 'object') return value;
    const compiled = this.compile(value);
    if (compiled.expressions.length === 0) return value;
    const results = this.evaluateAll(compiled.expressions, input, vars, site);
    return results instanceof Promise ? results.then((r) => build(compiled.root, r)) : build(compiled.root, results);
  }

  private evaluateAll(expressions: string[], input: Json, vars: Vars, site: Site): Maybe<Json[]> {
    const results: Json[] = new Array<Json>(expressions.length);
    const pending: number[] = [];
    expressions.forEach((expression, i) => {
      const fast = this.fastFor(expression);
      if (fast) {
        try {
          results[i] = fast(input, vars);
          return;
        } catch (error) {
          if (error !== FAST_PATH_MISS) throw this.failure(error, expression, site);
        }
      }
      pending.push(i);
    });
    if (pending.length === 0) return results;
    return this.evaluatePending(expressions, pending, results, input, vars, site);
  }

  /** The expressions the fast path could not answer, in one jq call. */
  private async evaluatePending(expressions: string[], pending: number[], results: Json[], input: Json, vars: Vars, site: Site): Promise<Json[]> {
    if (pending.length === 1) {
      const i = pending[0]!;
      results[i] = await this.viaJq(expressions[i]!, input, vars, site);
      return results;
    }
    let outputs: JqValue[][];
    try {
      outputs = await this.jq.runManyAsync(
        pending.map((i) => expressions[i]!),
        input,
        vars,
      );
    } catch (error) {
      // A budget spent by the batch is spent: running each again would only take longer.
      if (error instanceof JqBudgetError) throw this.failure(error, pending.map((i) => expressions[i]!).join(' ; '), site);
      // Re-run one by one so the error names the expression that failed.
      for (const i of pending) results[i] = await this.viaJq(expressions[i]!, input, vars, site);
      return results;
    }
    pending.forEach((i, k) => {
      results[i] = outputsToValue(outputs[k] ?? []);
    });
    return results;
  }

  private compile(value: Json): CompiledTemplate {
    if (value === null || typeof value !== 'object') return { root: { kind: 'static', value }, expressions: [] };
    const cached = this.templates.get(value);
    if (cached) return cached;
    const expressions: string[] = [];
    const walk = (node: Json): TemplateNode => {
      if (typeof node === 'string') {
        const expression = this.templateExpression(node);
        if (expression === undefined) return { kind: 'static', value: node };
        expressions.push(expression);
        return { kind: 'expr', slot: expressions.length - 1 };
      }
      if (Array.isArray(node)) {
        const items = node.map(walk);
        return items.every((i) => i.kind === 'static') ? { kind: 'static', value: node } : { kind: 'array', items };
      }
      if (node !== null && typeof node === 'object') {
        const entries = Object.entries(node).map(([k, v]): [string, TemplateNode] => [k, walk(v)]);
        return entries.every(([, n]) => n.kind === 'static') ? { kind: 'static', value: node } : { kind: 'object', entries };
      }
      return { kind: 'static', value: node };
    };
    const compiled = { root: walk(value), expressions };
    this.templates.set(value, compiled);
    return compiled;
  }
}

function build(node: TemplateNode, results: Json[]): Json {
  switch (node.kind) {
    case 'static':
      return node.value;
    case 'expr':
      return results[node.slot]!;
    case 'array':
      return node.items.map((item) => build(item, results));
    case 'object': {
      const out: Record<string, Json> = {};
      for (const [k, v] of node.entries) out[k] = build(v, results);
      return out;
    }
  }
}
