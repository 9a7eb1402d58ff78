/** The HTTP exchange behind `call: http` and `call: openapi`: request building, status rules, output shapes. */
import { resolveAuthentication } from './auth.ts';
import { WorkflowError } from './errors.ts';
import type { TaskRun } from './tasks/host.ts';
import type { HttpResponse } from './ports.ts';
import type { Json, JsonObject } from './types.ts';

export interface HttpCall {
  method: string;
  uri: string;
  headers?: Json;
  query?: Json;
  body?: Json;
  authentication?: unknown;
  output?: string;
  redirect?: boolean;
}

const decoder = new TextDecoder();

/** RFC 6570 simple expansion (`{petId}`) from the top level of the task input. */
export function expandUriTemplate(uri: string, input: Json): string {
  if (!uri.includes('{')) return uri;
  const values = input !== null && typeof input === 'object' && !Array.isArray(input) ? input : {};
  return uri.replace(/\{([A-Za-z0-9_.]+)\}/g, (_, name: string) => {
    const value = values[name];
    return value === undefined || value === null ? '' : encodeURIComponent(typeof value === 'string' ? value : JSON.stringify(value));
  });
}

function stringMap(value: Json | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    for (const [k, v] of Object.entries(value)) if (v !== null && v !== undefined) out[k] = typeof v === 'string' ? v : JSON.stringify(v);
  }
  return out;
}

function lowerKeys(headers: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
}

/** A response body as JSON when it says it is JSON (or looks like it), else text. */
export function decodeBody(response: HttpResponse): Json {
  const text = decoder.decode(response.body);
  const type = response.headers['content-type'] ?? '';
  if (/[/+]json\b/.test(type) || (type === '' && /^\s*[[{"]/.test(text))) {
    try {
      return JSON.parse(text) as Json;
    } catch {
      return text;
    }
  }
  return text;
}

export async function performHttp(run: TaskRun, call: HttpCall): Promise<Json> {
  const host = run.host;
  const url = new URL(call.uri);
  for (const [k, v] of Object.entries(stringMap(call.query))) url.searchParams.append(k, v);
  const headers = lowerKeys(stringMap(call.headers));
  const auth = await resolveAuthentication(host, call.authentication, run.signal, run.ref);
  if (auth) {
    headers.authorization = `${auth.scheme} ${auth.parameter}`;
    run.authorize(auth.scheme, auth.parameter);
  }
  let body: string | undefined;
  if (call.body !== undefined && call.body !== null) {
    if (typeof call.body === 'string' && !/json/.test(headers['content-type'] ?? '')) body = call.body;
    else {
      body = JSON.stringify(call.body);
      headers['content-type'] ??= 'application/json';
    }
  }
  const method = call.method.toUpperCase();
  const redirect = call.redirect === true;
  let response: HttpResponse;
  try {
    response = await host.ports.http.request({ method, url: url.toString(), headers, ...(body === undefined ? {} : { body }), followRedirects: redirect }, run.signal);
  } catch (error) {
    if (run.signal.aborted) throw run.signal.reason;
    // The runtime's egress policy refused the address: not a failure retrying can change, so not a
    // communication error (which a target's retry catches) but an authorization one.
    if ((error as { code?: unknown }).code === 'EGRESS_REFUSED') {
      throw WorkflowError.of('authorization', `${method} ${url} refused: ${(error as Error).message}`, run.ref, 'Refused by the egress policy');
    }
    throw WorkflowError.of('communication', `${method} ${url} failed: ${(error as Error).message}`, run.ref, 'Communication error');
  }
  const ceiling = redirect ? 399 : 299;
  if (response.status < 200 || response.status > ceiling) {
    const content = decodeBody(response);
    throw new WorkflowError({
      type: WorkflowError.of('communication', '').problem.type,
      status: response.status,
      title: `HTTP ${response.status}`,
      detail: `${method} ${url} answered ${response.status}${typeof content === 'string' && content ? `: ${content.slice(0, 300)}` : ''}`,
      instance: run.ref,
      response: { statusCode: response.status, headers: response.headers, content },
    });
  }
  switch (call.output ?? 'content') {
    case 'raw':
      return Buffer.from(response.body).toString('base64');
    case 'response':
      return {
        request: { method, uri: url.toString(), headers: headers as JsonObject },
        statusCode: response.status,
        headers: response.headers as JsonObject,
        content: decodeBody(response),
      };
    default:
      return decodeBody(response);
  }
}
