/**
 * Validation of a workflow document of any DSL 1.0.x release: the DSL 1.0.0 JSON Schema
 * (through @serverlessworkflow/sdk, task by task so that one bad task does not hide the
 * others), what later 1.0.x releases added (dsl-releases.ts), plus what the schema cannot
 * say — flow directives to tasks that do not exist, jq syntax, references into `use`.
 * Every problem is reported at once, each with its JSON pointer and what would be valid.
 * The compiler, the studio and the CLI all call `validateWorkflow`.
 */
import { loadJqRuntime, type JqRuntime } from '../expressions/jq.ts';
import { laterReleaseView } from './dsl-releases.ts';
import { enclosedExpression } from './evaluation.ts';
import { parseWorkflowText, type Diagnostic } from './load.ts';
import { taskKind, type TaskKind } from './tasks/index.ts';
import type { WorkflowDocument } from './types.ts';

export type { Diagnostic } from './load.ts';

type Obj = Record<string, unknown>;

const TASK_TYPES = 'call, do, emit, for, fork, listen, raise, run, set, switch, try or wait';
const FLOW_KEYWORDS = ['continue', 'exit', 'end'];
const BUILTIN_CALLS = ['http', 'openapi', 'asyncapi', 'grpc', 'mcp', 'a2a'];
const NAME = /^[a-z0-9](-?[a-z0-9])*$/;
const CATALOG_REF = /^([A-Za-z0-9_-]+):([^@]+)@([A-Za-z0-9_-]+)$/;
/** A function called by the URL of its definition file (dsl-reference: call, custom functions). */
const FUNCTION_URL = /^https?:\/\//;
/** Keys of a task that hold nested task lists, walked as lists rather than as values. */
const NESTED = new Set(['do', 'try', 'catch', 'fork', 'foreach']);

const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);

interface SdkModule {
  validate(typeName: string, data: unknown): void;
}

let sdkLoading: Promise<SdkModule> | undefined;

/** The SDK costs ~1.5 s to import (it compiles its validators eagerly): load it once, on first use. */
function loadSdk(): Promise<SdkModule> {
  sdkLoading ??= import('@serverlessworkflow/sdk').then((mod) => ((mod as { default?: SdkModule }).default ?? mod) as SdkModule);
  return sdkLoading;
}

const SDK_TASK_TYPES: Record<TaskKind, string> = {
  call: 'CallTask',
  do: 'DoTask',
  emit: 'EmitTask',
  for: 'ForTask',
  fork: 'ForkTask',
  listen: 'ListenTask',
  raise: 'RaiseTask',
  run: 'RunTask',
  set: 'SetTask',
  switch: 'SwitchTask',
  try: 'TryTask',
  wait: 'WaitTask',
};

const STUB_LIST = [{ stub: { set: { stub: true } } }];

/** The task with its nested task lists replaced by a stub, so the schema checks only this level. */
function shallowTask(kind: TaskKind, def: Obj): Obj {
  const copy: Obj = { ...def };
  if (kind === 'do' || kind === 'for') copy.do = STUB_LIST;
  if (kind === 'try') {
    copy.try = STUB_LIST;
    if (isObj(def.catch) && def.catch.do !== undefined) copy.catch = { ...def.catch, do: STUB_LIST };
  }
  if (kind === 'fork' && isObj(def.fork)) copy.fork = { ...def.fork, branches: STUB_LIST };
  if (kind === 'listen' && isObj(def.foreach) && def.foreach.do !== undefined) copy.foreach = { ...def.foreach, do: STUB_LIST };
  return copy;
}

/** Turns the SDK's one-error-text into diagnostics, one per document location. */
function sdkDiagnostics(sdk: SdkModule, typeName: string, data: unknown, base: string): Diagnostic[] {
  try {
    sdk.validate(typeName, data);
    return [];
  } catch (error) {
    const text = error instanceof Error ? error.message : String(error);
    const byPath = new Map<string, { messages: Set<string>; expected: Set<string> }>();
    for (const line of text.split('\n\ndata:')[0]!.split('\n')) {
      const m = /^- (\S*) \| (\S*) \| ([^|]+?) \| (.*)$/.exec(line);
      if (!m) continue;
      const [, path, , message, params] = m as unknown as [string, string, string, string, string];
      if (/must match (exactly one|a) schema in (oneOf|anyOf)|must NOT be valid/.test(message)) continue;
      // `call: http` failing on its arguments also fails the other call kinds' constants: noise.
      if (path.endsWith('/call') && isObj(data) && BUILTIN_CALLS.includes(String(data.call))) continue;
      const entry = byPath.get(path) ?? { messages: new Set<string>(), expected: new Set<string>() };
      byPath.set(path, entry);
      let parsed: Obj = {};
      try {
        parsed = JSON.parse(params) as Obj;
      } catch {
        // Parameters are informative only.
      }
      if (Array.isArray(parsed.allowedValues)) parsed.allowedValues.forEach((v) => entry.expected.add(JSON.stringify(v)));
      else if (parsed.allowedValue !== undefined) entry.expected.add(JSON.stringify(parsed.allowedValue));
      else if (message.includes('must match pattern "^P(')) entry.messages.add('must be an ISO 8601 duration (e.g. PT30S) or an object of days, hours, minutes, seconds, milliseconds');
      else entry.messages.add(message.trim());
    }
    if (byPath.size === 0) return [{ path: base || '/', message: text.split('\n')[0]! }];
    return [...byPath].map(([path, { messages, expected }]) => ({
      path: `${base}${path}` || '/',
      message: messages.size > 0 ? [...messages].filter((m) => messages.size === 1 || m !== 'must be object').join('; ') : 'has a value that is not allowed',
      ...(expected.size > 0 ? { expected: `one of ${[...expected].join(', ')}` } : {}),
    }));
  }
}

class Checker {
  readonly diagnostics: Diagnostic[] = [];

  constructor(
    private readonly doc: WorkflowDocument,
    private readonly jq: JqRuntime,
    private readonly sdk: SdkModule | undefined,
  ) {}

  report(path: string, message: string, expected?: string): void {
    this.diagnostics.push({ path, message, ...(expected === undefined ? {} : { expected }) });
  }

  expression(source: unknown, path: string): void {
    if (typeof source !== 'string') return;
    const expression = enclosedExpression(source) ?? source.trim();
    const problem = this.jq.syntaxError(expression);
    if (problem) this.report(path, `jq syntax error in \`${expression}\`: ${problem.split('\n')[0]}`, 'a jq expression');
  }

  /** `${ … }` strings anywhere inside a value. */
  templates(value: unknown, path: string): void {
    if (typeof value === 'string') {
      if (enclosedExpression(value) !== undefined) this.expression(value, path);
    } else if (Array.isArray(value)) value.forEach((v, i) => this.templates(v, `${path}/${i}`));
    else if (isObj(value)) for (const [k, v] of Object.entries(value)) this.templates(v, `${path}/${k}`);
  }

  flow(target: unknown, siblings: string[], path: string): void {
    if (target === undefined || typeof target !== 'string') return;
    if (FLOW_KEYWORDS.includes(target) || siblings.includes(target)) return;
    this.report(path, `flows to "${target}", which is not a task of this list`, `continue, exit, end${siblings.length ? ` or one of ${siblings.map((s) => `"${s}"`).join(', ')}` : ''}`);
  }

  reference(name: unknown, section: 'errors' | 'retries' | 'timeouts' | 'authentications' | 'functions' | 'catalogs', path: string): void {
    if (typeof name !== 'string') return;
    const declared = Object.keys((this.doc.use?.[section] ?? {}) as Obj);
    if (!declared.includes(name)) this.report(path, `"${name}" is not defined in use.${section}`, declared.length ? `one of ${declared.map((d) => `"${d}"`).join(', ')}` : `an entry declared under use.${section}`);
  }

  authentication(value: unknown, path: string): void {
    if (typeof value === 'string') this.reference(value, 'authentications', path);
    else if (isObj(value) && typeof value.use === 'string' && Object.keys(value).length === 1) this.reference(value.use, 'authentications', `${path}/use`);
  }

  list(list: unknown, path: string): void {
    if (!Array.isArray(list) || list.length === 0) {
      this.report(path, 'must be a non-empty list of tasks', 'a list of single-key objects: - taskName: { …task… }');
      return;
    }
    const names: string[] = [];
    list.forEach((item, i) => {
      const keys = isObj(item) ? Object.keys(item) : [];
      if (keys.length !== 1) this.report(`${path}/${i}`, 'each list entry must name exactly one task', '- taskName: { …task… }');
      else if (names.includes(keys[0]!)) this.report(`${path}/${i}/${keys[0]}`, `task name "${keys[0]}" is used twice in this list`, 'names unique within their list');
      if (keys.length === 1) names.push(keys[0]!);
    });
    list.forEach((item, i) => {
      if (!isObj(item) || Object.keys(item).length !== 1) return;
      const [name, def] = Object.entries(item)[0]!;
      this.task(name, def, `${path}/${i}/${name}`, names);
    });
  }

  task(name: string, def: unknown, path: string, siblings: string[]): void {
    if (!isObj(def)) {
      this.report(path, `task "${name}" must be an object`, `a task: ${TASK_TYPES}`);
      return;
    }
    const kind = taskKind(def);
    if (!kind) {
      this.report(path, `task "${name}" has no task type`, `exactly one of ${TASK_TYPES}`);
      return;
    }
    // Constructs of DSL releases after 1.0.0 are checked here; the SDK's 1.0.0 schema checks the rest.
    const view = laterReleaseView(kind, def, path, (at, message, expected) => this.report(at, message, expected));
    if (this.sdk) this.diagnostics.push(...sdkDiagnostics(this.sdk, view.typeName ?? SDK_TASK_TYPES[kind], shallowTask(kind, view.task), path));
    this.flow(def.then, siblings, `${path}/then`);
    this.expression(def.if, `${path}/if`);
    for (const key of ['input', 'output', 'export'] as const) {
      const section = def[key];
      if (!isObj(section)) continue;
      const field = key === 'input' ? 'from' : 'as';
      if (typeof section[field] === 'string') this.expression(section[field], `${path}/${key}/${field}`);
      else this.templates(section[field], `${path}/${key}/${field}`);
    }
    if (typeof def.timeout === 'string') this.reference(def.timeout, 'timeouts', `${path}/timeout`);
    for (const [key, value] of Object.entries(def)) {
      if (!NESTED.has(key) && !['if', 'input', 'output', 'export', 'switch'].includes(key)) this.templates(value, `${path}/${key}`);
    }
    switch (kind) {
      case 'do':
        this.list(def.do, `${path}/do`);
        break;
      case 'for':
        if (isObj(def.for)) this.expression(def.for.in, `${path}/for/in`);
        this.expression(def.while, `${path}/while`);
        this.list(def.do, `${path}/do`);
        break;
      case 'fork':
        if (isObj(def.fork)) this.list(def.fork.branches, `${path}/fork/branches`);
        break;
      case 'try': {
        this.list(def.try, `${path}/try`);
        const c = def.catch;
        if (isObj(c)) {
          this.expression(c.when, `${path}/catch/when`);
          this.expression(c.exceptWhen, `${path}/catch/exceptWhen`);
          if (typeof c.retry === 'string') this.reference(c.retry, 'retries', `${path}/catch/retry`);
          else if (isObj(c.retry)) {
            this.expression(c.retry.when, `${path}/catch/retry/when`);
            this.expression(c.retry.exceptWhen, `${path}/catch/retry/exceptWhen`);
          }
          if (c.do !== undefined) this.list(c.do, `${path}/catch/do`);
        }
        break;
      }
      case 'switch':
        if (Array.isArray(def.switch)) {
          def.switch.forEach((item, i) => {
            if (!isObj(item)) return;
            for (const [caseName, c] of Object.entries(item)) {
              if (!isObj(c)) continue;
              this.expression(c.when, `${path}/switch/${i}/${caseName}/when`);
              this.flow(c.then, siblings, `${path}/switch/${i}/${caseName}/then`);
            }
          });
        }
        break;
      case 'raise':
        if (isObj(def.raise) && typeof def.raise.error === 'string') this.reference(def.raise.error, 'errors', `${path}/raise/error`);
        break;
      case 'call': {
        const target = def.call;
        const args = isObj(def.with) ? def.with : {};
        if (isObj(args.endpoint)) this.authentication(args.endpoint.authentication, `${path}/with/endpoint/authentication`);
        if (args.authentication !== undefined) this.authentication(args.authentication, `${path}/with/authentication`);
        if (typeof target === 'string' && !BUILTIN_CALLS.includes(target)) {
          const catalog = CATALOG_REF.exec(target);
          if (catalog) {
            if (catalog[3] !== 'default') this.reference(catalog[3], 'catalogs', `${path}/call`);
          } else if (!FUNCTION_URL.test(target)) this.reference(target, 'functions', `${path}/call`);
        }
        break;
      }
      case 'listen':
        if (isObj(def.foreach) && def.foreach.do !== undefined) this.list(def.foreach.do, `${path}/foreach/do`);
        break;
      default:
        break;
    }
  }

  workflow(): void {
    const doc = this.doc as unknown as Obj;
    const header = doc.document;
    if (!isObj(header)) this.report('/document', 'is missing', "document: { dsl: '1.0.3', namespace, name, version }");
    else {
      if (typeof header.dsl !== 'string' || !/^1\.0\.\d+$/.test(header.dsl)) this.report('/document/dsl', `DSL version ${JSON.stringify(header.dsl)} is not supported`, "a DSL 1.0.x release, e.g. '1.0.3'");
      for (const key of ['namespace', 'name'] as const) {
        if (typeof header[key] !== 'string' || !NAME.test(header[key])) this.report(`/document/${key}`, `${JSON.stringify(header[key])} is not a valid ${key}`, 'lowercase letters, digits and single hyphens, e.g. order-events');
      }
      if (typeof header.version !== 'string') this.report('/document/version', 'is missing', "a semantic version, e.g. '1.0.0'");
    }
    const evaluate = doc.evaluate;
    if (isObj(evaluate) && evaluate.language !== undefined && evaluate.language !== 'jq') this.report('/evaluate/language', `expression language "${String(evaluate.language)}" is not supported`, 'jq');
    if (isObj(doc.input)) this.expression(doc.input.from, '/input/from');
    if (isObj(doc.output)) this.expression(doc.output.as, '/output/as');
    if (typeof doc.timeout === 'string') this.reference(doc.timeout, 'timeouts', '/timeout');
    if (this.sdk) {
      // The workflow shell (document, use, input, output, schedule…) against the schema, its tasks stubbed.
      const shell = { ...doc, document: isObj(header) ? { ...header, dsl: '1.0.0' } : header, do: STUB_LIST };
      this.diagnostics.push(...sdkDiagnostics(this.sdk, 'Workflow', shell, '').filter((d) => !d.path.startsWith('/do')));
    }
    this.list(doc.do, '/do');
    if (isObj(doc.use) && isObj(doc.use.functions)) {
      for (const [name, fn] of Object.entries(doc.use.functions)) this.task(name, fn, `/use/functions/${name}`, []);
    }
  }
}

/** Every problem of a parsed document (an empty list means valid). */
export async function validateWorkflow(document: unknown, options: { schema?: boolean } = {}): Promise<Diagnostic[]> {
  if (!isObj(document)) return [{ path: '', message: 'a workflow document must be an object', expected: 'document:, do: and optionally use:, input:, output:, timeout:, schedule:' }];
  const [jq, sdk] = await Promise.all([loadJqRuntime(), options.schema === false ? undefined : loadSdk()]);
  const checker = new Checker(document as unknown as WorkflowDocument, jq, sdk);
  checker.workflow();
  const seen = new Set<string>();
  return checker.diagnostics.filter((d) => {
    const key = `${d.path}\u0000${d.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** Parses YAML/JSON text and validates it: the document when valid, and every problem otherwise. */
export async function loadWorkflow(text: string, options: { schema?: boolean } = {}): Promise<{ document?: WorkflowDocument; diagnostics: Diagnostic[] }> {
  const parsed = parseWorkflowText(text);
  if (parsed.diagnostics.length > 0) return { diagnostics: parsed.diagnostics };
  const diagnostics = await validateWorkflow(parsed.value, options);
  return diagnostics.length > 0 ? { diagnostics } : { document: parsed.value as WorkflowDocument, diagnostics };
}

export function formatDiagnostics(diagnostics: Diagnostic[]): string {
  return diagnostics.map((d) => `${d.path || '/'}: ${d.message}${d.expected ? ` (expected ${d.expected})` : ''}`).join('\n');
}
