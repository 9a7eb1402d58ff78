/**
 * The CloudEvents HTTP protocol binding (v1.0), receiving side: binary mode (`ce-*` headers,
 * body = data), structured mode (`application/cloudevents+json`) and batch mode
 * (`application/cloudevents-batch+json`). `cloudevents`' own HTTP.toEvent does not validate
 * and reports batch members poorly, so the modes are read here and validated in full.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { IngressError, checkJsonDepth, decodeUtf8, validateBinary, validateStructured, type CloudEventRecord } from './cloudevent.ts';

const STRUCTURED = 'application/cloudevents+json';
const BATCH = 'application/cloudevents-batch+json';

export function mediaType(contentType: string | undefined): string | undefined {
  const media = contentType?.split(';')[0]?.trim().toLowerCase();
  return media ? media : undefined;
}

function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value.join(',') : value;
}

/** `envelope`: the levels around each event's data (1 for an event, 2 for a batch). */
function parseJson(body: Buffer, what: string, envelope: 1 | 2): unknown {
  if (body.length === 0) throw new IngressError(400, 'Malformed JSON', `the body is empty; ${what} needs a JSON body`);
  const text = decodeUtf8(body, 'the body');
  checkJsonDepth(text, envelope);
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new IngressError(400, 'Malformed JSON', `the body is not valid JSON: ${(error as Error).message}`);
  }
}

/** Header values are percent-encoded by senders (binding §3.1.3.2). */
function decodeHeaderValue(name: string, value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    throw new IngressError(400, 'Invalid CloudEvent attribute', `header ce-${name} is not a valid percent-encoded value`, name);
  }
}

/** The binary-mode attributes of a request, lower-cased names without the `ce-` prefix. */
export function binaryAttributes(headers: IncomingHttpHeaders): Record<string, string> {
  const attributes: Record<string, string> = {};
  for (const [key, value] of Object.entries(headers)) {
    if (!key.startsWith('ce-') || value === undefined) continue;
    const name = key.slice(3);
    const text = Array.isArray(value) ? value.join(',') : value;
    attributes[name] = text.includes('%') ? decodeHeaderValue(name, text) : text;
  }
  return attributes;
}

/** One or more CloudEvents from a request to the `/events` ingress; throws IngressError. */
export function eventsFromRequest(headers: IncomingHttpHeaders, body: Buffer): CloudEventRecord[] {
  const contentType = header(headers, 'content-type');
  const media = mediaType(contentType);
  if (media === STRUCTURED) return [validateStructured(parseJson(body, 'a structured-mode CloudEvent', 1))];
  if (media === BATCH) {
    const members = parseJson(body, 'a batch', 2);
    if (!Array.isArray(members)) throw new IngressError(400, 'Invalid CloudEvents batch', 'a batch must be a JSON array of structured-mode CloudEvents');
    return members.map((member, i) => validateStructured(member, `[${i}].`));
  }
  if (media?.startsWith('application/cloudevents')) {
    throw new IngressError(415, 'Unsupported event format', `${media} is not supported; use ${STRUCTURED}, ${BATCH} or binary mode`);
  }
  if (headers['ce-specversion'] !== undefined) return [validateBinary(binaryAttributes(headers), contentType, body)];
  throw new IngressError(
    415,
    'Unsupported Media Type',
    `content-type ${contentType ?? '(none)'} without ce-* headers is not a CloudEvent: send ${STRUCTURED}, ${BATCH}, or binary mode with ce-specversion, ce-id, ce-source and ce-type headers`,
  );
}
