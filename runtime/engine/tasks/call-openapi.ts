import { WorkflowError } from '../errors.ts';
import { performHttp } from '../http.ts';
import type { TaskRun } from './host.ts';
import type { Json, JsonObject } from '../types.ts';

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];

interface Parameter {
  name: string;
  in: string;
}

function object(value: Json | undefined): JsonObject {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? value : {};
}

/** The base URL of the API: OpenAPI 3 `servers`, or Swagger 2 `schemes`/`host`/`basePath`, relative to the document. */
function baseUrl(doc: JsonObject, documentUrl: string): string {
  const servers = Array.isArray(doc.servers) ? doc.servers : [];
  const first = object(servers[0]);
  if (typeof first.url === 'string') return new URL(first.url, documentUrl).toString().replace(/\/$/, '');
  const at = new URL(documentUrl);
  const scheme = Array.isArray(doc.schemes) && typeof doc.schemes[0] === 'string' ? doc.schemes[0] : at.protocol.replace(':', '');
  const host = typeof doc.host === 'string' ? doc.host : at.host;
  const basePath = typeof doc.basePath === 'string' ? doc.basePath : '';
  return `${scheme}://${host}${basePath}`.replace(/\/$/, '');
}

/**
 * `call: openapi`: finds `operationId` in the document, places each parameter where the
 * operation declares it (path, query, header, body), and performs the HTTP call.
 */
export async function callOpenApi(run: TaskRun, args: JsonObject): Promise<Json> {
  const docSpec = object(args.document);
  const endpoint = docSpec.endpoint ?? docSpec.uri;
  const documentUrl = typeof endpoint === 'string' ? endpoint : String(object(endpoint).uri ?? '');
  const doc = object(await run.host.loadResource(endpoint, run.signal, run.ref));
  const operationId = String(args.operationId ?? '');
  for (const [path, item] of Object.entries(object(doc.paths))) {
    const pathItem = object(item);
    for (const method of METHODS) {
      const operation = object(pathItem[method]);
      if (operation.operationId !== operationId) continue;
      const declared = [...(Array.isArray(pathItem.parameters) ? pathItem.parameters : []), ...(Array.isArray(operation.parameters) ? operation.parameters : [])] as unknown as Parameter[];
      const values = object(args.parameters);
      const query: JsonObject = {};
      const headers: JsonObject = {};
      let resolvedPath = path;
      let body: Json | undefined;
      const used = new Set<string>();
      for (const p of declared) {
        const value = values[p.name];
        if (value === undefined) continue;
        used.add(p.name);
        if (p.in === 'path') resolvedPath = resolvedPath.replace(`{${p.name}}`, encodeURIComponent(String(value)));
        else if (p.in === 'query') query[p.name] = value;
        else if (p.in === 'header') headers[p.name] = value;
        else if (p.in === 'body') body = value;
      }
      if (operation.requestBody !== undefined && body === undefined) {
        const rest = Object.fromEntries(Object.entries(values).filter(([k]) => !used.has(k)));
        body = values.body ?? (Object.keys(rest).length > 0 ? rest : undefined);
      }
      return performHttp(run, {
        method,
        uri: `${baseUrl(doc, documentUrl)}${resolvedPath}`,
        headers,
        query,
        ...(body === undefined ? {} : { body }),
        authentication: args.authentication,
        output: typeof args.output === 'string' ? args.output : undefined,
        redirect: args.redirect === true,
      });
    }
  }
  throw WorkflowError.of('configuration', `task "${run.name}": operation "${operationId}" is not in the OpenAPI document ${documentUrl}`, run.ref);
}
