/**
 * The one event shape of the data plane: a CloudEvent in its structured JSON form
 * (attributes at the top level, the payload in `data` or `data_base64`), which is also what
 * filters, transforms and the DSL see. Validation follows CloudEvents 1.0 and names the
 * attribute at fault, so a producer can fix its request from the problem details alone.
 */
import { z } from 'zod';

export type AttributeValue = string | number | boolean;

export interface CloudEventRecord {
  specversion: '1.0';
  id: string;
  source: string;
  type: string;
  subject?: string;
  time?: string;
  datacontenttype?: string;
  dataschema?: string;
  data?: unknown;
  data_base64?: string;
  [extension: string]: unknown;
}

/** A request the data plane refuses: HTTP status, a short title and the attribute at fault. */
export class IngressError extends Error {
  constructor(
    readonly status: 400 | 401 | 404 | 413 | 415 | 500,
    readonly title: string,
    message: string,
    readonly attribute?: string,
  ) {
    super(message);
    this.name = 'IngressError';
  }
}

export const CONTEXT_ATTRIBUTES = ['specversion', 'id', 'source', 'type', 'subject', 'time', 'datacontenttype', 'dataschema'] as const;
const CONTEXT = new Set<string>(CONTEXT_ATTRIBUTES);

export const EXTENSION_NAME = /^[a-z0-9]{1,20}$/;
const INT32_MIN = -2_147_483_648;
const INT32_MAX = 2_147_483_647;
// RFC 3339 date-time, as the spec's Timestamp type requires.
const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;
const MEDIA_TYPE = /^[A-Za-z0-9][\w!#$&^.+-]*\/[A-Za-z0-9][\w!#$&^.+-]*(\s*;.*)?$/;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

function isUriReference(value: string): boolean {
  if (/[\s<>"{}|\\^`\u0000-\u001f\u007f]/.test(value)) return false;
  try {
    new URL(value, 'http://base.invalid/');
    return true;
  } catch {
    return false;
  }
}

function isAbsoluteUri(value: string): boolean {
  return /^[A-Za-z][A-Za-z0-9+.-]*:/.test(value) && isUriReference(value);
}

const nonEmpty = (name: string) =>
  z.string({ error: (i) => (i.input === undefined ? `${name} is required` : `${name} must be a string`) }).min(1, `${name} must not be empty`);

const contextSchema = z.object({
  specversion: z
    .string({ error: (i) => (i.input === undefined ? 'specversion is required' : 'specversion must be a string') })
    .refine((v) => v === '1.0', { message: 'specversion must be "1.0" (the only version this ingress accepts)' }),
  id: nonEmpty('id'),
  source: nonEmpty('source').refine(isUriReference, 'source must be a URI-reference such as /orders or https://shop.example/orders'),
  type: nonEmpty('type'),
  subject: nonEmpty('subject').optional(),
  time: z.string({ error: 'time must be a string' }).regex(RFC3339, 'time must be an RFC 3339 timestamp such as 2025-01-31T12:00:00Z').optional(),
  datacontenttype: z.string({ error: 'datacontenttype must be a string' }).regex(MEDIA_TYPE, 'datacontenttype must be a media type such as application/json').optional(),
  dataschema: nonEmpty('dataschema').refine(isAbsoluteUri, 'dataschema must be an absolute URI').optional(),
});

/** JSON-formatted data per the JSON event format: `application/json` or any `+json` type. */
export function isJsonContentType(contentType: string | undefined): boolean {
  if (contentType === undefined) return true;
  const media = contentType.split(';')[0]!.trim().toLowerCase();
  return media === 'application/json' || media === 'text/json' || media.endsWith('+json');
}

export function isTextContentType(contentType: string | undefined): boolean {
  const media = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  return media.startsWith('text/') || media === 'application/xml' || media.endsWith('+xml');
}

/** The first problem of a set of context attributes (strings from binary mode or JSON values). */
function checkContext(attributes: Record<string, unknown>, at: string): void {
  const parsed = contextSchema.safeParse(attributes);
  if (parsed.success) return;
  const issue = parsed.error.issues[0]!;
  const name = String(issue.path[0] ?? 'specversion');
  throw new IngressError(400, 'Invalid CloudEvent attribute', `${at}${issue.message}`, `${at}${name}`);
}

function checkExtension(name: string, value: unknown, at: string): void {
  if (!EXTENSION_NAME.test(name)) {
    throw new IngressError(
      400,
      'Invalid CloudEvent attribute',
      `${at}"${name}" is not a valid attribute name: extension names are 1-20 lower-case letters and digits`,
      `${at}${name}`,
    );
  }
  const ok =
    typeof value === 'string' ||
    typeof value === 'boolean' ||
    (typeof value === 'number' && Number.isInteger(value) && value >= INT32_MIN && value <= INT32_MAX);
  if (!ok) {
    throw new IngressError(
      400,
      'Invalid CloudEvent attribute',
      `${at}extension ${name} must be a string, a boolean or a 32-bit integer, got ${JSON.stringify(value) ?? typeof value}`,
      `${at}${name}`,
    );
  }
}

/**
 * Validates one structured-mode JSON value and returns it as a record. `at` prefixes messages
 * and attribute names, e.g. `[3].` for the fourth member of a batch.
 */
export function validateStructured(value: unknown, at = ''): CloudEventRecord {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new IngressError(400, 'Invalid CloudEvent', `${at || 'the body '}must be a JSON object holding one CloudEvent`, at ? at.replace(/\.$/, '') : undefined);
  }
  const input = value as Record<string, unknown>;
  // JSON null means "absent" for every attribute (JSON event format §2.4).
  const event: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(input)) if (item !== null) event[key] = item;
  checkContext(event, at);
  for (const [name, item] of Object.entries(event)) {
    if (CONTEXT.has(name) || name === 'data' || name === 'data_base64') continue;
    checkExtension(name, item, at);
  }
  if ('data' in event && 'data_base64' in event) {
    throw new IngressError(400, 'Invalid CloudEvent', `${at}data and data_base64 are mutually exclusive`, `${at}data_base64`);
  }
  if ('data_base64' in event && (typeof event.data_base64 !== 'string' || !BASE64.test(event.data_base64))) {
    throw new IngressError(400, 'Invalid CloudEvent', `${at}data_base64 must be a Base64 string`, `${at}data_base64`);
  }
  const contentType = event.datacontenttype as string | undefined;
  if ('data' in event && !isJsonContentType(contentType) && typeof event.data !== 'string') {
    throw new IngressError(
      400,
      'Invalid CloudEvent',
      `${at}data must be a string when datacontenttype is ${contentType} (JSON values need a JSON media type; binary data goes in data_base64)`,
      `${at}datacontenttype`,
    );
  }
  return event as CloudEventRecord;
}

/** Binary mode: context attributes from `ce-*` headers (already decoded), the body as data. */
export function validateBinary(attributes: Record<string, string>, contentType: string | undefined, body: Buffer): CloudEventRecord {
  checkContext(attributes, '');
  const event: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(attributes)) {
    if (!CONTEXT.has(name)) checkExtension(name, value, '');
    event[name] = value;
  }
  if (contentType !== undefined) {
    if (!MEDIA_TYPE.test(contentType)) {
      throw new IngressError(400, 'Invalid CloudEvent attribute', `content-type "${contentType}" is not a media type`, 'datacontenttype');
    }
    event.datacontenttype = contentType;
  }
  if (body.length > 0) Object.assign(event, decodeData(body, contentType));
  return event as CloudEventRecord;
}

/** A body as CloudEvent data: parsed JSON, text, or Base64 for anything else. */
export function decodeData(body: Buffer, contentType: string | undefined): { data: unknown } | { data_base64: string } {
  if (contentType !== undefined && isJsonContentType(contentType)) {
    try {
      return { data: JSON.parse(body.toString('utf8')) };
    } catch (error) {
      throw new IngressError(400, 'Invalid CloudEvent data', `the body is not valid JSON as its content-type ${contentType} says: ${(error as Error).message}`, 'data');
    }
  }
  if (isTextContentType(contentType)) return { data: body.toString('utf8') };
  return { data_base64: body.toString('base64') };
}

/** The extension attributes of a record (everything that is neither context nor data). */
export function extensionsOf(event: CloudEventRecord): Record<string, AttributeValue> {
  const out: Record<string, AttributeValue> = {};
  for (const [name, value] of Object.entries(event)) {
    if (CONTEXT.has(name) || name === 'data' || name === 'data_base64') continue;
    out[name] = value as AttributeValue;
  }
  return out;
}
