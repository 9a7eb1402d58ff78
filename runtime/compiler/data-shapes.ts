/**
 * Types through the wires: the shape of the data reaching each node, inferred from the JSON
 * Schema of the event type its source consumes (the catalog's, handed in by the caller).
 *
 * A flow's first task receives the CloudEvent; each task's output is inferred from the task
 * it compiled to — `set` builds an object, filters (`switch`) and `wait` pass their input on,
 * `emit` outputs the event it sent, `output.as` reshapes — and jq is understood where it is a
 * path, a literal or an object construction. Anything else is `any`, below which nothing is
 * checked: inference only ever speaks when it is sure.
 *
 * Expressions are checked for references to fields that cannot exist: an error where the
 * schema rules the field out (a closed object, a field of a string or an array), a warning
 * where the schema merely does not list it.
 */
import type { DslTask, GraphEdge, OutputPort } from '../nodes/types.ts';
import type { Diagnostic } from './diagnostics.ts';
import { jqSyntaxError } from './expression-syntax.ts';

export interface FieldInfo {
  /** A jq path from the node's input, such as `.data.customer.id` or `.data.items[].sku`. */
  path: string;
  /** JSON type (`string`, `number`, `object`, …), or `any` when the schema leaves it open. */
  type: string;
}

export type Shape =
  | { type: 'object'; properties: Record<string, Shape>; closed: boolean }
  | { type: 'array'; items: Shape }
  | { type: 'string' | 'number' | 'integer' | 'boolean' | 'null' | 'any' };

const ANY: Shape = { type: 'any' };
const STRING: Shape = { type: 'string' };
const scalarTypes = new Set(['string', 'number', 'integer', 'boolean', 'null']);

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The subset of JSON Schema that pins a shape down; composition and references give `any`. */
export function shapeFromSchema(schema: unknown, depth = 0): Shape {
  if (!isRecord(schema) || depth > 16 || '$ref' in schema || 'anyOf' in schema || 'oneOf' in schema || 'allOf' in schema) return ANY;
  const type = schema.type;
  if (type === 'object' || (type === undefined && isRecord(schema.properties))) {
    if (!isRecord(schema.properties)) return ANY;
    const properties = Object.fromEntries(Object.entries(schema.properties).map(([key, sub]) => [key, shapeFromSchema(sub, depth + 1)]));
    return { type: 'object', properties, closed: schema.additionalProperties === false };
  }
  if (type === 'array') return { type: 'array', items: shapeFromSchema(schema.items, depth + 1) };
  if (typeof type === 'string' && scalarTypes.has(type)) return { type } as Shape;
  return ANY;
}

/** The CloudEvent a flow receives: its attributes, open to extensions, with `data` of the given shape. */
export function cloudEventShape(data: Shape): Shape {
  const attribute = (names: string[]) => Object.fromEntries(names.map((n) => [n, STRING]));
  return {
    type: 'object',
    properties: { ...attribute(['id', 'source', 'type', 'specversion', 'subject', 'time', 'datacontenttype', 'dataschema']), data },
    closed: false,
  };
}

function sameShape(a: Shape, b: Shape): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

// ── paths ─────────────────────────────────────────────────────────────────────

type Segment = { field: string } | { each: true };

interface Lookup {
  shape: Shape;
  problem?: { severity: 'error' | 'warning'; message: string };
}

function describe(shape: Shape): string {
  return shape.type === 'integer' ? 'a number' : shape.type === 'array' ? 'an array' : shape.type === 'object' ? 'an object' : `a ${shape.type}`;
}

export function lookup(shape: Shape, segments: readonly Segment[]): Lookup {
  let current = shape;
  let at = '';
  for (const segment of segments) {
    if (current.type === 'any' || current.type === 'null') return { shape: ANY };
    if ('each' in segment) {
      if (current.type === 'array') current = current.items;
      else if (current.type === 'object') return { shape: ANY };
      else return { shape: ANY, problem: { severity: 'error', message: `${at || '.'} is ${describe(current)}; it cannot be iterated with []` } };
      at += '[]';
      continue;
    }
    const path = `${at}.${segment.field}`;
    if (current.type === 'object') {
      const next = current.properties[segment.field];
      if (next === undefined) {
        const known = Object.keys(current.properties).join(', ') || 'none';
        return current.closed
          ? { shape: ANY, problem: { severity: 'error', message: `${path} cannot exist: ${at || 'the input'} allows only ${known}` } }
          : { shape: ANY, problem: { severity: 'warning', message: `${path} is not in the schema of ${at || 'the input'} (known fields: ${known})` } };
      }
      current = next;
    } else {
      return { shape: ANY, problem: { severity: 'error', message: `${path} cannot exist: ${at || 'the input'} is ${describe(current)}` } };
    }
    at = path;
  }
  return { shape: current };
}

const PATH = /^\.([A-Za-z_][A-Za-z0-9_]*)((?:\.[A-Za-z_][A-Za-z0-9_]*|\[\])*)\??$/;

function parsePath(text: string): Segment[] | undefined {
  if (!PATH.test(text)) return undefined;
  return [...text.replace(/\?$/, '').matchAll(/\.([A-Za-z_][A-Za-z0-9_]*)|\[\]/g)].map((m) => (m[1] ? { field: m[1] } : { each: true as const }));
}

/**
 * Constructs under which `.` is no longer the task's input (pipes, closures over elements,
 * variables, recursion). An expression using any of them is not checked at all.
 */
const CONTEXT_CHANGING =
  /(^|[^|])\|(?!\|)|\.\.|(?<![.$A-Za-z0-9_])(map|map_values|sort_by|group_by|unique_by|min_by|max_by|with_entries|any|all|recurse|walk|paths|leaf_paths|reduce|foreach|limit|first|last|until|while|repeat|isempty|path|getpath|del|to_entries|from_entries|splits|sub|gsub|def|as|label|env|input|inputs)\b/;

/** The top-level paths (`.a.b`, `.items[].sku`) an expression reads from its input, or none when that cannot be told. */
export function inputPaths(expression: string): Segment[][] {
  const code = expression.replace(/"(?:[^"\\]|\\.)*"/g, '""');
  if (CONTEXT_CHANGING.test(code)) return [];
  const paths: Segment[][] = [];
  for (const match of code.matchAll(/(^|[^A-Za-z0-9_$\])}"?.])(\.[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*|\[\])*)/g)) {
    const segments = parsePath(match[2]!);
    if (segments) paths.push(segments);
  }
  return paths;
}

// ── expressions ───────────────────────────────────────────────────────────────

/** Splits `a, b: c, d` at top-level commas (outside brackets and strings). */
function splitTopLevel(text: string, separator: string): string[] | undefined {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
      continue;
    }
    if (c === '"') inString = true;
    else if ('([{'.includes(c)) depth++;
    else if (')]}'.includes(c)) depth--;
    else if (c === separator && depth === 0) {
      parts.push(text.slice(start, i));
      start = i + 1;
    }
  }
  if (depth !== 0 || inString) return undefined;
  parts.push(text.slice(start));
  return parts;
}

function enclosed(text: string, open: string, close: string): boolean {
  if (!text.startsWith(open) || !text.endsWith(close)) return false;
  const inner = splitTopLevel(text.slice(1, -1), '\0');
  return inner !== undefined;
}

/** The shape of a jq expression's result, where it can be told from the expression alone. */
export function inferJq(expression: string, input: Shape): Shape {
  const text = expression.trim();
  if (text === '.') return input;
  if (/^"(?:[^"\\]|\\.)*"$/.test(text)) return STRING;
  if (/^-?\d+(\.\d+)?([eE][+-]?\d+)?$/.test(text)) return { type: 'number' };
  if (text === 'true' || text === 'false') return { type: 'boolean' };
  if (text === 'null') return { type: 'null' };
  const path = parsePath(text);
  if (path) return path.some((s) => 'each' in s) ? ANY : lookup(input, path).shape;
  if (enclosed(text, '(', ')')) return inferJq(text.slice(1, -1), input);
  if (enclosed(text, '[', ']')) return { type: 'array', items: ANY };
  if (enclosed(text, '{', '}')) {
    const entries = splitTopLevel(text.slice(1, -1), ',');
    if (!entries) return ANY;
    const properties: Record<string, Shape> = {};
    for (const entry of entries.map((e) => e.trim()).filter(Boolean)) {
      const pair = splitTopLevel(entry, ':');
      if (!pair) return ANY;
      const key = pair[0]!.trim();
      const name = /^[A-Za-z_][A-Za-z0-9_]*$/.test(key) ? key : /^"([^"\\(]*)"$/.exec(key)?.[1];
      // `$var`, `(expr)` or interpolated keys: the object's keys cannot be known.
      if (name === undefined) return { type: 'object', properties: {}, closed: false };
      properties[name] = pair.length === 1 ? lookup(input, [{ field: name }]).shape : inferJq(pair.slice(1).join(':'), input);
    }
    return { type: 'object', properties, closed: true };
  }
  return ANY;
}

const RUNTIME_EXPRESSION = /^\s*\$\{([\s\S]*)\}\s*$/;

/** The shape of a DSL value: literals as they are, `${ … }` strings as their jq's result. */
function valueShape(value: unknown, input: Shape): Shape {
  if (typeof value === 'string') {
    const inner = RUNTIME_EXPRESSION.exec(value);
    return inner ? inferJq(inner[1]!, input) : STRING;
  }
  if (typeof value === 'number') return { type: 'number' };
  if (typeof value === 'boolean') return { type: 'boolean' };
  if (value === null) return { type: 'null' };
  if (Array.isArray(value)) return { type: 'array', items: ANY };
  if (isRecord(value)) return { type: 'object', properties: Object.fromEntries(Object.entries(value).map(([k, v]) => [k, valueShape(v, input)])), closed: true };
  return ANY;
}

/** What a compiled task outputs, given what it receives (after its own `input.from`). */
function taskOutput(task: DslTask, input: Shape): Shape {
  let raw: Shape = ANY;
  if (isRecord(task.set)) raw = valueShape(task.set, input);
  else if ('switch' in task || 'wait' in task) raw = input;
  else if (isRecord(task.emit) && isRecord(task.emit.event) && isRecord(task.emit.event.with)) {
    raw = cloudEventShape(valueShape(task.emit.event.with.data, input));
  }
  const as = isRecord(task.output) ? task.output.as : undefined;
  return as === undefined ? raw : valueShape(as, raw);
}

// ── the graph ─────────────────────────────────────────────────────────────────

export interface ShapeNode {
  id: string;
  /** The task it compiled to (sources: undefined) and the nested task lists inside it, which belong to other nodes. */
  task: DslTask | undefined;
  nested: ReadonlySet<unknown>;
  outputs: OutputPort[];
  /** Sources: the shape of the CloudEvent they produce, when the catalog knows its type. */
  produces?: Shape;
  /** For list ports: whether the nested list receives this node's input (a try block) or something else (a loop's item). */
  listGetsInput?: (port: string) => boolean;
}

export interface ShapeResult {
  /** node id → the shape of the data it receives, for nodes where it is known. */
  inputs: Map<string, Shape>;
  diagnostics: Diagnostic[];
}

/**
 * Propagates shapes along the edges in topological order; a node whose predecessors disagree,
 * or that sits on a loop, gets `any`.
 */
export function inferShapes(nodes: readonly ShapeNode[], edges: readonly GraphEdge[]): ShapeResult {
  const byId = new Map(nodes.map((n) => [n.id, n]));
  const incoming = new Map<string, GraphEdge[]>();
  for (const edge of edges) if (byId.has(edge.source) && byId.has(edge.target)) incoming.set(edge.target, [...(incoming.get(edge.target) ?? []), edge]);
  const outputOf = new Map<string, Shape>();
  const inputs = new Map<string, Shape>();
  const diagnostics: Diagnostic[] = [];
  const done = new Set<string>();

  const carried = (edge: GraphEdge): Shape => {
    const from = byId.get(edge.source)!;
    const role = from.outputs.find((p) => p.id === (edge.sourcePort ?? 'out'))?.role;
    if (from.task === undefined) return from.produces ?? ANY;
    if (role === 'list') return from.listGetsInput?.(edge.sourcePort ?? 'out') ? (inputs.get(from.id) ?? ANY) : ANY;
    if (role === 'branches') return inputs.get(from.id) ?? ANY;
    return outputOf.get(from.id) ?? ANY;
  };

  let progress = true;
  while (progress) {
    progress = false;
    for (const node of nodes) {
      if (done.has(node.id)) continue;
      const edgesIn = incoming.get(node.id) ?? [];
      if (!edgesIn.every((e) => done.has(e.source))) continue;
      done.add(node.id);
      progress = true;
      if (node.task === undefined) continue;
      const shapes = edgesIn.map(carried);
      const input = shapes.length > 0 && shapes.every((s) => sameShape(s, shapes[0]!)) ? shapes[0]! : ANY;
      if (input.type === 'any') continue;
      inputs.set(node.id, input);
      const from = isRecord(node.task.input) ? node.task.input.from : undefined;
      const effective = from === undefined ? input : valueShape(from, input);
      diagnostics.push(...checkTask(node, input, effective));
      outputOf.set(node.id, taskOutput(node.task, effective));
    }
  }
  return { inputs, diagnostics };
}

/** `output` and `export` read the task's result, `then` is a directive: neither reads the input. */
const NOT_ON_INPUT = new Set(['output', 'export', 'then', 'metadata', 'while']);

/** `catch.when` / `catch.exceptWhen` and those of its inline retry policy read the caught error, not the input. */
function readsCaughtError(path: (string | number)[], key: string): boolean {
  if (key !== 'when' && key !== 'exceptWhen') return false;
  return (path.length === 1 && path[0] === 'catch') || (path.length === 2 && path[0] === 'catch' && path[1] === 'retry');
}

function checkTask(node: ShapeNode, input: Shape, effective: Shape): Diagnostic[] {
  const found: Diagnostic[] = [];
  const check = (value: string, shape: Shape, path: (string | number)[]) => {
    const inner = RUNTIME_EXPRESSION.exec(value)?.[1];
    if (inner === undefined || shape.type === 'any' || jqSyntaxError(inner) !== undefined) return;
    for (const segments of inputPaths(inner)) {
      const { problem } = lookup(shape, segments);
      if (problem) found.push({ severity: problem.severity, code: 'unknown-field', nodeId: node.id, path: ['task', ...path], message: problem.message });
    }
  };
  const visit = (value: unknown, path: (string | number)[]): void => {
    if (node.nested.has(value)) return;
    if (typeof value === 'string') check(value, effective, path);
    else if (Array.isArray(value)) value.forEach((item, i) => visit(item, [...path, i]));
    else if (isRecord(value)) {
      for (const [key, item] of Object.entries(value)) {
        if (NOT_ON_INPUT.has(key) || (path.length === 0 && key === 'input') || readsCaughtError(path, key)) continue;
        visit(item, [...path, key]);
      }
    }
  };
  visit(node.task, []);
  const from = isRecord(node.task!.input) ? node.task!.input.from : undefined;
  if (typeof from === 'string') check(from, input, ['input', 'from']);
  return found;
}

/** The fields known at a node's input, flattened for completion (objects, and array items as `[]`). */
export function fieldsOf(shape: Shape, prefix = '', depth = 0, out: FieldInfo[] = []): FieldInfo[] {
  if (depth > 8 || out.length >= 500) return out;
  if (shape.type === 'object') {
    for (const [key, sub] of Object.entries(shape.properties)) {
      const path = `${prefix}.${key}`;
      out.push({ path, type: sub.type === 'integer' ? 'number' : sub.type });
      fieldsOf(sub, path, depth + 1, out);
    }
  } else if (shape.type === 'array' && shape.items.type !== 'any') {
    fieldsOf(shape.items, `${prefix}[]`, depth + 1, out);
  }
  return out;
}

/** The completion list for expressions of one node: empty where nothing is known. */
export function fieldsAt(result: { fields: Record<string, FieldInfo[]> }, nodeId: string): FieldInfo[] {
  return result.fields[nodeId] ?? [];
}
