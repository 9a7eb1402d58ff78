/** External resources (OpenAPI and AsyncAPI documents, schemas, catalog functions), read over the HTTP port. */
import { parse as parseYaml } from 'yaml';
import { resolveAuthentication } from './auth.ts';
import { WorkflowError } from './errors.ts';
import type { TaskHost } from './tasks/host.ts';
import type { Json } from './types.ts';

/** GitHub and GitLab "tree"/"blob" page URLs point at HTML; catalogs need the raw file. */
export function rawContentUrl(uri: string): string {
  const github = /^https:\/\/github\.com\/([^/]+)\/([^/]+)\/(?:tree|blob)\/([^/]+)\/(.*)$/.exec(uri);
  if (github) return `https://raw.githubusercontent.com/${github[1]}/${github[2]}/refs/heads/${github[3]}/${github[4]}`;
  const gitlab = /^(https:\/\/gitlab\.com\/.+?)\/-\/(?:tree|blob)\/(.*)$/.exec(uri);
  if (gitlab) return `${gitlab[1]}/-/raw/${gitlab[2]}`;
  return uri;
}

export async function fetchResource(host: TaskHost, endpoint: unknown, signal: AbortSignal, at: string): Promise<Json> {
  const e = typeof endpoint === 'string' ? { uri: endpoint } : ((endpoint ?? {}) as { uri?: string; endpoint?: unknown; authentication?: unknown });
  if (e.uri === undefined && e.endpoint !== undefined) return fetchResource(host, e.endpoint, signal, at);
  if (typeof e.uri !== 'string') throw WorkflowError.of('configuration', 'an external resource needs an endpoint URI', at);
  const url = rawContentUrl(e.uri);
  const headers: Record<string, string> = { accept: 'application/json, application/yaml, text/yaml, */*' };
  const auth = await resolveAuthentication(host, e.authentication, signal, at);
  if (auth) headers.authorization = `${auth.scheme} ${auth.parameter}`;
  let text: string;
  try {
    const response = await host.ports.http.request({ method: 'GET', url, headers, followRedirects: true }, signal);
    text = new TextDecoder().decode(response.body);
    if (response.status < 200 || response.status > 299) throw new Error(`status ${response.status}`);
  } catch (error) {
    if (signal.aborted) throw signal.reason;
    throw WorkflowError.of('communication', `could not read ${url}: ${(error as Error).message}`, at, 'Communication error');
  }
  try {
    return parseYaml(text) as Json;
  } catch (error) {
    throw WorkflowError.of('configuration', `${url} is neither JSON nor YAML: ${(error as Error).message}`, at);
  }
}
