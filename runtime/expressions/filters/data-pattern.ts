/**
 * Event patterns in the EventBridge / EventMesh style, compiled to one closure tree.
 *
 * A pattern mirrors the event's JSON shape: top-level keys are context attributes and
 * `data`, nested objects descend into `data`, and each leaf is an array of conditions of
 * which at least one must hold — exact values (string, number, boolean, null), `prefix`,
 * `suffix`, `equals-ignore-case`, `wildcard`, `numeric` ranges, `exists` and
 * `anything-but`. `$or` at any level takes alternative sub-patterns. As in EventBridge,
 * when the event holds an array, a condition holds if it holds for any element, and only
 * `exists: false` matches a field that is absent.
 */
import { describeJson, isPlainObject, pointer, type DefinitionIssue } from './issues.ts';
import { matchWildcard, normalizeTokens, type WildcardToken } from '../wildcard.ts';

export type PatternScalar = string | number | boolean | null;

export type PatternCondition =
  | PatternScalar
  | { prefix: string }
  | { suffix: string }
  | { 'equals-ignore-case': string }
  | { wildcard: string }
  | { numeric: (string | number)[] }
  | { exists: boolean }
  | { 'anything-but': AnythingBut };

export type AnythingBut =
  | string
  | number
  | (string | number)[]
  | { prefix: string }
  | { suffix: string }
  | { 'equals-ignore-case': string | string[] }
  | { wildcard: string | string[] };

export interface DataPattern {
  [field: string]: DataPattern | PatternCondition[] | DataPattern[] | undefined;
  $or?: DataPattern[];
}

type Matcher = (value: unknown) => boolean;
/** `present` is false when the field is absent; `value` is then undefined. */
type FieldTest = (present: boolean, value: unknown) => boolean;
export type PatternTest = (node: unknown) => boolean;

const NUMERIC_OPERATORS = new Set(['<', '<=', '=', '>', '>=']);

/** `*` any run of characters, `\\*` and `\\\\` literal; matched without a backtracking regular expression. */
function wildcardMatcher(pattern: string): (value: string) => boolean | undefined {
  const tokens: WildcardToken[] = [];
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern.charAt(i);
    if (c === '\\' && (pattern.charAt(i + 1) === '*' || pattern.charAt(i + 1) === '\\')) {
      tokens.push({ kind: 'char', char: pattern.charAt(++i) });
    } else if (c === '*') {
      tokens.push({ kind: 'any' });
    } else {
      // Code points, as the matcher reads the value.
      const point = String.fromCodePoint(pattern.codePointAt(i)!);
      tokens.push({ kind: 'char', char: point });
      i += point.length - 1;
    }
  }
  const normalized = normalizeTokens(tokens);
  // Undefined past the step budget: counted as no match (and, in anything-but, as excluded).
  return (value) => matchWildcard(normalized, value);
}

/**
 * `equals-ignore-case` folds ASCII letters only: the same rule jq's `ascii_downcase` applies
 * where a compiled flow runs the pattern (filters/jq.ts), so both ways agree on every string.
 */
function asciiLower(text: string): string {
  return text.replace(/[A-Z]+/g, (run) => run.toLowerCase());
}

class PatternCompiler {
  constructor(private readonly issues: DefinitionIssue[]) {}

  private issue(path: string, message: string): undefined {
    this.issues.push({ path, message });
    return undefined;
  }

  private string(value: unknown, path: string, what: string): string | undefined {
    if (typeof value === 'string') return value;
    return this.issue(path, `${what} must be a string, got ${describeJson(value)}`);
  }

  private strings(value: unknown, path: string, what: string): string[] | undefined {
    if (typeof value === 'string') return [value];
    if (Array.isArray(value) && value.length > 0 && value.every((v) => typeof v === 'string')) return value as string[];
    return this.issue(path, `${what} must be a string or a non-empty array of strings, got ${describeJson(value)}`);
  }

  compileObject(pattern: unknown, path: string): PatternTest | undefined {
    if (!isPlainObject(pattern)) return this.issue(path, `a pattern must be an object, got ${describeJson(pattern)}`);
    const entries = Object.entries(pattern);
    if (entries.length === 0) return this.issue(path, 'a pattern needs at least one field');
    const fields: [string, FieldTest][] = [];
    let alternatives: PatternTest[] | undefined;
    for (const [key, value] of entries) {
      const at = pointer(path, key);
      if (key === '$or') {
        if (!Array.isArray(value) || value.length < 2) {
          this.issue(at, '$or must be an array of at least two alternative patterns');
          continue;
        }
        const compiled = value.map((alternative, i) => this.compileObject(alternative, pointer(at, i)));
        if (compiled.every((c): c is PatternTest => c !== undefined)) alternatives = compiled;
        continue;
      }
      const test = this.compileField(value, at);
      if (test) fields.push([key, test]);
    }
    return (node) => {
      if (!isPlainObject(node)) return false;
      for (const [key, test] of fields) {
        const value = node[key];
        if (!test(value !== undefined, value)) return false;
      }
      return alternatives === undefined || alternatives.some((alternative) => alternative(node));
    };
  }

  private compileField(value: unknown, path: string): FieldTest | undefined {
    if (Array.isArray(value)) return this.compileConditions(value, path);
    if (isPlainObject(value)) {
      const nested = this.compileObject(value, path);
      if (!nested) return undefined;
      return (present, v) => present && (Array.isArray(v) ? v.some(nested) : nested(v));
    }
    return this.issue(path, `a pattern field must be an array of conditions or a nested pattern object, got ${describeJson(value)}`);
  }

  private compileConditions(conditions: unknown[], path: string): FieldTest | undefined {
    if (conditions.length === 0) return this.issue(path, 'a condition list must not be empty');
    const exact = new Set<PatternScalar>();
    const matchers: Matcher[] = [];
    let exists: boolean | undefined;
    conditions.forEach((condition, i) => {
      const at = pointer(path, i);
      if (condition === null || typeof condition !== 'object') {
        if (typeof condition === 'number' && !Number.isFinite(condition)) this.issue(at, 'numbers must be finite');
        exact.add(condition as PatternScalar);
        return;
      }
      if (Array.isArray(condition)) {
        this.issue(at, 'a condition must be a value or an object such as {"prefix": "…"}, not an array');
        return;
      }
      const keys = Object.keys(condition);
      if (keys.length !== 1) {
        this.issue(at, `a condition object must have exactly one operator, got ${keys.length === 0 ? 'none' : keys.join(', ')}`);
        return;
      }
      const operator = keys[0] as string;
      const operand = (condition as Record<string, unknown>)[operator];
      if (operator === 'exists') {
        if (typeof operand !== 'boolean') this.issue(pointer(at, operator), `exists must be true or false, got ${describeJson(operand)}`);
        else exists = operand;
        return;
      }
      const matcher = this.compileOperator(operator, operand, pointer(at, operator));
      if (matcher) matchers.push(matcher);
    });
    const scalar: Matcher = (v) => exact.has(v as PatternScalar) || matchers.some((m) => m(v));
    const matchValue: Matcher = (v) => (Array.isArray(v) ? v.some(scalar) : scalar(v));
    const hasValueConditions = exact.size > 0 || matchers.length > 0;
    return (present, value) => {
      if (!present) return exists === false;
      if (exists === true) return true;
      return hasValueConditions && matchValue(value);
    };
  }

  private compileOperator(operator: string, operand: unknown, path: string): Matcher | undefined {
    switch (operator) {
      case 'prefix': {
        const text = this.string(operand, path, 'prefix');
        return text === undefined ? undefined : (v) => typeof v === 'string' && v.startsWith(text);
      }
      case 'suffix': {
        const text = this.string(operand, path, 'suffix');
        return text === undefined ? undefined : (v) => typeof v === 'string' && v.endsWith(text);
      }
      case 'equals-ignore-case': {
        const text = this.string(operand, path, 'equals-ignore-case');
        if (text === undefined) return undefined;
        const lower = asciiLower(text);
        return (v) => typeof v === 'string' && asciiLower(v) === lower;
      }
      case 'wildcard': {
        const text = this.string(operand, path, 'wildcard');
        if (text === undefined) return undefined;
        const matches = wildcardMatcher(text);
        return (v) => typeof v === 'string' && matches(v) === true;
      }
      case 'numeric':
        return this.compileNumeric(operand, path);
      case 'anything-but':
        return this.compileAnythingBut(operand, path);
      default:
        return this.issue(
          path,
          `unknown operator "${operator}"; expected prefix, suffix, equals-ignore-case, wildcard, numeric, exists or anything-but`,
        );
    }
  }

  private compileNumeric(operand: unknown, path: string): Matcher | undefined {
    const shape = 'numeric takes [operator, number] or [lower operator, number, upper operator, number], e.g. [">", 0, "<=", 5]';
    if (!Array.isArray(operand) || (operand.length !== 2 && operand.length !== 4)) return this.issue(path, shape);
    const tests: Matcher[] = [];
    for (let i = 0; i < operand.length; i += 2) {
      const op = operand[i];
      const bound = operand[i + 1];
      if (typeof op !== 'string' || !NUMERIC_OPERATORS.has(op)) {
        return this.issue(pointer(path, i), `unknown numeric operator ${describeJson(op)}; expected <, <=, =, > or >=`);
      }
      if (typeof bound !== 'number' || !Number.isFinite(bound)) return this.issue(pointer(path, i + 1), `expected a number, got ${describeJson(bound)}`);
      tests.push(
        op === '<' ? (v) => (v as number) < bound
        : op === '<=' ? (v) => (v as number) <= bound
        : op === '=' ? (v) => v === bound
        : op === '>' ? (v) => (v as number) > bound
        : (v) => (v as number) >= bound,
      );
    }
    if (operand.length === 4) {
      const [lowerOp, lower, upperOp, upper] = operand as [string, number, string, number];
      if (!lowerOp.startsWith('>') || !upperOp.startsWith('<')) return this.issue(path, `a range needs a lower bound (> or >=) then an upper bound (< or <=); ${shape}`);
      if (lower > upper) return this.issue(path, `the lower bound ${lower} is above the upper bound ${upper}`);
    }
    const [first, second] = tests as [Matcher, Matcher | undefined];
    return second ? (v) => typeof v === 'number' && first(v) && second(v) : (v) => typeof v === 'number' && first(v);
  }

  private compileAnythingBut(operand: unknown, path: string): Matcher | undefined {
    if (typeof operand === 'string' || typeof operand === 'number') return (v) => v !== operand;
    if (Array.isArray(operand)) {
      if (operand.length === 0 || !operand.every((v) => typeof v === 'string' || typeof v === 'number')) {
        return this.issue(path, 'anything-but takes a value, a non-empty array of strings or numbers, or an object such as {"prefix": "…"}');
      }
      const excluded = new Set<unknown>(operand);
      return (v) => !excluded.has(v);
    }
    if (isPlainObject(operand)) {
      const keys = Object.keys(operand);
      const operator = keys[0];
      if (keys.length !== 1 || operator === undefined) return this.issue(path, 'anything-but takes an object with exactly one operator');
      const at = pointer(path, operator);
      const value = operand[operator];
      switch (operator) {
        case 'prefix':
        case 'suffix': {
          const text = this.string(value, at, operator);
          if (text === undefined) return undefined;
          return operator === 'prefix'
            ? (v) => typeof v === 'string' && !v.startsWith(text)
            : (v) => typeof v === 'string' && !v.endsWith(text);
        }
        case 'equals-ignore-case': {
          const texts = this.strings(value, at, operator);
          if (texts === undefined) return undefined;
          const lower = new Set(texts.map(asciiLower));
          return (v) => typeof v === 'string' && !lower.has(asciiLower(v));
        }
        case 'wildcard': {
          const texts = this.strings(value, at, operator);
          if (texts === undefined) return undefined;
          const matchers = texts.map(wildcardMatcher);
          return (v) => typeof v === 'string' && !matchers.some((m) => m(v) !== false);
        }
        default:
          return this.issue(at, `anything-but does not take "${operator}"; expected prefix, suffix, equals-ignore-case or wildcard`);
      }
    }
    return this.issue(path, `anything-but takes a value, an array or an object, got ${describeJson(operand)}`);
  }
}

/**
 * Compiles a pattern to a test over the whole event (attributes and `data`). Problems are
 * appended to `issues` (all of them, not just the first); the result is undefined then.
 */
export function compileDataPattern(pattern: unknown, path: string, issues: DefinitionIssue[]): PatternTest | undefined {
  const before = issues.length;
  const test = new PatternCompiler(issues).compileObject(pattern, path);
  return issues.length === before ? test : undefined;
}
