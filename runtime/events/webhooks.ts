/**
 * Webhook sources (`POST /hooks/<id>`), in the three modes of EventMesh's HTTP source:
 * - `cloudevents`: the request is a CloudEvent in any HTTP binding mode;
 * - `common`: any JSON or text body becomes `data`; configured headers become extension
 *   attributes; `id`, `type`, `source` and `subject` come from `ce-*` headers when sent, else
 *   from the source's configuration, with a generated `id`;
 * - `github`: a GitHub delivery; `X-GitHub-Delivery` is the `id`, `X-GitHub-Event` the type
 *   (`com.github.<event>`), the repository the source.
 * A source with a secret requires either an HMAC-SHA256 of the body in `X-Hub-Signature-256`
 * (`sha256=<hex>`, GitHub's scheme, used by every mode) or, for `shared-secret` sources, the
 * secret itself as `Authorization: Bearer <secret>` or `X-Webhook-Secret`.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { IngressError, checkJsonDepth, decodeData, decodeUtf8, storableText, validateStructured, type CloudEventRecord } from './cloudevent.ts';
import { binaryAttributes, eventsFromRequest, mediaType } from './http-binding.ts';
import type { WebhookSource } from './plan.ts';

/** A secret users defined, by name (the worker's secret store); never the process environment. */
export type SecretLookup = (name: string) => string | undefined;

function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function sameSecret(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

export function signBody(secret: string, body: Buffer | string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

function authenticate(source: WebhookSource, headers: IncomingHttpHeaders, body: Buffer, secrets: SecretLookup): void {
  if (source.secret === undefined) return;
  const secret = secrets(source.secret);
  if (secret === undefined) {
    // Refusing is the only safe answer when the configured secret cannot be found.
    throw new IngressError(500, 'Webhook secret missing', `the secret "${source.secret}" of webhook ${source.id} is not defined (or not readable by this worker); define it on the studio's Secrets page`);
  }
  if (source.auth === 'shared-secret') {
    const bearer = /^Bearer\s+(.+)$/i.exec(header(headers, 'authorization') ?? '')?.[1];
    const given = bearer ?? header(headers, 'x-webhook-secret');
    if (given === undefined) throw new IngressError(401, 'Unauthorized', 'this webhook requires its secret in Authorization: Bearer <secret> or X-Webhook-Secret');
    if (!sameSecret(given, secret)) throw new IngressError(401, 'Unauthorized', 'the webhook secret does not match');
    return;
  }
  const signature = header(headers, 'x-hub-signature-256');
  if (signature === undefined) throw new IngressError(401, 'Unauthorized', 'this webhook requires an X-Hub-Signature-256: sha256=<HMAC-SHA256 of the body> header');
  if (!sameSecret(signature.toLowerCase(), signBody(secret, body))) {
    throw new IngressError(401, 'Unauthorized', 'the X-Hub-Signature-256 signature does not match the body');
  }
}

function commonEvent(source: WebhookSource, headers: IncomingHttpHeaders, body: Buffer, newId: () => string): CloudEventRecord {
  const given = binaryAttributes(headers);
  const contentType = header(headers, 'content-type');
  const event: Record<string, unknown> = {
    specversion: '1.0',
    id: given.id ?? newId(),
    source: given.source ?? source.eventSource ?? `/hooks/${source.id}`,
    type: given.type ?? source.eventType ?? 'io.meshflow.http-webhook.message',
  };
  if (given.subject !== undefined) event.subject = given.subject;
  for (const [name, attribute] of Object.entries(source.headers)) {
    // A header mapped onto the data would smuggle it past the body's decoding and checks.
    if (attribute === 'data' || attribute === 'data_base64') {
      throw new IngressError(500, 'Webhook misconfigured', `webhook ${source.id} maps header ${name} to "${attribute}", which is the event's data, not an attribute; fix its flow`);
    }
    const value = header(headers, name);
    if (value !== undefined) event[attribute] = value;
  }
  if (body.length > 0 && contentType !== undefined) {
    event.datacontenttype = contentType;
    Object.assign(event, decodeData(body, contentType));
  } else if (body.length > 0) {
    // Without a content type, JSON is tried first: most webhook senders post JSON; bytes that
    // are not storable text stay whole as Base64.
    const text = storableText(body);
    let json: unknown;
    try {
      if (text !== undefined) checkJsonDepth(text, 0);
      json = text === undefined ? undefined : (JSON.parse(text) as unknown);
    } catch {
      json = undefined;
    }
    if (json !== undefined) Object.assign(event, { datacontenttype: 'application/json', data: json });
    else if (text !== undefined) Object.assign(event, { datacontenttype: 'text/plain', data: text });
    else Object.assign(event, { datacontenttype: 'application/octet-stream', data_base64: body.toString('base64') });
  }
  return validateStructured(event);
}

function githubEvent(source: WebhookSource, headers: IncomingHttpHeaders, body: Buffer): CloudEventRecord {
  const name = header(headers, 'x-github-event');
  const delivery = header(headers, 'x-github-delivery');
  if (!name) throw new IngressError(400, 'Invalid GitHub delivery', 'the X-GitHub-Event header (the event name) is missing', 'type');
  if (!delivery) throw new IngressError(400, 'Invalid GitHub delivery', 'the X-GitHub-Delivery header (the delivery id) is missing', 'id');
  let payload: unknown;
  const media = mediaType(header(headers, 'content-type'));
  const text = decodeUtf8(body, 'the payload', 'data');
  checkJsonDepth(text, 0);
  try {
    // GitHub's form encoding wraps the JSON in a `payload` field.
    payload = JSON.parse(media === 'application/x-www-form-urlencoded' ? (new URLSearchParams(text).get('payload') ?? '') : text);
  } catch (error) {
    throw new IngressError(400, 'Invalid GitHub delivery', `the payload is not valid JSON: ${(error as Error).message}`, 'data');
  }
  const repository = (payload as { repository?: { full_name?: unknown } } | null)?.repository?.full_name;
  return validateStructured({
    specversion: '1.0',
    id: delivery,
    source: typeof repository === 'string' ? `https://github.com/${repository}` : (source.eventSource ?? `/hooks/${source.id}`),
    type: `com.github.${name}`,
    datacontenttype: 'application/json',
    data: payload,
  });
}

/** The events of one webhook request; throws IngressError (401 before anything is parsed). */
export function eventsFromHook(
  source: WebhookSource,
  headers: IncomingHttpHeaders,
  body: Buffer,
  secrets: SecretLookup,
  newId: () => string,
): CloudEventRecord[] {
  authenticate(source, headers, body, secrets);
  if (source.mode === 'github') return [githubEvent(source, headers, body)];
  if (source.mode === 'common') return [commonEvent(source, headers, body, newId)];
  return eventsFromRequest(headers, body);
}
