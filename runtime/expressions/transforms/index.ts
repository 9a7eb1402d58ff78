/**
 * Event transforms, compiled once at deploy time into `(event) => output`:
 * - `original`: the event as it came;
 * - `constant`: a fixed value;
 * - `template`: EventMesh's template transformer — a map of names to JSONPath expressions
 *   over the whole event (values not starting with `$` are constants), rendered into a
 *   template through `${name}` placeholders (`$${` writes a literal `${`);
 * - `jq`: a jq expression over the event; the output is its first result (null if none).
 *
 * EventMesh's own definitions (`{"transformerType": "template", "value": "<JSON map>",
 * "template": "…"}`, `content` for constants) are accepted as they are, so its
 * configurations carry over.
 */
import { JSONPath } from 'jsonpath-plus';
import { z } from 'zod';
import { FAST_PATH_MISS, compileFast } from '../jq-fast.ts';
import { JqEvaluationError, loadJqRuntime, type JqRuntime, type JqValue } from '../jq.ts';
import { DefinitionError, describeJson, isPlainObject, pointer, type DefinitionIssue } from '../filters/issues.ts';

export type TransformDefinition =
  | { kind: 'original' }
  | { kind: 'constant'; value: unknown }
  | { kind: 'template'; values: Record<string, string>; template: string }
  | { kind: 'jq'; expression: string };

export type TransformEvent = Readonly<Record<string, unknown>>;
export type EventTransform = (event: TransformEvent) => unknown;

/** Raised per event when a JSONPath or jq expression fails on that event. */
export class TransformError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TransformError';
  }
}

const PLACEHOLDER = /\$\$\{|\$\{([^}]*)\}/g;
const NAME = /^[A-Za-z0-9_.-]+$/;
// Path segments that need no JSONPath engine: plain member names and indices.
const PLAIN_SEGMENT = /^[^*@?()[\]:,$.'"]+$/;

type Piece = string | { name: string };

/** Accepts EventMesh's `transformerType` form and returns ours, or the input untouched. */
function fromEventMesh(definition: Record<string, unknown>): unknown {
  const type = definition.transformerType;
  if (typeof type !== 'string') return definition;
  switch (type.toLowerCase()) {
    case 'original':
      return { kind: 'original' };
    case 'constant':
      return { kind: 'constant', value: definition.content };
    case 'template': {
      let values = definition.value;
      if (typeof values === 'string') {
        try {
          values = JSON.parse(values);
        } catch {
          // Left as a string: validation below reports it in our terms.
        }
      }
      return { kind: 'template', values, template: definition.template };
    }
    default:
      return { kind: type };
  }
}

/** The first `?(…)` or `(…)` segment of a JSONPath (code jsonpath-plus would evaluate), if any. */
function scriptSegment(path: string): string | undefined {
  try {
    return JSONPath.toPathArray(path).find((segment) => /^\??\(/.test(segment));
  } catch {
    return undefined;
  }
}

function compileJsonPath(path: string): (event: TransformEvent) => unknown {
  const segments = JSONPath.toPathArray(path).slice(1);
  if (segments.every((s) => PLAIN_SEGMENT.test(s))) {
    return (event) => {
      let node: unknown = event;
      for (const segment of segments) {
        if (typeof node !== 'object' || node === null) return undefined;
        node = (node as Record<string, unknown>)[segment];
      }
      return node;
    };
  }
  return (event) => {
    try {
      // Never evaluate script or filter expressions (`?(…)`, `(…)`): they are refused at compile time too.
      return JSONPath({ path, json: event as object, wrap: false, eval: false });
    } catch (error) {
      throw new TransformError(`JSONPath ${path}: ${(error as Error).message}`);
    }
  };
}

function render(value: unknown): string {
  if (value === undefined || value === null) return 'null';
  return typeof value === 'string' ? value : JSON.stringify(value);
}

class TransformCompiler {
  readonly issues: DefinitionIssue[] = [];

  constructor(private readonly jq: JqRuntime | undefined) {}

  private issue(path: string, message: string): undefined {
    this.issues.push({ path, message });
    return undefined;
  }

  compile(input: unknown): EventTransform | undefined {
    if (!isPlainObject(input)) return this.issue('', `a transform must be an object such as {"kind": "original"}, got ${describeJson(input)}`);
    const definition = fromEventMesh(input);
    if (!isPlainObject(definition)) return undefined;
    switch (definition.kind) {
      case 'original':
        return (event) => event;
      case 'constant': {
        if (!('value' in definition) || definition.value === undefined) return this.issue('/value', 'a constant transform needs a value');
        const value = definition.value;
        return () => value;
      }
      case 'template':
        return this.compileTemplate(definition.values, definition.template);
      case 'jq':
        return this.compileJq(definition.expression);
      default:
        return this.issue('/kind', `unknown transform kind ${describeJson(definition.kind)}; expected original, constant, template or jq`);
    }
  }

  private compileTemplate(values: unknown, template: unknown): EventTransform | undefined {
    const before = this.issues.length;
    const lookups = new Map<string, (event: TransformEvent) => unknown>();
    if (!isPlainObject(values)) {
      this.issue('/values', `values must be an object of names to JSONPath expressions, got ${describeJson(values)}`);
    } else {
      for (const [name, path] of Object.entries(values)) {
        const at = pointer('/values', name);
        if (!NAME.test(name)) this.issue(at, `"${name}" is not a usable name (letters, digits, _ . -)`);
        else if (typeof path !== 'string') this.issue(at, `expected a JSONPath string such as "$.data.id", got ${describeJson(path)}`);
        else if (path.startsWith('$') && scriptSegment(path) !== undefined) {
          this.issue(at, `JSONPath script and filter expressions such as ${scriptSegment(path)} are not supported; use plain paths ($.data.items[0].id, $..id, [*])`);
        } else if (path.startsWith('$')) lookups.set(name, compileJsonPath(path));
        else lookups.set(name, () => path);
      }
    }
    if (typeof template !== 'string') return this.issue('/template', `template must be a string, got ${describeJson(template)}`);
    const pieces: Piece[] = [];
    let last = 0;
    for (const match of template.matchAll(PLACEHOLDER)) {
      pieces.push(template.slice(last, match.index));
      last = match.index + match[0].length;
      if (match[0] === '$${') {
        pieces.push('${');
        continue;
      }
      const name = match[1] as string;
      if (!lookups.has(name) && isPlainObject(values)) {
        this.issue('/template', `\${${name}} at ${match.index} names no entry of values (${[...lookups.keys()].join(', ') || 'none'})`);
      }
      pieces.push({ name });
    }
    pieces.push(template.slice(last));
    if (this.issues.length !== before) return undefined;
    const parts = pieces
      .filter((p) => p !== '')
      .map((p) => (typeof p === 'string' ? () => p : (lookups.get(p.name) as (event: TransformEvent) => unknown)));
    return (event) => {
      let out = '';
      for (const part of parts) out += render(part(event));
      return out;
    };
  }

  private compileJq(expression: unknown): EventTransform | undefined {
    if (typeof expression !== 'string' || expression.trim() === '') {
      return this.issue('/expression', `expression must be a jq expression string, got ${describeJson(expression)}`);
    }
    const runtime = this.jq;
    // Only validateTransform runs without a runtime; it checks shapes, not jq syntax.
    if (!runtime) return () => null;
    const syntaxError = runtime.syntaxError(expression);
    if (syntaxError) return this.issue('/expression', syntaxError);
    const noVariables = () => undefined;
    const fast = compileFast(expression);
    const slow = (event: TransformEvent) => {
      try {
        return runtime.run(expression, event as JqValue, noVariables)[0] ?? null;
      } catch (error) {
        if (error instanceof JqEvaluationError) throw new TransformError(`jq ${expression}: ${error.message}`);
        throw error;
      }
    };
    if (!fast) return slow;
    return (event) => {
      try {
        return fast(event as JqValue, noVariables);
      } catch (error) {
        if (error === FAST_PATH_MISS) return slow(event);
        throw error;
      }
    };
  }
}

function usesJq(definition: unknown): boolean {
  return isPlainObject(definition) && definition.kind === 'jq';
}

/** Every problem in a transform definition; jq syntax is checked by compileTransform. */
export function validateTransform(definition: unknown): DefinitionIssue[] {
  const compiler = new TransformCompiler(undefined);
  compiler.compile(definition);
  return compiler.issues;
}

/** Compiles a transform; throws DefinitionError listing every problem. Async because jq loads WebAssembly. */
export async function compileTransform(definition: unknown): Promise<EventTransform> {
  const compiler = new TransformCompiler(usesJq(definition) ? await loadJqRuntime() : undefined);
  const transform = compiler.compile(definition);
  if (!transform || compiler.issues.length > 0) throw new DefinitionError('transform', compiler.issues);
  return transform;
}

export const transformDefinitionSchema = z.custom<TransformDefinition>().superRefine((value, ctx) => {
  for (const issue of validateTransform(value)) {
    ctx.addIssue({ code: 'custom', message: issue.message, path: issue.path.split('/').slice(1) });
  }
});
