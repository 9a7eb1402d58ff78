/**
 * HTTP delivery to a target: CloudEvents binary or structured mode, or plain JSON, over
 * keep-alive connection pools (undici's, sockets reused per origin: its client costs about a
 * quarter less CPU per request than node:http's), with the target's timeout. Which failures are retried is the target's `retryOn`, read from its task
 * (runtime/events/plan.ts): the transient ones (runtime/nodes/retry-policy.ts), or any.
 * Every connection passes the egress policy; a refusal is permanent (the target's address is
 * what it is), so it is not retried but dead-lettered with the policy's reason.
 */
import type { Agent } from 'undici';
import { egressPolicy, egressRefusal, type EgressPolicy } from '../net/egress.ts';
import { isJsonContentType, type CloudEventRecord } from './cloudevent.ts';
import { isRetriedStatus } from '../nodes/retry-policy.ts';
import type { DeliveryOptions, HttpTarget } from './plan.ts';

export type DeliveryOutcome =
  | { ok: true; status: number }
  | { ok: false; retryable: boolean; status?: number; error: string };

interface Request {
  headers: Record<string, string>;
  body: Buffer;
}

/** Header values per the HTTP binding: percent-encode space, `"`, `%` and anything outside printable ASCII. */
function headerValue(value: unknown): string {
  const text = String(value);
  return HEADER_SAFE.test(text) ? text : text.replace(/[^\x21\x23-\x24\x26-\x7e]/gu, (c) => encodeURIComponent(c));
}
const HEADER_SAFE = /^[\x21\x23-\x24\x26-\x7e]*$/;
const NO_BODY = Buffer.alloc(0);

function dataBody(event: CloudEventRecord): { body: Buffer; contentType: string | undefined } {
  if (event.data_base64 !== undefined) return { body: Buffer.from(event.data_base64, 'base64'), contentType: event.datacontenttype };
  if (!('data' in event)) return { body: Buffer.alloc(0), contentType: event.datacontenttype };
  if (typeof event.data === 'string' && !isJsonContentType(event.datacontenttype)) {
    return { body: Buffer.from(event.data), contentType: event.datacontenttype };
  }
  return { body: Buffer.from(JSON.stringify(event.data)), contentType: event.datacontenttype ?? 'application/json' };
}

/** The transformed payload as data: JSON, or text when a template rendered a string. */
function payloadData(payload: unknown): { data: unknown; contentType: string } {
  return typeof payload === 'string' ? { data: payload, contentType: 'text/plain; charset=utf-8' } : { data: payload, contentType: 'application/json' };
}

export function buildRequest(event: CloudEventRecord, payload: unknown, transformed: boolean, format: DeliveryOptions['format']): Request {
  if (format === 'json') {
    const body = payload === undefined || (payload === null && transformed) ? Buffer.alloc(0) : Buffer.from(typeof payload === 'string' && transformed ? payload : JSON.stringify(payload));
    const contentType = typeof payload === 'string' && transformed ? 'text/plain; charset=utf-8' : 'application/json';
    // Plain JSON has no place for the CloudEvent id; the idempotency header lets targets drop repeats.
    return { headers: { 'content-type': contentType, 'idempotency-key': event.id }, body };
  }
  if (format === 'structured') {
    // After a transform, the payload replaces the event's data; its attributes stay.
    let source: CloudEventRecord = event;
    if (transformed) {
      const { data_base64: _b64, data: _old, datacontenttype: _type, ...attributes } = event;
      // A null payload is no body, as the engine sends none for a null `body` (runtime/engine/http.ts).
      if (payload === null || payload === undefined) source = attributes;
      else {
        const { data, contentType } = payloadData(payload);
        source = { ...attributes, datacontenttype: contentType, data };
      }
    }
    return { headers: { 'content-type': 'application/cloudevents+json; charset=utf-8' }, body: Buffer.from(JSON.stringify(source)) };
  }
  // Binary mode: the attributes as headers, the data (or the transformed payload) as the body.
  const headers: Record<string, string> = { 'ce-specversion': '1.0' };
  for (const name in event) {
    if (name === 'specversion' || name === 'data' || name === 'data_base64' || name === 'datacontenttype') continue;
    const value = event[name];
    if (value !== undefined) headers[`ce-${name}`] = headerValue(value);
  }
  let body: Buffer;
  let contentType: string | undefined;
  if (!transformed) ({ body, contentType } = dataBody(event));
  else if (payload === null || payload === undefined) body = NO_BODY;
  else if (typeof payload === 'string') {
    body = Buffer.from(payload);
    contentType = 'text/plain; charset=utf-8';
  } else {
    body = Buffer.from(JSON.stringify(payload));
    contentType = 'application/json';
  }
  if (contentType !== undefined) headers['content-type'] = contentType;
  return { headers, body };
}

/** What a response's status means for the delivery: done, or failed and retried or not, as the target's task says. */
export function responseOutcome(target: HttpTarget, status: number): DeliveryOutcome {
  if (status >= 200 && status < 300) return { ok: true, status };
  return { ok: false, status, retryable: target.delivery.retryOn === 'any' || isRetriedStatus(status), error: `HTTP ${status} from ${target.url}` };
}

interface Endpoint {
  /** `scheme://host[:port]`, without credentials. */
  origin: string;
  /** Path and query. */
  path: string;
  /** The Host header: the URL's host, its port only when not the default. */
  host: string;
  /** Basic authorisation from credentials in the URL. */
  authorization: string | undefined;
}

/**
 * The request's headers as one flat list: the target's, then the request's, a later name
 * replacing an earlier one whatever its case; `host` (the TLS server name too), and
 * `authorization` for credentials in the URL, unless given.
 */
function headerList(endpoint: Endpoint, fixed: Record<string, string>, own: Record<string, string>, length: number): string[] {
  const merged = new Map<string, [string, string]>();
  for (const headers of [fixed, own]) for (const name in headers) merged.set(name.toLowerCase(), [name, headers[name]!]);
  merged.set('content-length', ['content-length', String(length)]);
  const list: string[] = merged.has('host') ? [] : ['Host', endpoint.host];
  if (endpoint.authorization !== undefined && !merged.has('authorization')) list.push('Authorization', endpoint.authorization);
  for (const [name, value] of merged.values()) list.push(name, value);
  return list;
}

const TIMED_OUT = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT']);

export class HttpDeliverer {
  private readonly agent: Agent;
  private readonly endpoints = new Map<string, Endpoint>();

  constructor(policy: EgressPolicy = egressPolicy()) {
    this.agent = policy.undiciAgent({ connections: 128 });
  }

  async send(target: HttpTarget, request: Request): Promise<DeliveryOutcome> {
    const endpoint = this.endpoint(target.url);
    const timeout = target.delivery.timeoutMs;
    try {
      const response = await this.agent.request({
        origin: endpoint.origin,
        path: endpoint.path,
        method: target.method as 'POST',
        headers: headerList(endpoint, target.headers, request.headers, request.body.length),
        body: request.body,
        headersTimeout: timeout,
        bodyTimeout: timeout,
      });
      // Read the body to its end (a long one closes the socket instead) so the connection is reused.
      await response.body.dump();
      return responseOutcome(target, response.statusCode);
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      if (typeof code === 'string' && TIMED_OUT.has(code)) return { ok: false, retryable: true, error: `no response from ${target.url} within ${timeout} ms` };
      return { ok: false, retryable: egressRefusal(error) === undefined, error: (error as Error).message };
    }
  }

  /** A target URL parsed once, not once per delivery (targets are few, deliveries many). */
  private endpoint(url: string): Endpoint {
    let endpoint = this.endpoints.get(url);
    if (!endpoint) {
      const parsed = new URL(url);
      const credentials = parsed.username || parsed.password ? `${decodeURIComponent(parsed.username)}:${decodeURIComponent(parsed.password)}` : undefined;
      endpoint = {
        origin: `${parsed.protocol}//${parsed.host}`,
        path: `${parsed.pathname}${parsed.search}`,
        host: parsed.host,
        authorization: credentials === undefined ? undefined : `Basic ${Buffer.from(credentials).toString('base64')}`,
      };
      // Targets come and go with deployments: a bound keeps a long-lived worker's cache small.
      if (this.endpoints.size >= 1024) this.endpoints.clear();
      this.endpoints.set(url, endpoint);
    }
    return endpoint;
  }

  close(): void {
    void this.agent.destroy();
  }
}

/**
 * Knative's backoff policies (`retry` counts the attempts after the first); the first retry
 * waits `backoffDelay`, then linear adds it each time and exponential doubles it, up to
 * `maxBackoff`; jitter then adds up to `jitter` of the wait (never less than the policy says).
 */
export function backoffMs(options: DeliveryOptions, retryNumber: number, random: () => number = Math.random): number {
  const base = options.backoffDelayMs;
  const delay =
    options.backoffPolicy === 'exponential' ? base * 2 ** Math.min(retryNumber - 1, 40) : options.backoffPolicy === 'linear' ? base * retryNumber : base;
  const capped = Math.min(delay, options.maxBackoffMs);
  return Math.round(capped * (1 + options.jitter * random()));
}
