/**
 * Built-in CESQL functions (spec §3.5) plus the casting functions the test kit uses
 * (INT, BOOL, STRING) and the IS_* checks the SDKs offer. Each definition declares its
 * parameter types; the evaluator casts arguments before `call` sees them (spec §3.7), so
 * implementations receive values of the declared types.
 */
import {
  INT32_MAX,
  INT32_MIN,
  toBoolean,
  toInteger,
  toStringValue,
  typeOf,
  type CesqlType,
  type CesqlValue,
} from './casting.ts';
import type { CesqlError } from './errors.ts';

/** `Any` parameters are passed through uncast. */
export type ParameterType = CesqlType | 'Any';

export interface CesqlFunction {
  name: string;
  parameters: ParameterType[];
  /** Type of the extra arguments of a variadic function, after the fixed `parameters`. */
  variadic?: ParameterType;
  returns: CesqlType;
  call: (args: CesqlValue[], errors: CesqlError[]) => CesqlValue;
}

function chars(text: string): string[] {
  return Array.from(text);
}

function fail(errors: CesqlError[], message: string): void {
  errors.push({ kind: 'functionEvaluation', message });
}

const UNICODE_EDGE_SPACE = /^\p{White_Space}+|\p{White_Space}+$/gu;

function substring(name: string, args: CesqlValue[], errors: CesqlError[]): string {
  const text = chars(args[0] as string);
  const pos = args[1] as number;
  const len = args[2] as number | undefined;
  if (pos > text.length || pos < -text.length) {
    fail(errors, `${name}: position ${pos} is outside a string of length ${text.length}`);
    return '';
  }
  if (len !== undefined && len < 0) {
    fail(errors, `${name}: length ${len} is negative`);
    return '';
  }
  if (pos === 0) return '';
  const start = pos > 0 ? pos - 1 : text.length + pos;
  const end = len === undefined ? text.length : Math.min(text.length, start + len);
  return text.slice(start, end).join('');
}

const definitions: CesqlFunction[] = [
  { name: 'LENGTH', parameters: ['String'], returns: 'Integer', call: ([x]) => chars(x as string).length },
  {
    name: 'CONCAT',
    parameters: [],
    variadic: 'String',
    returns: 'String',
    call: (args) => args.join(''),
  },
  {
    name: 'CONCAT_WS',
    parameters: ['String'],
    variadic: 'String',
    returns: 'String',
    call: ([delimiter, ...rest]) => rest.join(delimiter as string),
  },
  { name: 'LOWER', parameters: ['String'], returns: 'String', call: ([x]) => (x as string).toLowerCase() },
  { name: 'UPPER', parameters: ['String'], returns: 'String', call: ([x]) => (x as string).toUpperCase() },
  // String.prototype.trim also strips U+FEFF, which Unicode does not class as whitespace.
  { name: 'TRIM', parameters: ['String'], returns: 'String', call: ([x]) => (x as string).replace(UNICODE_EDGE_SPACE, '') },
  {
    name: 'LEFT',
    parameters: ['String', 'Integer'],
    returns: 'String',
    call: ([x, y], errors) => {
      if ((y as number) < 0) {
        fail(errors, `LEFT: length ${y as number} is negative`);
        return x as string;
      }
      return chars(x as string).slice(0, y as number).join('');
    },
  },
  {
    name: 'RIGHT',
    parameters: ['String', 'Integer'],
    returns: 'String',
    call: ([x, y], errors) => {
      const n = y as number;
      if (n < 0) {
        fail(errors, `RIGHT: length ${n} is negative`);
        return x as string;
      }
      const text = chars(x as string);
      return n >= text.length ? (x as string) : text.slice(text.length - n).join('');
    },
  },
  { name: 'SUBSTRING', parameters: ['String', 'Integer'], returns: 'String', call: (args, errors) => substring('SUBSTRING', args, errors) },
  {
    name: 'SUBSTRING',
    parameters: ['String', 'Integer', 'Integer'],
    returns: 'String',
    call: (args, errors) => substring('SUBSTRING', args, errors),
  },
  {
    name: 'ABS',
    parameters: ['Integer'],
    returns: 'Integer',
    call: ([x], errors) => {
      if (x === INT32_MIN) {
        errors.push({ kind: 'math', message: 'ABS(-2147483648) overflows a 32-bit integer' });
        return INT32_MAX;
      }
      return Math.abs(x as number);
    },
  },
  {
    name: 'INT',
    parameters: ['Any'],
    returns: 'Integer',
    call: ([x], errors) => {
      const value = toInteger(x as CesqlValue, errors);
      return typeof value === 'number' ? value : 0;
    },
  },
  {
    name: 'BOOL',
    parameters: ['Any'],
    returns: 'Boolean',
    call: ([x], errors) => {
      const value = toBoolean(x as CesqlValue, errors);
      return typeof value === 'boolean' ? value : false;
    },
  },
  { name: 'STRING', parameters: ['Any'], returns: 'String', call: ([x]) => toStringValue(x as CesqlValue) },
  // IS_INT / IS_BOOL ask "would INT / BOOL succeed?", as the Go and Java SDKs define them.
  { name: 'IS_INT', parameters: ['Any'], returns: 'Boolean', call: ([x]) => typeof toInteger(x as CesqlValue, []) === 'number' },
  { name: 'IS_BOOL', parameters: ['Any'], returns: 'Boolean', call: ([x]) => typeof toBoolean(x as CesqlValue, []) === 'boolean' },
  { name: 'IS_STRING', parameters: ['Any'], returns: 'Boolean', call: ([x]) => typeOf(x as CesqlValue) === 'String' },
];

/** Functions by upper-case name, then by arity; a variadic overload answers every arity from its fixed count up. */
export interface FunctionRegistry {
  resolve(name: string, arity: number): CesqlFunction | undefined;
  has(name: string): boolean;
}

export function createRegistry(functions: readonly CesqlFunction[] = definitions): FunctionRegistry {
  const byName = new Map<string, CesqlFunction[]>();
  for (const fn of functions) {
    const list = byName.get(fn.name) ?? [];
    list.push(fn);
    byName.set(fn.name, list);
  }
  return {
    resolve(name, arity) {
      const overloads = byName.get(name);
      if (!overloads) return undefined;
      return (
        overloads.find((fn) => !fn.variadic && fn.parameters.length === arity) ??
        overloads.find((fn) => fn.variadic !== undefined && arity >= fn.parameters.length)
      );
    },
    has: (name) => byName.has(name),
  };
}

export const builtinFunctions: FunctionRegistry = createRegistry();
