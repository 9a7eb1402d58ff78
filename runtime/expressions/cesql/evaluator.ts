/**
 * Turns a CESQL syntax tree into a tree of closures once, so evaluating an event is a few
 * function calls with no re-parsing and no per-node dispatch on node kinds.
 *
 * Errors (spec §3.2, §3.3): the node that meets an error records it and still returns a
 * value (ABS overflow gives 2147483647, a missing attribute gives `false`, the Boolean the
 * spec assumes when no type is known). Any operator or function whose operand recorded
 * an error, or whose own implicit cast fails, returns the zero value of its return type
 * instead of computing — the rule §3.2 spells out for missing attributes (`missing / 0`
 * is `0` with a missingAttribute error, not a math error), applied to every error kind,
 * which is also what the test kit expects of `true AND (1 != 1 / 0)` (false, math error).
 */
import type { CesqlNode } from './ast.ts';
import {
  CAST_FAILED,
  INT32_MAX,
  INT32_MIN,
  ZERO,
  castTo,
  fromAttribute,
  toBoolean,
  toInteger,
  toStringValue,
  typeOf,
  type CesqlType,
  type CesqlValue,
} from './casting.ts';
import type { CesqlError } from './errors.ts';
import type { CesqlFunction, FunctionRegistry } from './functions.ts';
import { WILDCARD_STEP_BUDGET, matchWildcard, normalizeTokens, type WildcardToken } from '../wildcard.ts';

/** A CloudEvent as attributes by name: a parsed structured-mode JSON object or a `cloudevents` CloudEvent. */
export type CesqlEvent = Readonly<Record<string, unknown>>;

export interface EvaluationContext {
  event: CesqlEvent;
  errors: CesqlError[];
}

export type Evaluate = (ctx: EvaluationContext) => CesqlValue;

export interface CompiledNode {
  evaluate: Evaluate;
  /** Undefined when only the event decides (a bare attribute). */
  type: CesqlType | undefined;
}

export interface CompileNotes {
  /** Calls that cannot be dispatched: name and arity as written, with the offset of the call. */
  unresolvedCalls: { name: string; arity: number; position: number }[];
}

// `data` is the payload, not a context attribute: CESQL does not reach into it (spec §1).
const NOT_ATTRIBUTES = new Set(['data', 'data_base64']);

function readAttribute(event: CesqlEvent, name: string): unknown {
  // After a transform the value may be anything; only an object has attributes.
  return NOT_ATTRIBUTES.has(name) || typeof event !== 'object' || event === null || Array.isArray(event) ? undefined : event[name];
}

function missing(ctx: EvaluationContext, name: string): false {
  ctx.errors.push({ kind: 'missingAttribute', message: `the event has no attribute "${name}"` });
  return false;
}

function overflow(ctx: EvaluationContext, operator: string, value: number): number {
  ctx.errors.push({ kind: 'math', message: `integer overflow in '${operator}'` });
  // Two's-complement wrap, as 32-bit integers behave in the SDKs.
  return value | 0;
}

/**
 * Escapes in a LIKE pattern cover only `%` and `_`; any other backslash is a literal character.
 * The matcher answers true/false, or undefined when the match exceeded its step budget (a
 * backtracking regular expression would take exponential time on some patterns).
 */
export function compileLike(pattern: string): (value: string) => boolean | undefined {
  const tokens: WildcardToken[] = [];
  let literal = '';
  let wildcards = false;
  const chars = Array.from(pattern);
  for (let i = 0; i < chars.length; i++) {
    const c = chars[i]!;
    const next = chars[i + 1];
    if (c === '\\' && (next === '%' || next === '_')) {
      literal += next;
      tokens.push({ kind: 'char', char: next });
      i++;
    } else if (c === '%') {
      wildcards = true;
      tokens.push({ kind: 'any' });
    } else if (c === '_') {
      wildcards = true;
      tokens.push({ kind: 'one' });
    } else {
      literal += c;
      tokens.push({ kind: 'char', char: c });
    }
  }
  if (!wildcards) return (value) => value === literal;
  const body = pattern.slice(0, -1);
  if (pattern.endsWith('%') && !/[%_\\]/.test(body)) return (value) => value.startsWith(body);
  const tail = pattern.slice(1);
  if (pattern.startsWith('%') && !/[%_\\]/.test(tail)) return (value) => value.endsWith(tail);
  const normalized = normalizeTokens(tokens);
  return (value) => matchWildcard(normalized, value);
}

export function compileNode(node: CesqlNode, functions: FunctionRegistry, notes: CompileNotes): CompiledNode {
  const compile = (child: CesqlNode) => compileNode(child, functions, notes);
  switch (node.kind) {
    case 'literal': {
      const value = node.value;
      return { evaluate: () => value, type: typeOf(value) };
    }
    case 'attribute': {
      const name = node.name;
      return {
        type: undefined,
        evaluate: (ctx) => {
          const raw = readAttribute(ctx.event, name);
          if (raw === undefined || raw === null) return missing(ctx, name);
          return typeof raw === 'string' ? raw : fromAttribute(raw);
        },
      };
    }
    case 'exists': {
      const name = node.name;
      return {
        type: 'Boolean',
        evaluate: (ctx) => {
          const raw = readAttribute(ctx.event, name);
          return raw !== undefined && raw !== null;
        },
      };
    }
    case 'not': {
      const operand = compile(node.operand).evaluate;
      return {
        type: 'Boolean',
        evaluate: (ctx) => {
          const seen = ctx.errors.length;
          const v = operand(ctx);
          if (ctx.errors.length !== seen) return false;
          const b = toBoolean(v, ctx.errors);
          return b === CAST_FAILED ? false : !b;
        },
      };
    }
    case 'negate': {
      const operand = compile(node.operand).evaluate;
      return {
        type: 'Integer',
        evaluate: (ctx) => {
          const seen = ctx.errors.length;
          const v = operand(ctx);
          if (ctx.errors.length !== seen) return 0;
          const n = toInteger(v, ctx.errors);
          if (n === CAST_FAILED) return 0;
          return n === INT32_MIN ? overflow(ctx, '-', -n) : -n | 0;
        },
      };
    }
    case 'like': {
      const operand = compile(node.operand).evaluate;
      const matches = compileLike(node.pattern);
      const negated = node.negated;
      return {
        type: 'Boolean',
        evaluate: (ctx) => {
          const seen = ctx.errors.length;
          const v = operand(ctx);
          if (ctx.errors.length !== seen) return false;
          const matched = matches(toStringValue(v));
          if (matched === undefined) {
            ctx.errors.push({ kind: 'generic', message: `LIKE '${node.pattern.slice(0, 50)}' exceeded its evaluation budget of ${WILDCARD_STEP_BUDGET} steps` });
            return false;
          }
          return matched !== negated;
        },
      };
    }
    case 'in':
      return { type: 'Boolean', evaluate: compileIn(node.operand, node.set, node.negated, compile) };
    case 'call':
      return compileCall(node, functions, notes, compile);
    case 'binary':
      return compileBinary(node, compile);
  }
}

function compileIn(
  operandNode: CesqlNode,
  setNodes: CesqlNode[],
  negated: boolean,
  compile: (node: CesqlNode) => CompiledNode,
): Evaluate {
  const operand = compile(operandNode).evaluate;
  if (setNodes.every((n) => n.kind === 'literal')) {
    // A literal set is cast once per operand type, then each event is one Set lookup.
    const literals = setNodes.map((n) => (n as { value: CesqlValue }).value);
    const byType = new Map<CesqlType, { members: Set<CesqlValue>; errors: CesqlError[] }>();
    const membersFor = (type: CesqlType) => {
      let entry = byType.get(type);
      if (!entry) {
        const errors: CesqlError[] = [];
        const members = new Set<CesqlValue>();
        for (const literal of literals) {
          const cast = castTo(literal, type, errors);
          if (cast !== CAST_FAILED) members.add(cast);
        }
        entry = { members, errors };
        byType.set(type, entry);
      }
      return entry;
    };
    return (ctx) => {
      const seen = ctx.errors.length;
      const v = operand(ctx);
      if (ctx.errors.length !== seen) return false;
      const { members, errors } = membersFor(typeOf(v));
      if (errors.length > 0) {
        ctx.errors.push(...errors);
        return false;
      }
      return members.has(v) !== negated;
    };
  }
  const set = setNodes.map((n) => compile(n).evaluate);
  return (ctx) => {
    const seen = ctx.errors.length;
    const v = operand(ctx);
    if (ctx.errors.length !== seen) return false;
    const type = typeOf(v);
    let found = false;
    for (const element of set) {
      const cast = castTo(element(ctx), type, ctx.errors);
      if (ctx.errors.length !== seen) return false;
      if (cast === v) found = true;
    }
    return found !== negated;
  };
}

function compileCall(
  node: Extract<CesqlNode, { kind: 'call' }>,
  functions: FunctionRegistry,
  notes: CompileNotes,
  compile: (node: CesqlNode) => CompiledNode,
): CompiledNode {
  const fn: CesqlFunction | undefined = functions.resolve(node.name, node.args.length);
  if (!fn) {
    notes.unresolvedCalls.push({ name: node.name, arity: node.args.length, position: node.position });
    const message = functions.has(node.name)
      ? `function ${node.name} does not take ${node.args.length} argument(s)`
      : `unknown function ${node.name}`;
    // Spec §3.5: an invocation that cannot be dispatched is false plus a missingFunction error.
    return {
      type: 'Boolean',
      evaluate: (ctx) => {
        ctx.errors.push({ kind: 'missingFunction', message });
        return false;
      },
    };
  }
  const args = node.args.map((a) => compile(a).evaluate);
  const types = node.args.map((_, i) => fn.parameters[i] ?? fn.variadic ?? 'Any');
  const zero = ZERO[fn.returns];
  const call = fn.call;
  return {
    type: fn.returns,
    evaluate: (ctx) => {
      const seen = ctx.errors.length;
      const values: CesqlValue[] = new Array(args.length);
      for (let i = 0; i < args.length; i++) {
        const v = (args[i] as Evaluate)(ctx);
        const type = types[i] as CesqlType | 'Any';
        const cast = type === 'Any' ? v : castTo(v, type, ctx.errors);
        if (ctx.errors.length !== seen) return zero;
        values[i] = cast as CesqlValue;
      }
      return call(values, ctx.errors);
    },
  };
}

function compileBinary(
  node: Extract<CesqlNode, { kind: 'binary' }>,
  compile: (node: CesqlNode) => CompiledNode,
): CompiledNode {
  const left = compile(node.left).evaluate;
  const right = compile(node.right).evaluate;
  const op = node.operator;
  switch (op) {
    case 'AND':
    case 'OR': {
      // Short-circuit (spec §3.4.2): AND stops at false, OR at true, before the right side runs.
      const stopAt = op === 'OR';
      return {
        type: 'Boolean',
        evaluate: (ctx) => {
          const seen = ctx.errors.length;
          const lb = toBoolean(left(ctx), ctx.errors);
          if (ctx.errors.length !== seen) return false;
          if (lb === stopAt) return stopAt;
          const rb = toBoolean(right(ctx), ctx.errors);
          return ctx.errors.length !== seen ? false : (rb as boolean);
        },
      };
    }
    case 'XOR':
      return {
        type: 'Boolean',
        evaluate: (ctx) => {
          const seen = ctx.errors.length;
          const lb = toBoolean(left(ctx), ctx.errors);
          if (ctx.errors.length !== seen) return false;
          const rb = toBoolean(right(ctx), ctx.errors);
          return ctx.errors.length !== seen ? false : lb !== rb;
        },
      };
    case '=':
    case '!=':
    case '<>': {
      // `=` is ambiguous (Boolean, Integer and String overloads): the right operand's
      // type picks the overload and the left operand is cast to it (spec §3.7).
      const negated = op !== '=';
      return {
        type: 'Boolean',
        evaluate: (ctx) => {
          const seen = ctx.errors.length;
          const l = left(ctx);
          if (ctx.errors.length !== seen) return false;
          const r = right(ctx);
          if (ctx.errors.length !== seen) return false;
          const cast = typeof l === typeof r ? l : castTo(l, typeOf(r), ctx.errors);
          return ctx.errors.length !== seen ? false : (cast === r) !== negated;
        },
      };
    }
    default:
      return compileIntegerOperator(op, left, right);
  }
}

type IntegerOperator = '<' | '<=' | '>' | '>=' | '+' | '-' | '*' | '/' | '%';

function compileIntegerOperator(op: IntegerOperator, left: Evaluate, right: Evaluate): CompiledNode {
  const comparison = op === '<' || op === '<=' || op === '>' || op === '>=';
  const zero = comparison ? false : 0;
  const apply = integerOperation(op);
  return {
    type: comparison ? 'Boolean' : 'Integer',
    evaluate: (ctx) => {
      const seen = ctx.errors.length;
      const l = left(ctx);
      if (ctx.errors.length !== seen) return zero;
      const r = right(ctx);
      if (ctx.errors.length !== seen) return zero;
      const a = typeof l === 'number' ? l : toInteger(l, ctx.errors);
      const b = typeof r === 'number' ? r : toInteger(r, ctx.errors);
      if (a === CAST_FAILED || b === CAST_FAILED) return zero;
      return apply(a, b, ctx);
    },
  };
}

function integerOperation(op: IntegerOperator): (a: number, b: number, ctx: EvaluationContext) => CesqlValue {
  const checked = (value: number, ctx: EvaluationContext) =>
    value > INT32_MAX || value < INT32_MIN ? overflow(ctx, op, value) : value;
  switch (op) {
    case '<':
      return (a, b) => a < b;
    case '<=':
      return (a, b) => a <= b;
    case '>':
      return (a, b) => a > b;
    case '>=':
      return (a, b) => a >= b;
    case '+':
      return (a, b, ctx) => checked(a + b, ctx);
    case '-':
      return (a, b, ctx) => checked(a - b, ctx);
    case '*':
      return (a, b, ctx) => {
        const exact = a * b;
        // A product of two int32 can exceed 2^53, so wrap with imul rather than `| 0`.
        if (exact > INT32_MAX || exact < INT32_MIN) return overflow(ctx, '*', Math.imul(a, b));
        return exact | 0;
      };
    case '/':
      return (a, b, ctx) => {
        if (b === 0) {
          ctx.errors.push({ kind: 'math', message: 'division by zero' });
          return 0;
        }
        // Truncated division (spec §3.4.2); `| 0` also turns -0 into 0.
        return checked(Math.trunc(a / b), ctx) | 0;
      };
    case '%':
      return (a, b, ctx) => {
        if (b === 0) {
          ctx.errors.push({ kind: 'math', message: 'modulo by zero' });
          return 0;
        }
        // JavaScript's % already keeps the dividend's sign, as the spec requires.
        return (a % b) | 0;
      };
  }
}
