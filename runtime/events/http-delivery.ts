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

export class HttpDeliverer {
  private readonly httpAgent: http.Agent;
  private readonly httpsAgent: https.Agent;

  constructor(policy: EgressPolicy = egressPolicy()) {
    this.httpAgent = policy.httpAgent({ keepAlive: true, maxSockets: 128 });
    this.httpsAgent = policy.httpsAgent({ keepAlive: true, maxSockets: 128 });
  }

  send(target: HttpTarget, request: Request): Promise<DeliveryOutcome> {
    const url = new URL(target.url);
    const secure = url.protocol === 'https:';
    const transport = secure ? https : http;
    return new Promise((resolve) => {
      let settled = false;
      const settle = (outcome: DeliveryOutcome) => {
        if (settled) return;
        settled = true;
        resolve(outcome);
      };
      const req = transport.request(
        url,
        {
          method: target.method,
          agent: secure ? this.httpsAgent : this.httpAgent,
          headers: { ...target.headers, ...request.headers, 'content-length': String(request.body.length) },
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
