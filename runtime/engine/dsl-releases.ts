/**
 * What DSL releases after 1.0.0 added (1.0.1–1.0.3, `schema/workflow.yaml` of
 * serverlessworkflow/specification), checked here, so that the 1.0.0 JSON Schema of
 * @serverlessworkflow/sdk can check everything else:
 * - `set` as a runtime expression (1.0.1);
 * - `call: http` with `headers` / `query` as runtime expressions (1.0.1);
 * - `call: mcp` (1.0.2) and `call: a2a` (1.0.2);
 * - a `wait` duration given as a runtime expression (1.0.2, #1120);
 * - `run.script` / `run.shell` with `stdin` and `arguments` as a list (1.0.3, "Simplification
 *   of run:*"), `run.container` with `stdin`, `arguments` and `pullPolicy` (1.0.3).
 *
 * `laterReleaseView` reports problems in those constructs and returns the task as the 1.0.0
 * schema can check it: the construct replaced by a placeholder of the 1.0.0 shape.
 */
import type { TaskKind } from './tasks/index.ts';

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);

/** `^\s*\$\{.+\}\s*$`: the schema's `runtimeExpression`. */
const RUNTIME_EXPRESSION = /^\s*\$\{[\s\S]+\}\s*$/;

export const MCP_METHODS = ['tools/list', 'tools/call', 'prompts/list', 'prompts/get', 'resources/list', 'resources/read', 'resources/templates/list'] as const;
export const A2A_METHODS = [
  'message/send',
  'message/stream',
  'tasks/get',
  'tasks/list',
  'tasks/cancel',
  'tasks/resubscribe',
  'tasks/pushNotificationConfig/set',
  'tasks/pushNotificationConfig/get',
  'tasks/pushNotificationConfig/list',
  'tasks/pushNotificationConfig/delete',
  'agent/getAuthenticatedExtendedCard',
] as const;
const PULL_POLICIES = ['ifNotPresent', 'always', 'never'];

export type Report = (path: string, message: string, expected?: string) => void;

export interface SchemaView {
  /** The SDK type to check the view against. */
  typeName?: string;
  task: Obj;
}

const list = (values: readonly string[]) => values.map((v) => `"${v}"`).join(', ');

function strings(value: unknown, path: string, report: Report, what: string): void {
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'string')) report(path, `${what} must be a list of strings`, 'e.g. [ --verbose, input.json ]');
}

function stringMap(value: unknown, path: string, report: Report): void {
  if (value === undefined) return;
  if (!isObj(value)) report(path, 'must be a map of names to strings', 'e.g. { name: value }');
  else for (const [k, v] of Object.entries(value)) if (typeof v !== 'string') report(`${path}/${k}`, 'must be a string', 'a string value');
}

function known(value: Obj, allowed: string[], path: string, report: Report): void {
  for (const key of Object.keys(value)) if (!allowed.includes(key)) report(`${path}/${key}`, `"${key}" is not a property here`, `one of ${list(allowed)}`);
}

function endpoint(value: unknown, path: string, report: Report): void {
  if (typeof value === 'string') return;
  if (!isObj(value) || typeof value.uri !== 'string') report(path, 'must be a URI or an endpoint object with a uri', 'e.g. https://mcp.example.com or { uri: … }');
}

/** `call: mcp` arguments (dsl-reference.md "MCP Call", "MCP Transport"). */
function mcpArguments(args: unknown, path: string, report: Report): void {
  if (!isObj(args)) {
    report(path, 'call: mcp needs its arguments under with', '{ method, transport, parameters? }');
    return;
  }
  known(args, ['protocolVersion', 'method', 'parameters', 'timeout', 'transport', 'client'], path, report);
  if (!MCP_METHODS.includes(args.method as never)) report(`${path}/method`, `${JSON.stringify(args.method)} is not an MCP method`, `one of ${list(MCP_METHODS)}`);
  if (args.protocolVersion !== undefined && typeof args.protocolVersion !== 'string') report(`${path}/protocolVersion`, 'must be a string', "e.g. '2025-06-18'");
  if (args.parameters !== undefined && !isObj(args.parameters) && typeof args.parameters !== 'string') report(`${path}/parameters`, 'must be an object or a runtime expression', 'e.g. { name: my-tool, arguments: { … } }');
  if (args.client !== undefined && (!isObj(args.client) || typeof args.client.name !== 'string' || typeof args.client.version !== 'string')) {
    report(`${path}/client`, 'must name the client and its version', '{ name, version }');
  }
  const transport = args.transport;
  if (!isObj(transport)) {
    report(`${path}/transport`, 'is required', 'exactly one of http: { endpoint } or stdio: { command }');
    return;
  }
  known(transport, ['http', 'stdio', 'options'], `${path}/transport`, report);
  if ((transport.http === undefined) === (transport.stdio === undefined)) report(`${path}/transport`, 'must have exactly one of http and stdio', 'http: { endpoint } or stdio: { command }');
  if (transport.http !== undefined) {
    const http = transport.http;
    if (!isObj(http)) report(`${path}/transport/http`, 'must be an object', '{ endpoint, headers? }');
    else {
      endpoint(http.endpoint, `${path}/transport/http/endpoint`, report);
      stringMap(http.headers, `${path}/transport/http/headers`, report);
    }
  }
  if (transport.stdio !== undefined) {
    const stdio = transport.stdio;
    if (!isObj(stdio) || typeof stdio.command !== 'string') report(`${path}/transport/stdio`, 'needs the command that starts the server', '{ command, arguments?, environment? }');
    else {
      if (stdio.arguments !== undefined) strings(stdio.arguments, `${path}/transport/stdio/arguments`, report, 'arguments');
      stringMap(stdio.environment, `${path}/transport/stdio/environment`, report);
    }
  }
  stringMap(transport.options, `${path}/transport/options`, report);
}

/** `call: a2a` arguments (dsl-reference.md "A2A Call"). */
function a2aArguments(args: unknown, path: string, report: Report): void {
  if (!isObj(args)) {
    report(path, 'call: a2a needs its arguments under with', '{ method, agentCard? or server?, parameters? }');
    return;
  }
  known(args, ['agentCard', 'server', 'method', 'parameters'], path, report);
  if (!A2A_METHODS.includes(args.method as never)) report(`${path}/method`, `${JSON.stringify(args.method)} is not an A2A method`, `one of ${list(A2A_METHODS)}`);
  if (args.server !== undefined) endpoint(args.server, `${path}/server`, report);
  if (args.parameters !== undefined && !isObj(args.parameters) && typeof args.parameters !== 'string') report(`${path}/parameters`, 'must be an object or a runtime expression', 'e.g. { message: { … } }');
}

/** The task as the 1.0.0 schema can check it, after checking what later releases added. */
export function laterReleaseView(kind: TaskKind, def: Obj, path: string, report: Report): SchemaView {
  const base = (): Obj => {
    const copy: Obj = { ...def };
    for (const key of ['call', 'with', 'set']) delete copy[key];
    return copy;
  };
  switch (kind) {
    case 'set':
      if (typeof def.set !== 'string') return { task: def };
      if (!RUNTIME_EXPRESSION.test(def.set)) report(`${path}/set`, 'a set given as a string must be a runtime expression', 'an object, or ${ … } that evaluates to the new data');
      return { task: { ...def, set: { expression: true } } };
    case 'call': {
      if (def.call === 'mcp' || def.call === 'a2a') {
        if (def.call === 'mcp') mcpArguments(def.with, `${path}/with`, report);
        else a2aArguments(def.with, `${path}/with`, report);
        // Everything but the call itself (if, input, output, timeout, then…) as the task base of a set task.
        return { typeName: 'SetTask', task: { ...base(), set: { call: true } } };
      }
      if (def.call !== 'http' || !isObj(def.with)) return { task: def };
      const args: Obj = { ...def.with };
      for (const key of ['headers', 'query']) {
        if (typeof args[key] !== 'string') continue;
        if (!RUNTIME_EXPRESSION.test(args[key])) report(`${path}/with/${key}`, `${key} given as a string must be a runtime expression`, `a map of strings, or \${ … } that evaluates to one`);
        args[key] = {};
      }
      return { task: { ...def, with: args } };
    }
    case 'run': {
      if (!isObj(def.run)) return { task: def };
      const run: Obj = { ...def.run };
      for (const process of ['container', 'script', 'shell'] as const) {
        if (!isObj(run[process])) continue;
        const spec: Obj = { ...run[process] };
        const at = `${path}/run/${process}`;
        if (spec.stdin !== undefined) {
          if (typeof spec.stdin !== 'string') report(`${at}/stdin`, 'must be a string', 'the text to write to the standard input, or ${ … }');
          delete spec.stdin;
        }
        // 1.0.0 had a map of arguments for script and shell; later releases a list.
        if (Array.isArray(spec.arguments) || (process === 'container' && spec.arguments !== undefined)) {
          strings(spec.arguments, `${at}/arguments`, report, 'arguments');
          delete spec.arguments;
        }
        if (process === 'container' && spec.pullPolicy !== undefined) {
          if (!PULL_POLICIES.includes(spec.pullPolicy as string)) report(`${at}/pullPolicy`, `${JSON.stringify(spec.pullPolicy)} is not a pull policy`, `one of ${list(PULL_POLICIES)}`);
          delete spec.pullPolicy;
        }
        run[process] = spec;
      }
      return { task: { ...def, run } };
    }
    case 'wait':
      // Any string that is not an ISO 8601 duration is left to the schema's own message.
      return typeof def.wait === 'string' && RUNTIME_EXPRESSION.test(def.wait) ? { task: { ...def, wait: 'PT0S' } } : { task: def };
    default:
      return { task: def };
  }
}
