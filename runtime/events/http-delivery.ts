/**
 * HTTP delivery to a target: CloudEvents binary or structured mode, or plain JSON, over
 * keep-alive connection pools (one agent per protocol, sockets reused per origin), with the
 * target's timeout. Which failures are retried is the target's `retryOn`, read from its task
 * (runtime/events/plan.ts): the transient ones (runtime/nodes/retry-policy.ts), or any.
 * Every connection passes the egress policy; a refusal is permanent (the target's address is
 * what it is), so it is not retried but dead-lettered with the policy's reason.
 */
import http from 'node:http';
import https from 'node:https';
import { isIP } from 'node:net';
import { urlToHttpOptions } from 'node:url';
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
  return String(value).replace(/[^\x21\x23-\x24\x26-\x7e]/gu, (c) => encodeURIComponent(c));
}

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
  if (format === 'structured') {
    return { headers: { 'content-type': 'application/cloudevents+json; charset=utf-8' }, body: Buffer.from(JSON.stringify(source)) };
  }
  const headers: Record<string, string> = { 'ce-specversion': '1.0' };
  for (const [name, value] of Object.entries(source)) {
    if (name === 'specversion' || name === 'data' || name === 'data_base64' || name === 'datacontenttype' || value === undefined) continue;
    headers[`ce-${name}`] = headerValue(value);
  }
  const { body, contentType } = dataBody(source);
  if (contentType !== undefined) headers['content-type'] = contentType;
  return { headers, body };
}

/** What a response's status means for the delivery: done, or failed and retried or not, as the target's task says. */
export function responseOutcome(target: HttpTarget, status: number): DeliveryOutcome {
  if (status >= 200 && status < 300) return { ok: true, status };
  return { ok: false, status, retryable: target.delivery.retryOn === 'any' || isRetriedStatus(status), error: `HTTP ${status} from ${target.url}` };
}

interface Endpoint {
  options: http.RequestOptions;
  secure: boolean;
  transport: typeof http | typeof https;
  /** The Host header Node would send: the URL's host, its port only when not the default. */
  host: string;
  /** Basic authorisation from credentials in the URL, as Node adds it. */
  authorization: string | undefined;
}

/**
 * The request's headers as Node's flat list (no per-header `setHeader`): the target's, then the
 * request's, a later name replacing an earlier one whatever its case, as `setHeader` does;
 * `host`, and `authorization` for credentials in the URL, as Node would add them unless given.
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

/** TLS server name for a target that sets its own Host header: that host, as Node takes it from the header (none for an IP). */
function serverName(fixed: Record<string, string>, own: Record<string, string>): { servername?: string } {
  let host: string | undefined;
  for (const headers of [fixed, own]) for (const name in headers) if (name.toLowerCase() === 'host') host = headers[name]!;
  if (host === undefined) return {};
  const name = host.startsWith('[') ? host.slice(1, host.indexOf(']')) : host.split(':')[0]!;
  return { servername: isIP(name) ? '' : name };
}

export class HttpDeliverer {
  private readonly httpAgent: http.Agent;
  private readonly httpsAgent: https.Agent;
  private readonly endpoints = new Map<string, Endpoint>();

  constructor(policy: EgressPolicy = egressPolicy()) {
    this.httpAgent = policy.httpAgent({ keepAlive: true, maxSockets: 128 });
    this.httpsAgent = policy.httpsAgent({ keepAlive: true, maxSockets: 128 });
  }

  send(target: HttpTarget, request: Request): Promise<DeliveryOutcome> {
    const endpoint = this.endpoint(target.url);
    return new Promise((resolve) => {
      let settled = false;
      const settle = (outcome: DeliveryOutcome) => {
        if (settled) return;
        settled = true;
        resolve(outcome);
      };
      const headers = headerList(endpoint, target.headers, request.headers, request.body.length);
      const req = endpoint.transport.request(
        {
          ...endpoint.options,
          ...(endpoint.secure ? serverName(target.headers, request.headers) : {}),
          method: target.method,
          agent: endpoint.secure ? this.httpsAgent : this.httpAgent,
          headers,
          timeout: target.delivery.timeoutMs,
        },
        (res) => {
          const status = res.statusCode ?? 0;
          // Drain the body so the socket goes back to the pool.
          res.resume();
          res.on('end', () => {
            settle(responseOutcome(target, status));
          });
          res.on('error', (error) => settle({ ok: false, retryable: true, error: error.message }));
        },
      );
      req.on('timeout', () => {
        req.destroy(new Error(`no response from ${target.url} within ${target.delivery.timeoutMs} ms`));
      });
      req.on('error', (error) => settle({ ok: false, retryable: egressRefusal(error) === undefined, error: error.message }));
      req.end(request.body);
    });
  }

  /** A target URL parsed once, not once per delivery (targets are few, deliveries many). */
  private endpoint(url: string): Endpoint {
    let endpoint = this.endpoints.get(url);
    if (!endpoint) {
      const parsed = new URL(url);
      const secure = parsed.protocol === 'https:';
      const options = urlToHttpOptions(parsed);
      const authorization = options.auth ? `Basic ${Buffer.from(options.auth).toString('base64')}` : undefined;
      endpoint = { options, secure, transport: secure ? https : http, host: parsed.host, authorization };
      // Targets come and go with deployments: a bound keeps a long-lived worker's cache small.
      if (this.endpoints.size >= 1024) this.endpoints.clear();
      this.endpoints.set(url, endpoint);
    }
    return endpoint;
  }

  close(): void {
    this.httpAgent.destroy();
    this.httpsAgent.destroy();
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
