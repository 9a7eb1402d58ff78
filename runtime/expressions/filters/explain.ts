/**
 * Why a filter did not match an event, in one line a user can act on:
 * "`data.amount` 50 is not > 100", "`type` is "a", expected "b"".
 *
 * An explainer is compiled with its filter (at deploy time) and called only for events the
 * filter dropped, so the hot path of events that pass pays nothing. It walks the definition
 * to the first part that fails; CESQL and jq are opaque, so for those it names the expression.
 */
import { compileFilter, type FilterDefinition, type FilterEvent } from './index.ts';
import { compileDataPattern, type PatternTest } from './data-pattern.ts';
import { isPlainObject } from './issues.ts';

/** The reason an event fails the filter, or undefined when it passes. */
export type FilterExplainer = (event: FilterEvent) => string | undefined;

const show = (value: unknown): string => {
  const text = JSON.stringify(value);
  if (text === undefined) return String(value);
  return text.length > 80 ? `${text.slice(0, 77)}…` : text;
};

function describeCondition(condition: unknown): string {
  if (!isPlainObject(condition)) return show(condition);
  const [operator, operand] = Object.entries(condition)[0] ?? ['?', undefined];
  if (operator === 'numeric' && Array.isArray(operand)) {
    const parts: string[] = [];
    for (let i = 0; i + 1 < operand.length; i += 2) parts.push(`${String(operand[i])} ${String(operand[i + 1])}`);
    return parts.join(' and ');
  }
  if (operator === 'prefix') return `starts with ${show(operand)}`;
  if (operator === 'suffix') return `ends with ${show(operand)}`;
  if (operator === 'exists') return operand ? 'present' : 'absent';
  if (operator === 'anything-but') return `anything but ${show(operand)}`;
  return `${operator} ${show(operand)}`;
}

/** Each leaf of a pattern (a condition list), with the path to it and a test of that leaf alone. */
function patternLeaves(pattern: Record<string, unknown>, path: string[]): { path: string[]; conditions: unknown[]; test: PatternTest }[] {
  const leaves: { path: string[]; conditions: unknown[]; test: PatternTest }[] = [];
  for (const [key, value] of Object.entries(pattern)) {
    if (key === '$or') continue;
    if (isPlainObject(value)) leaves.push(...patternLeaves(value, [...path, key]));
    else if (Array.isArray(value)) {
      let alone: Record<string, unknown> = { [key]: value };
      for (const segment of [...path].reverse()) alone = { [segment]: alone };
      const test = compileDataPattern(alone, '', []);
      if (test) leaves.push({ path: [...path, key], conditions: value, test });
    }
  }
  return leaves;
}

function valueAt(event: FilterEvent, path: string[]): { present: boolean; value: unknown } {
  let node: unknown = event;
  for (const segment of path) {
    if (Array.isArray(node)) node = node.map((n) => (isPlainObject(n) ? n[segment] : undefined));
    else if (isPlainObject(node) && segment in node) node = node[segment];
    else return { present: false, value: undefined };
  }
  return { present: node !== undefined, value: node };
}

function explainPattern(pattern: Record<string, unknown>): FilterExplainer {
  const whole = compileDataPattern(pattern, '', []);
  const leaves = patternLeaves(pattern, []);
  return (event) => {
    if (!whole || whole(event)) return undefined;
    for (const leaf of leaves) {
      if (leaf.test(event)) continue;
      const name = `\`${leaf.path.join('.')}\``;
      const { present, value } = valueAt(event, leaf.path);
      const wanted = leaf.conditions.map(describeCondition);
      if (!present) return `${name} is absent; the pattern needs it ${wanted.join(' or ')}`;
      const scalar = leaf.conditions.length === 1 && !isPlainObject(leaf.conditions[0]);
      if (scalar) return `${name} ${show(value)} is not ${wanted[0]}`;
      return `${name} ${show(value)} is not ${wanted.join(' or ')}`;
    }
    return 'none of the pattern’s $or alternatives matched';
  };
}

function attributeText(event: FilterEvent, name: string): string | undefined {
  // After a transform the value may be anything; only an object has attributes.
  const raw = isPlainObject(event) ? event[name] : undefined;
  return raw === undefined || raw === null ? undefined : String(raw);
}

const ATTRIBUTE_TESTS: Record<string, { test: (actual: string, expected: string) => boolean; wanted: string }> = {
  exact: { test: (a, e) => a === e, wanted: 'expected' },
  prefix: { test: (a, e) => a.startsWith(e), wanted: 'expected a value starting with' },
  suffix: { test: (a, e) => a.endsWith(e), wanted: 'expected a value ending with' },
};

async function compileExplainer(definition: unknown): Promise<FilterExplainer> {
  if (Array.isArray(definition)) return compileExplainer({ all: definition });
  const [dialect, value] = isPlainObject(definition) ? (Object.entries(definition)[0] ?? []) : [];
  const attributes = dialect === undefined ? undefined : ATTRIBUTE_TESTS[dialect];
  if (attributes && isPlainObject(value)) {
    const pairs = Object.entries(value).map(([name, expected]) => [name, String(expected)] as const);
    return (event) => {
      for (const [name, expected] of pairs) {
        const actual = attributeText(event, name);
        if (actual === undefined) return `the event has no \`${name}\` attribute; ${attributes.wanted} ${show(expected)}`;
        if (!attributes.test(actual, expected)) return `\`${name}\` is ${show(actual)}, ${attributes.wanted} ${show(expected)}`;
      }
      return undefined;
    };
  }
  if (dialect === 'all' && Array.isArray(value)) {
    const parts = await Promise.all(value.map(compileExplainer));
    return (event) => {
      for (const part of parts) {
        const reason = part(event);
        if (reason !== undefined) return reason;
      }
      return undefined;
    };
  }
  if (dialect === 'pattern' && isPlainObject(value)) return explainPattern(value);
  const predicate = await compileFilter(definition);
  const text =
    dialect === 'any'
      ? 'it matches none of the alternatives (any)'
      : dialect === 'not'
        ? `it matches ${show(value)}, which this filter excludes (not)`
        : dialect === 'sql'
          ? `CESQL \`${String(value)}\` is not true for it`
          : dialect === 'jq'
            ? `jq \`${String(value)}\` is false or null for it`
            : 'it does not match the filter';
  return (event) => {
    try {
      if (predicate(event)) return undefined;
    } catch {
      return `${text} (evaluating it failed)`;
    }
    return text;
  };
}

/** Compiles the explainer of a (valid) filter definition; call it only on events the filter dropped. */
export function explainFilter(definition: FilterDefinition): Promise<FilterExplainer> {
  return compileExplainer(definition);
}

/**
 * A source's event-type check, said the way a user set it up: what the source accepts and
 * what this event is. Other reasons pass through unchanged.
 */
export function sourceReason(definition: FilterDefinition, event: FilterEvent, reason: string): string {
  const exactType = (filter: unknown): unknown => {
    if (!isPlainObject(filter)) return undefined;
    if (isPlainObject(filter.exact)) return filter.exact.type;
    return Array.isArray(filter.all) ? filter.all.map(exactType).find((t) => t !== undefined) : undefined;
  };
  const type = exactType(Array.isArray(definition) ? { all: definition } : definition);
  if (typeof type === 'string' && event.type !== type) return `accepts type ${show(type)}, this event is ${show(event.type)}`;
  return reason;
}
