import { parse as parseYaml } from 'yaml';
import { WorkflowError } from '../errors.ts';
import { expandUriTemplate, performHttp } from '../http.ts';
import type { TaskOutcome, TaskRun } from './host.ts';
import { rawContentUrl } from '../resources.ts';
import type { Json, JsonObject, TaskDefinition } from '../types.ts';
import { callMcp } from './call-mcp.ts';
import { callOpenApi } from './call-openapi.ts';

/** `call`: http, openapi, asyncapi, mcp, or a function from `use.functions` or a catalog (`name:version@catalog`). */
export async function callTask(run: TaskRun): Promise<TaskOutcome> {
  const target = run.def.call as string;
  const args = (await run.host.evaluator.template((run.def.with ?? {}) as Json, run.input, run.vars, run.site('with'))) as JsonObject;
  switch (target) {
    case 'http':
      return { kind: 'completed', output: await callHttp(run, args) };
    case 'openapi':
      return { kind: 'completed', output: await callOpenApi(run, args) };
    case 'asyncapi':
      return { kind: 'completed', output: await callAsyncApi(run, args) };
    case 'mcp':
      return { kind: 'completed', output: await callMcp(run, args) };
    case 'grpc':
    case 'a2a':
      throw WorkflowError.of('configuration', `task "${run.name}": call: ${target} is not supported by this runtime`, run.ref);
    default:
      return callFunction(run, target, args);
  }
}

async function callHttp(run: TaskRun, args: JsonObject): Promise<Json> {
  const endpoint = args.endpoint ?? args.uri;
  const e = typeof endpoint === 'string' ? { uri: endpoint } : ((endpoint ?? {}) as { uri?: string; authentication?: unknown });
  if (typeof e.uri !== 'string') throw WorkflowError.of('configuration', `task "${run.name}": call: http needs with.endpoint`, run.ref);
  return performHttp(run, {
    method: typeof args.method === 'string' ? args.method : 'get',
    uri: expandUriTemplate(e.uri, run.input),
    headers: args.headers,
    query: args.query,
    body: args.body,
    authentication: e.authentication,
    output: typeof args.output === 'string' ? args.output : undefined,
    redirect: args.redirect === true,
  });
}

async function callAsyncApi(run: TaskRun, args: JsonObject): Promise<Json> {
  const port = run.host.ports.asyncapi;
  if (!port) throw WorkflowError.of('configuration', `task "${run.name}": call: asyncapi needs a messaging connector, and none is bound`, run.ref);
  const document = port.document?.(args.document ?? null) ?? (await run.host.loadResource(args.document, run.signal, run.ref));
  const request = {
    document,
    operation: String(args.operation ?? args.operationRef ?? ''),
    ...(typeof args.channel === 'string' ? { channel: args.channel } : {}),
    ...(args.server !== undefined ? { server: args.server } : {}),
    ...(typeof args.protocol === 'string' ? { protocol: args.protocol } : {}),
    ...(args.message !== undefined ? { message: args.message } : {}),
    ...(args.subscription !== undefined ? { subscription: args.subscription } : {}),
    ...(args.authentication !== undefined ? { authentication: args.authentication } : {}),
  };
  if (args.subscription === undefined) {
    await port.publish(request, run.signal);
    return (args.message ?? null) as Json;
  }
  const subscription = args.subscription as { consume?: { amount?: number } };
  const amount = subscription.consume?.amount ?? 1;
  const messages: Json[] = [];
  for await (const message of port.subscribe(request, run.signal)) {
    messages.push(message);
    if (messages.length >= amount) break;
  }
  return messages;
}

const CATALOG_REF = /^([A-Za-z0-9_-]+):([^@]+)@([A-Za-z0-9_-]+)$/;

async function resolveFunction(run: TaskRun, target: string): Promise<TaskDefinition> {
  const own = run.host.definition.use?.functions?.[target];
  if (own) return own;
  if (/^https?:\/\//.test(target)) {
    const fn = await run.host.loadResource(target, run.signal, run.ref);
    return (typeof fn === 'string' ? parseYaml(fn) : fn) as TaskDefinition;
  }
  const m = CATALOG_REF.exec(target);
  if (!m) {
    throw WorkflowError.of(
      'configuration',
      `task "${run.name}": "${target}" is neither http, openapi, asyncapi, grpc, mcp, a2a, a function in use.functions, a catalog function (name:version@catalog) nor the URL of a function definition`,
      run.ref,
    );
  }
  const [, name, version, catalog] = m as unknown as [string, string, string, string];
  const declared = run.host.definition.use?.catalogs?.[catalog];
  if (!declared && catalog === 'default') {
    const fn = await run.host.ports.catalog?.resolve(name, version);
    if (!fn) throw WorkflowError.of('configuration', `function ${name}:${version} is not in the default catalog`, run.ref);
    return fn as TaskDefinition;
  }
  if (!declared) throw WorkflowError.of('configuration', `catalog "${catalog}" is not defined in use.catalogs`, run.ref);
  const endpoint = typeof declared.endpoint === 'string' ? { uri: declared.endpoint } : declared.endpoint;
  const uri = `${rawContentUrl(endpoint.uri).replace(/\/$/, '')}/functions/${name}/${version}/function.yaml`;
  const fn = await run.host.loadResource({ ...endpoint, uri }, run.signal, run.ref);
  return (typeof fn === 'string' ? parseYaml(fn) : fn) as TaskDefinition;
}

/** A function is a task definition run with the call's `with` as its input. */
async function callFunction(run: TaskRun, target: string, args: JsonObject): Promise<TaskOutcome> {
  const fn = await resolveFunction(run, target);
  const ref = `${run.ref}/function`;
  const outcome = await run.host.runTask(target, fn, ref, args, run.vars, run.signal);
  run.host.commit(ref, outcome);
  return { kind: 'completed', output: outcome.output };
}
