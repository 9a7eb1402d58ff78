/**
 * Filter dialects compiled to jq, the DSL's expression language, so a compiled flow filters
 * the same way on any DSL 1.0 runtime. The dialect's own JSON travels in task metadata, so
 * the canvas reopens the filter as it was written.
 *
 * A filter sees the task input, which for an event-triggered flow is the CloudEvent in its
 * structured JSON form: attributes at the top level, the payload under `data`.
 */
import { z } from 'zod';
import { compileCesql } from '../expressions/cesql/index.ts';
import { compileDataPattern } from '../expressions/filters/data-pattern.ts';
import type { DefinitionIssue } from '../expressions/filters/issues.ts';

const json = (value: unknown) => JSON.stringify(value);

// ─── CloudEvents Subscriptions API filter dialects ─────────────────────────────────────

const attributes = z.record(z.string().regex(/^[a-z0-9]{1,20}$/, 'a CloudEvents attribute name (lowercase letters and digits)'), z.string());

export type SubscriptionFilter =
  | { exact: Record<string, string> }
  | { prefix: Record<string, string> }
  | { suffix: Record<string, string> }
  | { all: SubscriptionFilter[] }
  | { any: SubscriptionFilter[] }
  | { not: SubscriptionFilter }
  | { sql: string };

export const subscriptionFilterSchema: z.ZodType<SubscriptionFilter> = z.lazy(() =>
  z.union([
    z.strictObject({ exact: attributes }),
    z.strictObject({ prefix: attributes }),
    z.strictObject({ suffix: attributes }),
    z.strictObject({ all: z.array(subscriptionFilterSchema).min(1) }),
    z.strictObject({ any: z.array(subscriptionFilterSchema).min(1) }),
    z.strictObject({ not: subscriptionFilterSchema }),
    z.strictObject({ sql: z.string().min(1) }),
  ]),
);

function attributeTest(attrs: Record<string, string>, test: (path: string, value: string) => string): string {
  const parts = Object.entries(attrs)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([name, value]) => test(`.${name}`, value));
  return parts.length === 0 ? 'true' : parts.join(' and ');
}

export function subscriptionFilterToJq(filter: SubscriptionFilter): string {
  if ('exact' in filter) return `(${attributeTest(filter.exact, (p, v) => `${p} == ${json(v)}`)})`;
  if ('prefix' in filter) return `(${attributeTest(filter.prefix, (p, v) => `(${p} | type == "string" and startswith(${json(v)}))`)})`;
  if ('suffix' in filter) return `(${attributeTest(filter.suffix, (p, v) => `(${p} | type == "string" and endswith(${json(v)}))`)})`;
  if ('all' in filter) return `(${filter.all.map(subscriptionFilterToJq).join(' and ')})`;
  if ('any' in filter) return `(${filter.any.map(subscriptionFilterToJq).join(' or ')})`;
  if ('not' in filter) return `(${subscriptionFilterToJq(filter.not)} | not)`;
  return `(${cesqlCondition(filter.sql)})`;
}

/** CESQL §1.2: a filter expression whose result type is known not to be Boolean lets no event pass. */
export function cesqlWarning(expression: string): string | undefined {
  let type: string | undefined;
  try {
    type = compileCesql(expression).type;
  } catch {
    return undefined;
  }
  return type === 'Integer' || type === 'String' ? `this expression yields ${type}, not Boolean, so no event passes the filter (CESQL §1.2); compare it, e.g. \`… = 1\`` : undefined;
}

/** Warnings for the `sql` filters among Subscriptions API filters, with their path inside `filters`. */
export function subscriptionFilterWarnings(filter: SubscriptionFilter, path: (string | number)[]): { message: string; path: (string | number)[] }[] {
  if ('all' in filter) return filter.all.flatMap((f, i) => subscriptionFilterWarnings(f, [...path, 'all', i]));
  if ('any' in filter) return filter.any.flatMap((f, i) => subscriptionFilterWarnings(f, [...path, 'any', i]));
  if ('not' in filter) return subscriptionFilterWarnings(filter.not, [...path, 'not']);
  if (!('sql' in filter)) return [];
  const message = cesqlWarning(filter.sql);
  return message ? [{ message, path: [...path, 'sql'] }] : [];
}

/**
 * The jq condition of a CESQL filter. CESQL §1.2: an event passes only when the expression
 * yields the Boolean true, so a result whose type is not known to be Boolean is compared
 * with `true` (jq alone would let any value but false and null through).
 */
export function cesqlCondition(expression: string): string {
  const jq = cesqlToJq(expression);
  let type: string | undefined;
  try {
    type = compileCesql(expression).type;
  } catch {
    type = undefined;
  }
  return type === 'Boolean' ? jq : `(${jq} == true)`;
}

// ─── data patterns (EventBridge / EventMesh style) ─────────────────────────────────────
// The same semantics as runtime/expressions/filters/data-pattern.ts, which validates them:
// keys are attributes or `data`, arrays in the event match if any element does, and only
// `exists: false` matches an absent field.

/** Validated by the expressions package's pattern compiler, which reports every problem. */
export const dataPatternSchema = z.record(z.string(), z.unknown()).superRefine((pattern, ctx) => {
  const issues: DefinitionIssue[] = [];
  compileDataPattern(pattern, '', issues);
  for (const issue of issues) {
    const path = issue.path.split('/').slice(1).map((part) => part.replace(/~1/g, '/').replace(/~0/g, '~'));
    ctx.addIssue({ code: 'custom', message: issue.message, path });
  }
});

function wildcardToRegex(pattern: string): string {
  let source = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '\\' && (pattern[i + 1] === '*' || pattern[i + 1] === '\\')) source += `\\${pattern[++i]}`;
    else if (c === '*') source += '[\\s\\S]*';
    else source += c.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');
  }
  return `^${source}$`;
}

const isString = 'type == "string"';
const anyOf = (tests: string[]) => (tests.length === 1 ? tests[0]! : `(${tests.join(' or ')})`);

/** A condition on one scalar value, the value being jq's `.`. */
function conditionToJq(condition: unknown): string {
  if (condition === null || typeof condition !== 'object') return `. == ${json(condition)}`;
  const [operator, operand] = Object.entries(condition)[0]!;
  const text = json(operand);
  switch (operator) {
    case 'prefix':
      return `(${isString} and startswith(${text}))`;
    case 'suffix':
      return `(${isString} and endswith(${text}))`;
    case 'equals-ignore-case':
      return `(${isString} and ascii_downcase == ${json(String(operand).toLowerCase())})`;
    case 'wildcard':
      return `(${isString} and test(${json(wildcardToRegex(String(operand)))}))`;
    case 'numeric': {
      const bounds = operand as (string | number)[];
      const tests: string[] = [];
      for (let i = 0; i + 1 < bounds.length; i += 2) tests.push(`. ${bounds[i] === '=' ? '==' : bounds[i]} ${bounds[i + 1]}`);
      return `(type == "number" and ${tests.join(' and ')})`;
    }
    default:
      return anythingButToJq(operand);
  }
}

function anythingButToJq(operand: unknown): string {
  if (Array.isArray(operand)) return `(${operand.map((v) => `. != ${json(v)}`).join(' and ')})`;
  if (operand === null || typeof operand !== 'object') return `. != ${json(operand)}`;
  const [operator, value] = Object.entries(operand)[0]!;
  const values = (Array.isArray(value) ? value : [value]) as string[];
  switch (operator) {
    case 'prefix':
      return `(${isString} and (startswith(${json(value)}) | not))`;
    case 'suffix':
      return `(${isString} and (endswith(${json(value)}) | not))`;
    case 'equals-ignore-case':
      return `(${isString} and (${values.map((v) => `ascii_downcase == ${json(v.toLowerCase())}`).join(' or ')} | not))`;
    default:
      return `(${isString} and (${values.map((v) => `test(${json(wildcardToRegex(v))})`).join(' or ')} | not))`;
  }
}

/** Applies a test to a value that may be an array, where any element may satisfy it. */
const anyElement = (test: string) => `any(if type == "array" then .[] else . end; ${test})`;

function fieldToJq(key: string, rule: unknown): string {
  const at = `.[${json(key)}]`;
  const has = `has(${json(key)})`;
  if (!Array.isArray(rule)) return `(${has} and (${at} | ${anyElement(patternToJq(rule as Record<string, unknown>))}))`;
  let exists: boolean | undefined;
  const values: string[] = [];
  for (const condition of rule) {
    if (condition !== null && typeof condition === 'object' && 'exists' in condition) exists = (condition as { exists: boolean }).exists;
    else values.push(conditionToJq(condition));
  }
  const present = exists === true ? 'true' : values.length === 0 ? 'false' : `(${at} | ${anyElement(anyOf(values))})`;
  return `(if ${has} then ${present} else ${exists === false} end)`;
}

function patternToJq(pattern: Record<string, unknown>): string {
  const tests = ['type == "object"'];
  for (const key of Object.keys(pattern).sort()) {
    if (key === '$or') tests.push(anyOf((pattern.$or as Record<string, unknown>[]).map(patternToJq)));
    else tests.push(fieldToJq(key, pattern[key]));
  }
  return `(${tests.join(' and ')})`;
}

/** The jq test of a pattern over the whole event (attributes and `data`). */
export function dataPatternToJq(pattern: Record<string, unknown>): string {
  return patternToJq(pattern);
}

// ─── CESQL (CloudEvents SQL) ────────────────────────────────────────────────────────────

export class CesqlSyntaxError extends Error {}

type Token = { kind: 'number' | 'string' | 'word' | 'op'; text: string; at: number };

function tokenize(source: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < source.length) {
    const c = source[i]!;
    if (/\s/.test(c)) {
      i++;
    } else if (/[0-9]/.test(c)) {
      const m = /^[0-9]+/.exec(source.slice(i))![0];
      tokens.push({ kind: 'number', text: m, at: i });
      i += m.length;
    } else if (c === "'" || c === '"') {
      let j = i + 1;
      let text = '';
      for (;;) {
        if (j >= source.length) throw new CesqlSyntaxError(`unterminated string starting at ${i + 1}`);
        if (source[j] === c && source[j + 1] === c) {
          text += c;
          j += 2;
        } else if (source[j] === c) {
          break;
        } else {
          text += source[j];
          j++;
        }
      }
      tokens.push({ kind: 'string', text, at: i });
      i = j + 1;
    } else if (/[A-Za-z_]/.test(c)) {
      const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(source.slice(i))![0];
      tokens.push({ kind: 'word', text: m, at: i });
      i += m.length;
    } else {
      const m = /^(<=|>=|!=|<>|[=<>()+\-*/%,])/.exec(source.slice(i));
      if (!m) throw new CesqlSyntaxError(`unexpected "${c}" at ${i + 1}`);
      tokens.push({ kind: 'op', text: m[0], at: i });
      i += m[0].length;
    }
  }
  return tokens;
}

const keywords = new Set(['AND', 'OR', 'XOR', 'NOT', 'LIKE', 'IN', 'EXISTS', 'TRUE', 'FALSE']);

function likeToRegex(pattern: string): string {
  let regex = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '\\' && i + 1 < pattern.length) regex += pattern[++i]!.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    else if (c === '%') regex += '.*';
    else if (c === '_') regex += '.';
    else regex += c.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  }
  return `^${regex}$`;
}

/**
 * Translates the CESQL subset without functions (attribute references, literals, comparison,
 * arithmetic, AND/OR/XOR/NOT, LIKE, IN, EXISTS) to jq. Functions are refused with an error
 * rather than compiled to something that filters differently.
 */
export function cesqlToJq(source: string): string {
  const tokens = tokenize(source);
  let pos = 0;
  const peek = () => tokens[pos];
  const isWord = (word: string) => peek()?.kind === 'word' && peek()!.text.toUpperCase() === word;
  const isOp = (op: string) => peek()?.kind === 'op' && peek()!.text === op;
  const fail = (expected: string): never => {
    const token = peek();
    throw new CesqlSyntaxError(token ? `expected ${expected} at ${token.at + 1}, found "${token.text}"` : `expected ${expected} at the end`);
  };
  const expectOp = (op: string) => (isOp(op) ? pos++ : fail(`"${op}"`));

  function orExpr(): string {
    let left = xorExpr();
    while (isWord('OR')) {
      pos++;
      left = `(${left} or ${xorExpr()})`;
    }
    return left;
  }
  function xorExpr(): string {
    let left = andExpr();
    while (isWord('XOR')) {
      pos++;
      left = `((${left}) != (${andExpr()}))`;
    }
    return left;
  }
  function andExpr(): string {
    let left = notExpr();
    while (isWord('AND')) {
      pos++;
      left = `(${left} and ${notExpr()})`;
    }
    return left;
  }
  function notExpr(): string {
    if (isWord('NOT')) {
      pos++;
      return `(${notExpr()} | not)`;
    }
    return comparison();
  }
  function comparison(): string {
    const left = additive();
    const negated = isWord('NOT') && (tokens[pos + 1]?.text.toUpperCase() === 'LIKE' || tokens[pos + 1]?.text.toUpperCase() === 'IN');
    if (negated) pos++;
    if (isWord('LIKE')) {
      pos++;
      const pattern = peek();
      if (pattern?.kind !== 'string') fail('a string pattern after LIKE');
      pos++;
      const test = `(${left} | type == "string" and test(${json(likeToRegex(pattern!.text))}))`;
      return negated ? `(${test} | not)` : test;
    }
    if (isWord('IN')) {
      pos++;
      expectOp('(');
      const items = [additive()];
      while (isOp(',')) {
        pos++;
        items.push(additive());
      }
      expectOp(')');
      const test = `(${left} as $v | [${items.join(', ')}] | index([$v]) != null)`;
      return negated ? `(${test} | not)` : test;
    }
    const op = peek();
    if (op?.kind === 'op' && ['=', '!=', '<>', '<', '<=', '>', '>='].includes(op.text)) {
      pos++;
      const jqOp = op.text === '=' ? '==' : op.text === '<>' ? '!=' : op.text;
      return `(${left} ${jqOp} ${additive()})`;
    }
    return left;
  }
  function additive(): string {
    let left = multiplicative();
    while (isOp('+') || isOp('-')) {
      const op = tokens[pos++]!.text;
      left = `(${left} ${op} ${multiplicative()})`;
    }
    return left;
  }
  function multiplicative(): string {
    let left = unary();
    while (isOp('*') || isOp('/') || isOp('%')) {
      const op = tokens[pos++]!.text;
      left = `(${left} ${op} ${unary()})`;
    }
    return left;
  }
  function unary(): string {
    if (isOp('-')) {
      pos++;
      return `(0 - ${unary()})`;
    }
    return primary();
  }
  function primary(): string {
    const token = peek();
    if (!token) return fail('a value');
    if (token.kind === 'number') {
      pos++;
      return token.text;
    }
    if (token.kind === 'string') {
      pos++;
      return json(token.text);
    }
    if (isOp('(')) {
      pos++;
      const inner = orExpr();
      expectOp(')');
      return `(${inner})`;
    }
    if (token.kind === 'word') {
      const upper = token.text.toUpperCase();
      if (upper === 'TRUE' || upper === 'FALSE') {
        pos++;
        return upper.toLowerCase();
      }
      if (upper === 'EXISTS') {
        pos++;
        const name = peek();
        if (name?.kind !== 'word' || keywords.has(name.text.toUpperCase())) fail('an attribute name after EXISTS');
        pos++;
        return `has(${json(name!.text.toLowerCase())})`;
      }
      if (keywords.has(upper)) return fail('a value');
      if (tokens[pos + 1]?.kind === 'op' && tokens[pos + 1]!.text === '(') {
        throw new CesqlSyntaxError(`function ${token.text}() at ${token.at + 1} is not supported in compiled filters`);
      }
      pos++;
      return `.${token.text.toLowerCase()}`;
    }
    return fail('a value');
  }

  if (tokens.length === 0) throw new CesqlSyntaxError('the expression is empty');
  const result = orExpr();
  if (pos < tokens.length) fail('the end of the expression');
  return result;
}
