/**
 * Filter definitions as jq conditions, for documents that must filter the same way on any
 * DSL 1.0 runtime. Each dialect is translated with the meaning its evaluator here gives it
 * (index.ts for the Subscriptions API dialects, data-pattern.ts for patterns, cesql/ for
 * `sql`), and the differential test (test/unit/events/differential.test.ts) holds the
 * translation and the evaluators to the same answers.
 *
 * A condition sees the task input, which for an event-triggered flow is the CloudEvent in
 * its structured JSON form: attributes at the top level, the payload under `data`.
 */
import { cesqlToJq, escapeRegex } from '../cesql/jq.ts';
import type { DataPattern } from './data-pattern.ts';
import type { FilterDefinition, SubscriptionFilter } from './index.ts';

const json = (value: unknown) => JSON.stringify(value);

/** An attribute's text as the Subscriptions API dialects compare it (attributeText in index.ts); null when absent. */
function attributeText(name: string): string {
  return `(if type == "object" then .[${json(name)}] else null end | if . == null or type == "string" then . elif type == "number" or type == "boolean" then tostring else tojson end)`;
}

function attributeTests(attrs: Record<string, string>, test: (text: string, value: string) => string): string {
  const parts = Object.entries(attrs)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([name, value]) => test(attributeText(name), value));
  return parts.length === 0 ? 'true' : parts.join(' and ');
}

/** A jq predicate as the `jq` dialect reads it: its first output, neither false nor null; an error fails it. */
function jqPredicate(expression: string): string {
  return `(try ([limit(1; ${expression})] | .[0] | . != null and . != false) catch false)`;
}

/** The jq condition of a filter definition (a list means all of its filters). */
export function filterToJq(filter: FilterDefinition): string {
  if (Array.isArray(filter)) return filter.length === 1 ? filterToJq(filter[0]!) : `(${filter.map(filterToJq).join(' and ')})`;
  return subscriptionFilterToJq(filter);
}

function subscriptionFilterToJq(filter: SubscriptionFilter): string {
  if ('exact' in filter) return `(${attributeTests(filter.exact, (t, v) => `(${t} == ${json(v)})`)})`;
  if ('prefix' in filter) return `(${attributeTests(filter.prefix, (t, v) => `(${t} | type == "string" and startswith(${json(v)}))`)})`;
  if ('suffix' in filter) return `(${attributeTests(filter.suffix, (t, v) => `(${t} | type == "string" and endswith(${json(v)}))`)})`;
  if ('all' in filter) return `(${filter.all.map(subscriptionFilterToJq).join(' and ')})`;
  if ('any' in filter) return `(${filter.any.map(subscriptionFilterToJq).join(' or ')})`;
  if ('not' in filter) return `(${subscriptionFilterToJq(filter.not)} | not)`;
  if ('sql' in filter) return cesqlToJq(filter.sql);
  if ('pattern' in filter) return dataPatternToJq(filter.pattern);
  return jqPredicate(filter.jq);
}

// ─── data patterns ──────────────────────────────────────────────────────────────────────
// As data-pattern.ts evaluates them: keys are attributes or `data`, arrays in the event
// match if any element does, and only `exists: false` matches an absent field.

/** `*` any run of characters, `\*` and `\\` literal (wildcardMatcher in data-pattern.ts). */
function wildcardToRegex(pattern: string): string {
  const chars = Array.from(pattern);
  let source = '';
  for (let i = 0; i < chars.length; i++) {
    const c = chars[i]!;
    if (c === '\\' && (chars[i + 1] === '*' || chars[i + 1] === '\\')) source += escapeRegex(chars[++i]!);
    else if (c === '*') source += '[\\s\\S]*';
    else source += escapeRegex(c);
  }
  return `\\A${source}\\z`;
}

const isString = 'type == "string"';
const anyOf = (tests: string[]) => (tests.length === 1 ? tests[0]! : `(${tests.join(' or ')})`);
/** Case-insensitive comparison folds ASCII letters only, in both evaluators. */
const folded = (text: string) => json(text.replace(/[A-Z]/g, (c) => c.toLowerCase()));

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
      return `(${isString} and ascii_downcase == ${folded(String(operand))})`;
    case 'wildcard':
      return `(${isString} and test(${json(wildcardToRegex(String(operand)))}))`;
    case 'numeric': {
      const bounds = operand as (string | number)[];
      const tests: string[] = [];
      for (let i = 0; i + 1 < bounds.length; i += 2) tests.push(`. ${bounds[i] === '=' ? '==' : bounds[i]} ${json(bounds[i + 1])}`);
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
      return `(${isString} and (${values.map((v) => `ascii_downcase == ${folded(v)}`).join(' or ')} | not))`;
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
export function dataPatternToJq(pattern: DataPattern | Readonly<Record<string, unknown>>): string {
  return patternToJq(pattern as Record<string, unknown>);
}
