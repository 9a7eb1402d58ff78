/**
 * Endpoint authentication: basic, bearer, and OAuth2/OIDC client credentials (plus the
 * password grant), inline, by name from `use.authentications`, or from a secret (`use:`).
 */
import { WorkflowError } from './errors.ts';
import type { TaskHost } from './tasks/host.ts';
import type { Json, JsonObject } from './types.ts';

export interface ResolvedAuthorization {
  scheme: string;
  parameter: string;
}

function object(value: unknown): JsonObject {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as JsonObject) : {};
}

/** Policy fields given inline or taken from a secret (`{ use: secretName }`). */
function properties(host: TaskHost, value: unknown, at: string): JsonObject {
  const props = object(value);
  if (typeof props.use === 'string') {
    const secret = host.secrets[props.use];
    if (secret === undefined) throw WorkflowError.of('authorization', `secret "${props.use}" is not available to this workflow`, at, 'Secret not found');
    return object(secret);
  }
  return props;
}

export async function resolveAuthentication(host: TaskHost, policy: unknown, signal: AbortSignal, at: string): Promise<ResolvedAuthorization | undefined> {
  if (policy === undefined || policy === null) return undefined;
  let p = typeof policy === 'string' ? { use: policy } : object(policy);
  if (typeof p.use === 'string' && Object.keys(p).length === 1) {
    const named = host.definition.use?.authentications?.[p.use];
    if (!named) throw WorkflowError.of('configuration', `authentication "${p.use}" is not defined in use.authentications`, at);
    p = object(named);
  }
  if (p.basic !== undefined) {
    const b = properties(host, p.basic, at);
    return { scheme: 'Basic', parameter: Buffer.from(`${String(b.username ?? '')}:${String(b.password ?? '')}`).toString('base64') };
  }
  if (p.bearer !== undefined) {
    const b = typeof p.bearer === 'string' ? { token: p.bearer } : properties(host, p.bearer, at);
    return { scheme: 'Bearer', parameter: String(b.token ?? '') };
  }
  const oauth = p.oauth2 ?? p.oidc;
  if (oauth !== undefined) return { scheme: 'Bearer', parameter: await requestToken(host, properties(host, oauth, at), p.oidc !== undefined, signal, at) };
  throw WorkflowError.of('configuration', `authentication scheme "${Object.keys(p).join(', ')}" is not supported (use basic, bearer, oauth2 or oidc)`, at);
}

async function requestToken(host: TaskHost, o: JsonObject, oidc: boolean, signal: AbortSignal, at: string): Promise<string> {
  const authority = String(o.authority ?? '').replace(/\/$/, '');
  const endpoints = object(o.endpoints);
  let tokenUrl = typeof endpoints.token === 'string' ? endpoints.token : '/oauth2/token';
  if (oidc && endpoints.token === undefined) {
    const discovery = await host.ports.http.request({ method: 'GET', url: `${authority}/.well-known/openid-configuration`, headers: { accept: 'application/json' }, followRedirects: true }, signal);
    const config = JSON.parse(new TextDecoder().decode(discovery.body)) as JsonObject;
    tokenUrl = String(config.token_endpoint ?? tokenUrl);
  }
  const url = /^https?:/.test(tokenUrl) ? tokenUrl : `${authority}${tokenUrl}`;
  const client = object(o.client);
  const grant = String(o.grant ?? 'client_credentials').replace(/-/g, '_');
  const form = new URLSearchParams({ grant_type: grant });
  const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' };
  const clientAuth = String(client.authentication ?? 'client_secret_post');
  if (clientAuth === 'client_secret_basic') {
    headers.authorization = `Basic ${Buffer.from(`${String(client.id ?? '')}:${String(client.secret ?? '')}`).toString('base64')}`;
  } else {
    if (client.id !== undefined) form.set('client_id', String(client.id));
    if (client.secret !== undefined) form.set('client_secret', String(client.secret));
  }
  if (grant === 'password') {
    form.set('username', String(o.username ?? ''));
    form.set('password', String(o.password ?? ''));
  }
  if (Array.isArray(o.scopes)) form.set('scope', o.scopes.join(' '));
  if (Array.isArray(o.audiences)) form.set('audience', o.audiences.join(' '));
  const response = await host.ports.http.request({ method: 'POST', url, headers, body: form.toString(), followRedirects: true }, signal);
  const text = new TextDecoder().decode(response.body);
  if (response.status < 200 || response.status > 299) {
    throw WorkflowError.of('authentication', `the token endpoint ${url} answered ${response.status}: ${text.slice(0, 200)}`, at, 'Authentication failed');
  }
  const token = (JSON.parse(text) as { access_token?: Json }).access_token;
  if (typeof token !== 'string') throw WorkflowError.of('authentication', `the token endpoint ${url} returned no access_token`, at, 'Authentication failed');
  return token;
}
