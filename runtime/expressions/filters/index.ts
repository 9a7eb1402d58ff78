/**
 * Event filters, compiled once at deploy time into `(event) => boolean`.
 *
 * The definition is the CloudEvents Subscriptions API filter form — `exact`, `prefix`,
 * `suffix`, `all`, `any`, `not` and `sql` (CESQL v1) — plus two Meshflow dialects that
 * nest anywhere the others do: `pattern` (an EventBridge / EventMesh event pattern, see
 * data-pattern.ts) and `jq` (a jq predicate, passing when its first output is neither
 * false nor null). A top-level array means all of its filters, as a subscription's
 * `filters` list does.
 *
 * Every problem in a definition is reported at once, each at a JSON Pointer, e.g.
 * `/all/1/sql: unexpected token ')' at 14`.
 */
import { z } from 'zod';
import { fromAttribute } from '../cesql/casting.ts';
import { CesqlParseError, compileCesql } from '../cesql/index.ts';
import { FAST_PATH_MISS, compileFast } from '../jq-fast.ts';
import { loadJqRuntime, type JqRuntime, type JqValue } from '../jq.ts';
import { compileDataPattern, type DataPattern } from './data-pattern.ts';
import { DefinitionError, describeJson, isPlainObject, pointer, type DefinitionIssue } from './issues.ts';

export type { DataPattern, PatternCondition } from './data-pattern.ts';
export { DefinitionError, formatIssue, type DefinitionIssue } from './issues.ts';

export type SubscriptionFilter =
  | { exact: Record<string, string> }
  | { prefix: Record<string, string> }
  | { suffix: Record<string, string> }
  | { all: SubscriptionFilter[] }
  | { any: SubscriptionFilter[] }
  | { not: SubscriptionFilter }
  | { sql: string }
  | { pattern: DataPattern }
  | { jq: string };

export type FilterDefinition = SubscriptionFilter | SubscriptionFilter[];

/** A CloudEvent as a structured-mode JSON object (or a `cloudevents` CloudEvent). */
export type FilterEvent = Readonly<Record<string, unknown>>;
export type EventPredicate = (event: FilterEvent) => boolean;

const DIALECTS = ['exact', 'prefix', 'suffix', 'all', 'any', 'not', 'sql', 'pattern', 'jq'];
const ATTRIBUTE_NAME = /^[a-z0-9]+$/;

/** Attribute values as strings; booleans and numbers in extensions compare by their CESQL String form. */
function attributeText(event: FilterEvent, name: string): string | undefined {
  // After a transform the value may be anything; only an object has attributes (as in jq, filters/jq.ts).
  const raw = isPlainObject(event) ? event[name] : undefined;
  if (raw === undefined || raw === null) return undefined;
  return typeof raw === 'string' ? raw : String(fromAttribute(raw));
}

type JqMode = { kind: 'validate' } | { kind: 'compile'; runtime: JqRuntime; rethrow?: boolean };

class FilterCompiler {
  readonly issues: DefinitionIssue[] = [];
  /** Valid but probably not what the author meant (e.g. a sql filter that can never pass). */
  readonly warnings: DefinitionIssue[] = [];

  constructor(private readonly jq: JqMode) {}

  private issue(path: string, message: string): undefined {
    this.issues.push({ path, message });
    return undefined;
  }

  compile(definition: unknown, path: string): EventPredicate | undefined {
    if (Array.isArray(definition)) return this.compileList(definition, path, 'all');
    if (!isPlainObject(definition)) {
      return this.issue(path, `a filter must be an object such as {"exact": {"type": "…"}}, got ${describeJson(definition)}`);
    }
    const keys = Object.keys(definition);
    const dialect = keys[0];
    if (keys.length !== 1 || dialect === undefined) {
      return this.issue(path, `a filter must have exactly one dialect (${DIALECTS.join(', ')}), got ${keys.length === 0 ? 'none' : keys.join(', ')}`);
    }
    const value = definition[dialect];
    const at = pointer(path, dialect);
    switch (dialect) {
      case 'exact':
        return this.compileAttributes(value, at, dialect, (actual, expected) => actual === expected);
      case 'prefix':
        return this.compileAttributes(value, at, dialect, (actual, expected) => actual.startsWith(expected));
      case 'suffix':
        return this.compileAttributes(value, at, dialect, (actual, expected) => actual.endsWith(expected));
      case 'all':
      case 'any':
        if (!Array.isArray(value)) return this.issue(at, `${dialect} must be an array of filters, got ${describeJson(value)}`);
        return this.compileList(value, at, dialect);
      case 'not': {
        const inner = this.compile(value, at);
        return inner && ((event) => !inner(event));
      }
      case 'sql':
        return this.compileSql(value, at);
      case 'pattern': {
        const test = compileDataPattern(value, at, this.issues);
        return test && ((event) => test(event));
      }
      case 'jq':
        return this.compileJq(value, at);
      default:
        return this.issue(at, `unknown filter dialect "${dialect}"; expected one of ${DIALECTS.join(', ')}`);
    }
  }

  private compileList(filters: unknown[], path: string, mode: 'all' | 'any'): EventPredicate | undefined {
    if (filters.length === 0) return this.issue(path, `${mode} needs at least one filter`);
    const compiled = filters.map((f, i) => this.compile(f, pointer(path, i)));
    if (!compiled.every((p): p is EventPredicate => p !== undefined)) return undefined;
    if (compiled.length === 1) return compiled[0];
    return mode === 'all' ? (event) => compiled.every((p) => p(event)) : (event) => compiled.some((p) => p(event));
  }

  private compileAttributes(
    value: unknown,
    path: string,
    dialect: string,
    test: (actual: string, expected: string) => boolean,
  ): EventPredicate | undefined {
    if (!isPlainObject(value) || Object.keys(value).length === 0) {
      return this.issue(path, `${dialect} must be an object of attribute names to strings, e.g. {"${dialect}": {"type": "com.example.order"}}`);
    }
    const pairs: [string, string][] = [];
    for (const [name, expected] of Object.entries(value)) {
      const at = pointer(path, name);
      if (!ATTRIBUTE_NAME.test(name)) this.issue(at, `"${name}" is not a CloudEvents attribute name (lower-case letters and digits)`);
      else if (typeof expected !== 'string' || expected === '') this.issue(at, `expected a non-empty string, got ${describeJson(expected)}`);
      else pairs.push([name, expected]);
    }
    if (pairs.length !== Object.keys(value).length) return undefined;
    const [first] = pairs as [[string, string]];
    if (pairs.length === 1) {
      const [name, expected] = first;
      return (event) => {
        const actual = attributeText(event, name);
        return actual !== undefined && test(actual, expected);
      };
    }
    return (event) =>
      pairs.every(([name, expected]) => {
        const actual = attributeText(event, name);
        return actual !== undefined && test(actual, expected);
      });
  }

  private compileSql(value: unknown, path: string): EventPredicate | undefined {
    if (typeof value !== 'string') return this.issue(path, `sql must be a CESQL expression string, got ${describeJson(value)}`);
    let expression;
    try {
      expression = compileCesql(value);
    } catch (error) {
      if (error instanceof CesqlParseError) return this.issue(path, error.message);
      throw error;
    }
    // CESQL §1.2: a filter whose value is not a Boolean lets no event pass. That is a valid
    // subscription (the Subscriptions API rejects only invalid expressions), so a result type
    // known now to be another one is a warning, not a problem.
    if (expression.type === 'Integer' || expression.type === 'String') {
      this.warnings.push({ path, message: `this sql filter yields ${expression.type}, not Boolean, so no event passes it (CESQL §1.2); compare it, e.g. \`… = 1\`` });
    }
    // A call that cannot be dispatched can only ever be an error.
    const [unresolved] = expression.unresolvedCalls;
    if (unresolved) {
      return this.issue(path, `no function ${unresolved.name} taking ${unresolved.arity} argument(s) at ${unresolved.position}`);
    }
    return (event) => expression.matches(event);
  }

  private compileJq(value: unknown, path: string): EventPredicate | undefined {
    if (typeof value !== 'string' || value.trim() === '') return this.issue(path, `jq must be a jq expression string, got ${describeJson(value)}`);
    if (this.jq.kind === 'validate') return () => false;
    const runtime = this.jq.runtime;
    const syntaxError = runtime.syntaxError(value);
    if (syntaxError) return this.issue(path, syntaxError);
    const noVariables = () => undefined;
    const fast = compileFast(value);
    const slow = (event: FilterEvent) => runtime.run(value, event as JqValue, noVariables)[0];
    const first = fast
      ? (event: FilterEvent) => {
          try {
            return fast(event as JqValue, noVariables);
          } catch (error) {
            if (error === FAST_PATH_MISS) return slow(event);
            throw error;
          }
        }
      : slow;
    if (this.jq.rethrow) {
      // The engine's meaning of a jq `when`: an error fails the run, not just the test.
      return (event) => {
        const result = first(event);
        return result !== undefined && result !== null && result !== false;
      };
    }
    return (event) => {
      try {
        const result = first(event);
        return result !== undefined && result !== null && result !== false;
      } catch {
        // A jq runtime error (e.g. indexing a string) fails the filter, as CESQL errors do.
        return false;
      }
    };
  }
}

/** Every `jq` expression in a definition, with its JSON Pointer. */
export function jqExpressions(definition: unknown, path = ''): { path: string; expression: string }[] {
  if (Array.isArray(definition)) return definition.flatMap((d, i) => jqExpressions(d, pointer(path, String(i))));
  if (!isPlainObject(definition)) return [];
  if (typeof definition.jq === 'string') return [{ path: pointer(path, 'jq'), expression: definition.jq }];
  return ['all', 'any', 'not'].flatMap((key) => (key in definition ? jqExpressions(definition[key], pointer(path, key)) : []));
}

function containsJq(definition: unknown): boolean {
  if (Array.isArray(definition)) return definition.some(containsJq);
  if (!isPlainObject(definition)) return false;
  if ('jq' in definition) return true;
  return ['all', 'any', 'not'].some((key) => containsJq(definition[key]));
}

/** Every problem in a filter definition, without compiling jq (its syntax is checked by compileFilter). */
export function validateFilter(definition: unknown): DefinitionIssue[] {
  const compiler = new FilterCompiler({ kind: 'validate' });
  compiler.compile(definition, '');
  return compiler.issues;
}

/** What is valid in a filter definition but cannot behave as meant, for design-time warnings. */
export function filterWarnings(definition: unknown): DefinitionIssue[] {
  const compiler = new FilterCompiler({ kind: 'validate' });
  compiler.compile(definition, '');
  return compiler.warnings;
}

/**
 * Compiles a filter definition into a predicate. Throws DefinitionError listing every
 * problem. Async only because a `jq` filter loads the jq WebAssembly module first. `options.jq`
 * replaces the process-wide jq runtime (the filter tester answers from evaluations it ran
 * without blocking). `options.onError: 'throw'` lets a `jq` filter's runtime error escape the
 * predicate instead of failing the match (a jq `when` in the engine).
 */
export async function compileFilter(definition: unknown, options: { jq?: JqRuntime; onError?: 'drop' | 'throw' } = {}): Promise<EventPredicate> {
  const jq: JqMode = containsJq(definition)
    ? { kind: 'compile', runtime: options.jq ?? (await loadJqRuntime()), rethrow: options.onError === 'throw' }
    : { kind: 'validate' };
  const compiler = new FilterCompiler(jq);
  const predicate = compiler.compile(definition, '');
  if (!predicate || compiler.issues.length > 0) throw new DefinitionError('filter', compiler.issues);
  return predicate;
}

/** A zod schema for filter definitions (tRPC input, node configuration), with the compiler's own messages. */
export const filterDefinitionSchema = z.custom<FilterDefinition>().superRefine((value, ctx) => {
  for (const issue of validateFilter(value)) {
    ctx.addIssue({ code: 'custom', message: issue.message, path: issue.path.split('/').slice(1).map(unescapePointer) });
  }
});

/** A zod schema for a bare event pattern: an object to a form (the node inspector), checked by the pattern compiler. */
export const dataPatternSchema = z
  .record(z.string(), z.unknown())
  .superRefine((value, ctx) => {
    const issues: DefinitionIssue[] = [];
    compileDataPattern(value, '', issues);
    for (const issue of issues) {
      ctx.addIssue({ code: 'custom', message: issue.message, path: issue.path.split('/').slice(1).map(unescapePointer) });
    }
  }) as unknown as z.ZodType<DataPattern, Record<string, unknown>>;

/** The CloudEvents Subscriptions API dialects (no `pattern`, no `jq`): what the attribute filter node offers. */
export type SubscriptionsApiFilter =
  | { exact: Record<string, string> }
  | { prefix: Record<string, string> }
  | { suffix: Record<string, string> }
  | { all: SubscriptionsApiFilter[] }
  | { any: SubscriptionsApiFilter[] }
  | { not: SubscriptionsApiFilter }
  | { sql: string };

const attributes = z.record(z.string().regex(ATTRIBUTE_NAME, 'a CloudEvents attribute name (lowercase letters and digits)'), z.string().min(1));

const subscriptionsApiShape: z.ZodType<SubscriptionsApiFilter> = z.lazy(() =>
  z.union([
    z.strictObject({ exact: attributes }),
    z.strictObject({ prefix: attributes }),
    z.strictObject({ suffix: attributes }),
    z.strictObject({ all: z.array(subscriptionsApiShape).min(1) }),
    z.strictObject({ any: z.array(subscriptionsApiShape).min(1) }),
    z.strictObject({ not: subscriptionsApiShape }),
    z.strictObject({ sql: z.string().min(1) }),
  ]),
);

/**
 * A form-ready zod schema for one Subscriptions API filter: its shape for the inspector form,
 * and the filter compiler's own checks (a `sql` filter must parse) for its messages.
 */
export const subscriptionsApiFilterSchema = subscriptionsApiShape.superRefine((value, ctx) => {
  for (const issue of validateFilter(value)) {
    ctx.addIssue({ code: 'custom', message: issue.message, path: issue.path.split('/').slice(1).map(unescapePointer) });
  }
});

function unescapePointer(segment: string): string {
  return segment.replace(/~1/g, '/').replace(/~0/g, '~');
}
