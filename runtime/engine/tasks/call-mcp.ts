/**
 * `call: mcp` (DSL 1.0.2, dsl-reference.md "MCP Call"): one request to a Model Context
 * Protocol server through the `mcp` port, which connects and initializes first. The output
 * is the JSON-RPC result; a failure is a runtime error, as the reference requires.
 */
import { durationMs } from '../duration.ts';
import { WorkflowError } from '../errors.ts';
import type { TaskRun } from './host.ts';
import type { McpRequest } from '../ports.ts';
import type { Json, JsonObject } from '../types.ts';

const isObj = (v: unknown): v is JsonObject => v !== null && typeof v === 'object' && !Array.isArray(v);

function stringMap(value: Json | undefined, what: string, run: TaskRun): Record<string, string> | undefined {
  if (value === undefined || value === null) return undefined;
  if (!isObj(value)) throw WorkflowError.of('configuration', `task "${run.name}": ${what} must be a map of names to strings`, run.ref);
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, typeof v === 'string' ? v : JSON.stringify(v)]));
}

function transportOf(run: TaskRun, transport: Json | undefined): McpRequest['transport'] {
  if (!isObj(transport)) throw WorkflowError.of('configuration', `task "${run.name}": call: mcp needs with.transport (http or stdio)`, run.ref);
  const options = stringMap(transport.options, 'with.transport.options', run);
  if (isObj(transport.http)) {
    const endpoint = transport.http.endpoint;
    const e = typeof endpoint === 'string' ? { uri: endpoint } : isObj(endpoint) ? endpoint : {};
    if (typeof e.uri !== 'string') throw WorkflowError.of('configuration', `task "${run.name}": call: mcp over http needs with.transport.http.endpoint`, run.ref);
    if (e.authentication !== undefined) {
      throw WorkflowError.of('configuration', `task "${run.name}": call: mcp does not apply endpoint authentication; send credentials in with.transport.http.headers`, run.ref);
    }
    const headers = stringMap(transport.http.headers, 'with.transport.http.headers', run);
    return { http: { endpoint: e.uri, ...(headers ? { headers } : {}) }, ...(options ? { options } : {}) };
  }
  if (isObj(transport.stdio)) {
    if (!run.host.allowProcesses) {
      throw WorkflowError.of(
        'configuration',
        `task "${run.name}": call: mcp over stdio starts the server as a process, which is turned off; an operator can enable it (meshflow run --allow-processes, or the worker's allowProcesses option)`,
        run.ref,
        'Process execution disabled',
      );
    }
    const { command, arguments: args } = transport.stdio;
    if (typeof command !== 'string') throw WorkflowError.of('configuration', `task "${run.name}": call: mcp over stdio needs with.transport.stdio.command`, run.ref);
    const environment = stringMap(transport.stdio.environment, 'with.transport.stdio.environment', run);
    return {
      stdio: { command, ...(Array.isArray(args) ? { arguments: args.map(String) } : {}), ...(environment ? { environment } : {}) },
      ...(options ? { options } : {}),
    };
  }
  throw WorkflowError.of('configuration', `task "${run.name}": call: mcp needs with.transport.http or with.transport.stdio`, run.ref);
}

/** `args` are the task's `with`, expressions already evaluated. */
export async function callMcp(run: TaskRun, args: JsonObject): Promise<Json> {
  const host = run.host;
  const port = host.ports.mcp;
  if (!port) throw WorkflowError.of('configuration', `task "${run.name}": call: mcp is not available in this runtime (no MCP client is bound)`, run.ref);
  if (typeof args.method !== 'string') throw WorkflowError.of('configuration', `task "${run.name}": call: mcp needs with.method, e.g. tools/call`, run.ref);
  if (args.parameters !== undefined && args.parameters !== null && !isObj(args.parameters)) {
    throw WorkflowError.of('configuration', `task "${run.name}": with.parameters of call: mcp must evaluate to an object`, run.ref);
  }
  const client = isObj(args.client) && typeof args.client.name === 'string' && typeof args.client.version === 'string' ? { name: args.client.name, version: args.client.version } : undefined;
  const request: McpRequest = {
    method: args.method,
    transport: transportOf(run, args.transport),
    ...(isObj(args.parameters) ? { parameters: args.parameters } : {}),
    ...(typeof args.protocolVersion === 'string' ? { protocolVersion: args.protocolVersion } : {}),
    ...(client ? { client } : {}),
  };
  const timeoutMs = args.timeout === undefined ? undefined : durationMs(args.timeout, run.ref);

  const controller = new AbortController();
  const abort = () => controller.abort(run.signal.reason);
  run.signal.addEventListener('abort', abort, { once: true });
  try {
    const call = port.call(request, controller.signal).then((result) => {
      // A tool that reports an error (`isError`) failed the call, though JSON-RPC succeeded.
      if (request.method === 'tools/call' && isObj(result) && result.isError === true) {
        const text = Array.isArray(result.content) ? result.content.map((c) => (isObj(c) && typeof c.text === 'string' ? c.text : '')).filter(Boolean).join('\n') : '';
        throw WorkflowError.of('runtime', `task "${run.name}": MCP tool ${JSON.stringify(request.parameters?.name ?? '')} reported an error${text ? `: ${text}` : ''}`, run.ref);
      }
      return result;
    });
    if (timeoutMs === undefined) return await call;
    // A call the timeout overtakes is aborted, and its late rejection is expected.
    call.catch(() => undefined);
    const timer = host.ports.timers.sleep(host.now() + timeoutMs, controller.signal).then(() => {
      throw WorkflowError.of('timeout', `task "${run.name}": MCP ${request.method} did not answer within ${timeoutMs} ms`, run.ref);
    });
    // Cancelled once the call settles; that rejection is expected and handled here.
    timer.catch(() => undefined);
    return await Promise.race([call, timer]);
  } catch (error) {
    if (run.signal.aborted) throw run.signal.reason;
    if (error instanceof WorkflowError) throw error;
    throw WorkflowError.of('runtime', `task "${run.name}": MCP ${request.method} failed: ${error instanceof Error ? error.message : String(error)}`, run.ref);
  } finally {
    run.signal.removeEventListener('abort', abort);
    controller.abort();
  }
}
