/**
 * Compiles the jq expressions workflows use most (paths, literals, comparisons, `and`/`or`,
 * `not`, and object construction such as `{ id: .id, amount: .data.amount }`) to JavaScript, so that they cost microseconds instead of a jq-wasm call. Anything
 * outside that subset returns undefined and runs in real jq; so does any evaluation that
 * would be a jq error (e.g. indexing a number), so error messages stay jq's own. The
 * differential test against the jq binary keeps both paths in agreement.
 */
import type { JqValue } from './jq.ts';

export type FastExpression = (input: JqValue, vars: (name: string) => JqValue | undefined) => JqValue;

/** Thrown by a compiled expression when only real jq can answer (error cases). */
export const FAST_PATH_MISS = Symbol('fast-path-miss');

type Node =
  | { kind: 'literal'; value: JqValue }
  | { kind: 'path'; root: string | null; steps: (string | number)[] }
  | { kind: 'compare'; op: string; left: Node; right: Node }
  | { kind: 'and' | 'or'; left: Node; right: Node }
  | { kind: 'not'; operand: Node }
  | { kind: 'object'; entries: [string, Node][] };

type Token = { t: 'op' | 'num' | 'str' | 'ident' | 'var' | 'dot' | 'field' | 'punct'; v: string };

const TOKEN = /\s*(?:(==|!=|<=|>=|<|>)|(-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)|("(?:[^"\\]|\\[^(])*")|\$([A-Za-z_][A-Za-z0-9_]*)|\.([A-Za-z_][A-Za-z0-9_]*)|([A-Za-z_][A-Za-z0-9_]*)|(\.)|([[\]()|{}:,]))/y;

function tokenize(source: string): Token[] | undefined {
  const tokens: Token[] = [];
  TOKEN.lastIndex = 0;
  let at = 0;
  while (at < source.length) {
    if (/^\s*$/.test(source.slice(at))) break;
    TOKEN.lastIndex = at;
    const m = TOKEN.exec(source);
    if (!m) return undefined;
    at = TOKEN.lastIndex;
    if (m[1]) tokens.push({ t: 'op', v: m[1] });
    else if (m[2]) tokens.push({ t: 'num', v: m[2] });
    else if (m[3]) tokens.push({ t: 'str', v: m[3] });
    else if (m[4]) tokens.push({ t: 'var', v: m[4] });
    else if (m[5]) tokens.push({ t: 'field', v: m[5] });
    else if (m[6]) tokens.push({ t: 'ident', v: m[6] });
    else if (m[7]) tokens.push({ t: 'dot', v: '.' });
    else if (m[8]) tokens.push({ t: 'punct', v: m[8] });
  }
  return tokens;
}

class Parser {
  private i = 0;
  constructor(private readonly tokens: Token[]) {}

  private peek(): Token | undefined {
    return this.tokens[this.i];
  }

  private take(): Token | undefined {
    return this.tokens[this.i++];
  }

  parse(): Node | undefined {
    const node = this.pipe();
    return node && this.i === this.tokens.length ? node : undefined;
  }

  private pipe(): Node | undefined {
    let node = this.or();
    while (node && this.peek()?.v === '|') {
      this.take();
      const next = this.take();
      if (next?.t !== 'ident' || next.v !== 'not') return undefined;
      node = { kind: 'not', operand: node };
    }
    return node;
  }

  private or(): Node | undefined {
    let left = this.and();
    while (left && this.peek()?.t === 'ident' && this.peek()?.v === 'or') {
      this.take();
      const right = this.and();
      if (!right) return undefined;
      left = { kind: 'or', left, right };
    }
    return left;
  }

  private and(): Node | undefined {
    let left = this.compare();
    while (left && this.peek()?.t === 'ident' && this.peek()?.v === 'and') {
      this.take();
      const right = this.compare();
      if (!right) return undefined;
      left = { kind: 'and', left, right };
    }
    return left;
  }

  private compare(): Node | undefined {
    const left = this.term();
    if (!left) return undefined;
    const next = this.peek();
    if (next?.t !== 'op') return left;
    this.take();
    const right = this.term();
    return right && { kind: 'compare', op: next.v, left, right };
  }

  private term(): Node | undefined {
    const token = this.take();
    if (!token) return undefined;
    switch (token.t) {
      case 'num':
        return { kind: 'literal', value: Number(token.v) };
      case 'str':
        return { kind: 'literal', value: JSON.parse(token.v) as string };
      case 'ident':
        if (token.v === 'true') return { kind: 'literal', value: true };
        if (token.v === 'false') return { kind: 'literal', value: false };
        if (token.v === 'null') return { kind: 'literal', value: null };
        return undefined;
      case 'punct':
        if (token.v === '{') return this.object();
        if (token.v !== '(') return undefined;
        {
          const inner = this.pipe();
          if (!inner || this.take()?.v !== ')') return undefined;
          return inner;
        }
      case 'var':
        return this.suffixes({ kind: 'path', root: token.v, steps: [] });
      case 'field':
        return this.suffixes({ kind: 'path', root: null, steps: [token.v] });
      case 'dot': {
        const path: Node = { kind: 'path', root: null, steps: [] };
        if (this.peek()?.t === 'str') path.steps.push(JSON.parse(this.take()!.v) as string);
        return this.suffixes(path);
      }
      default:
        return undefined;
    }
  }

  /**
   * `{ key: value, … }` after its `{`: keys are names or plain strings, values are terms (a path,
   * a literal, a parenthesised expression, another object), as jq's grammar has them unparenthesised.
   */
  private object(): Node | undefined {
    const entries: [string, Node][] = [];
    if (this.peek()?.v === '}') {
      this.take();
      return { kind: 'object', entries };
    }
    for (;;) {
      const key = this.take();
      let name: string;
      if (key?.t === 'ident') name = key.v;
      else if (key?.t === 'str') name = JSON.parse(key.v) as string;
      else return undefined;
      // A JavaScript object would take this key for its prototype, or put integer keys first: left to jq.
      if (name === '__proto__' || /^(0|[1-9][0-9]*)$/.test(name)) return undefined;
      if (this.take()?.v !== ':') return undefined;
      const value = this.term();
      if (!value) return undefined;
      entries.push([name, value]);
      const next = this.take();
      if (next?.v === '}' && next.t === 'punct') return { kind: 'object', entries };
      if (next?.v !== ',' || next.t !== 'punct') return undefined;
    }
  }

  private suffixes(path: Extract<Node, { kind: 'path' }>): Node | undefined {
    for (;;) {
      const next = this.peek();
      if (next?.t === 'field') {
        this.take();
        path.steps.push(next.v);
      } else if (next?.t === 'dot' && this.tokens[this.i + 1]?.t === 'str') {
        this.take();
        path.steps.push(JSON.parse(this.take()!.v) as string);
      } else if (next?.v === '[') {
        if (next.t !== 'punct') return undefined;
        this.take();
        const key = this.take();
        if (this.take()?.v !== ']') return undefined;
        if (key?.t === 'str') path.steps.push(JSON.parse(key.v) as string);
        else if (key?.t === 'num' && Number.isInteger(Number(key.v))) path.steps.push(Number(key.v));
        else return undefined;
      } else {
        return path;
      }
    }
  }
}

const TYPE_ORDER = (v: JqValue): number => {
  if (v === null) return 0;
  if (v === false) return 1;
  if (v === true) return 2;
  if (typeof v === 'number') return 3;
  if (typeof v === 'string') return 4;
  if (Array.isArray(v)) return 5;
  return 6;
};

function compareStrings(a: string, b: string): number {
  // jq orders strings by their UTF-8 bytes, which is code point order (not UTF-16 units).
  const ai = a[Symbol.iterator]();
  const bi = b[Symbol.iterator]();
  for (;;) {
    const x = ai.next();
    const y = bi.next();
    if (x.done || y.done) return x.done && y.done ? 0 : x.done ? -1 : 1;
    const d = x.value.codePointAt(0)! - y.value.codePointAt(0)!;
    if (d !== 0) return d;
  }
}

/** jq's total order over JSON values. */
export function jqCompare(a: JqValue, b: JqValue): number {
  const ta = TYPE_ORDER(a);
  const tb = TYPE_ORDER(b);
  if (ta !== tb) return ta - tb;
  if (typeof a === 'number') return a - (b as number);
  if (typeof a === 'string') return compareStrings(a, b as string);
  if (Array.isArray(a)) {
    const bb = b as JqValue[];
    for (let i = 0; i < Math.min(a.length, bb.length); i++) {
      const d = jqCompare(a[i]!, bb[i]!);
      if (d !== 0) return d;
    }
    return a.length - bb.length;
  }
  if (a !== null && typeof a === 'object') {
    const bo = b as Record<string, JqValue>;
    const ka = Object.keys(a).sort(compareStrings);
    const kb = Object.keys(bo).sort(compareStrings);
    const keys = jqCompare(ka, kb);
    if (keys !== 0) return keys;
    for (const k of ka) {
      const d = jqCompare(a[k]!, bo[k]!);
      if (d !== 0) return d;
    }
  }
  return 0;
}

const truthy = (v: JqValue): boolean => v !== null && v !== false;

function index(value: JqValue, key: string | number): JqValue {
  if (value === null) return null;
  if (typeof key === 'string') {
    if (typeof value === 'object' && !Array.isArray(value)) return Object.hasOwn(value, key) ? value[key]! : null;
  } else if (Array.isArray(value)) {
    return value[key < 0 ? value.length + key : key] ?? null;
  }
  throw FAST_PATH_MISS;
}

function build(node: Node): FastExpression {
  switch (node.kind) {
    case 'literal': {
      const value = node.value;
      return () => value;
    }
    case 'path': {
      const { root, steps } = node;
      return (input, vars) => {
        let value: JqValue;
        if (root === null) value = input;
        else {
          const bound = vars(root);
          if (bound === undefined) throw FAST_PATH_MISS;
          value = bound;
        }
        for (const step of steps) value = index(value, step);
        return value;
      };
    }
    case 'compare': {
      const left = build(node.left);
      const right = build(node.right);
      const test: (d: number) => boolean =
        node.op === '==' ? (d) => d === 0 : node.op === '!=' ? (d) => d !== 0 : node.op === '<' ? (d) => d < 0 : node.op === '<=' ? (d) => d <= 0 : node.op === '>' ? (d) => d > 0 : (d) => d >= 0;
      // jq evaluates the right operand first; only the order of errors depends on it.
      return (input, vars) => {
        const r = right(input, vars);
        return test(jqCompare(left(input, vars), r));
      };
    }
    case 'and': {
      const left = build(node.left);
      const right = build(node.right);
      return (input, vars) => truthy(left(input, vars)) && truthy(right(input, vars));
    }
    case 'or': {
      const left = build(node.left);
      const right = build(node.right);
      return (input, vars) => truthy(left(input, vars)) || truthy(right(input, vars));
    }
    case 'not': {
      const operand = build(node.operand);
      return (input, vars) => !truthy(operand(input, vars));
    }
    case 'object': {
      const entries = node.entries.map(([key, value]) => [key, build(value)] as const);
      return (input, vars) => {
        const out: Record<string, JqValue> = {};
        for (const [key, value] of entries) out[key] = value(input, vars);
        return out;
      };
    }
  }
}

/** A JavaScript function with jq's semantics for `expression`, or undefined when it is outside the subset. */
export function compileFast(expression: string): FastExpression | undefined {
  const tokens = tokenize(expression);
  if (!tokens || tokens.length === 0) return undefined;
  const node = new Parser(tokens).parse();
  return node && build(node);
}
