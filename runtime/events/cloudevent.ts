/**
 * The one event shape of the data plane: a CloudEvent in its structured JSON form
 * (attributes at the top level, the payload in `data` or `data_base64`), which is also what
 * filters, transforms and the DSL see. Validation follows CloudEvents 1.0 and names the
 * attribute at fault, so a producer can fix its request from the problem details alone.
 *
 * Everything the event log could fail to store is refused here, one event at a time, before
 * any commit: a value PostgreSQL rejects inside a group commit would otherwise fail every
 * other request of that commit. Hence the limits beyond the spec's own rules:
 * - `data` nests at most MAX_DATA_DEPTH objects/arrays and holds no U+0000 and no unpaired
 *   surrogate (jsonb stores neither);
 * - `time` is a real instant (month 13, day 32 or 30 February are refused) with a UTC offset
 *   of at most ±15:59, the range PostgreSQL keeps;
 * - JSON bodies are valid UTF-8; text bodies that are not (or hold U+0000) are kept as Base64.
 */
import { isUtf8 } from 'node:buffer';

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

/**
 * A request the data plane refuses: HTTP status, a short title, the attribute at fault and,
 * where it helps, more members for the problem details (`pointer` into data, byte `offset`).
 */
export class IngressError extends Error {
  constructor(
    readonly status: 400 | 401 | 404 | 408 | 413 | 415 | 500,
    readonly title: string,
    message: string,
    readonly attribute?: string,
    readonly details: Record<string, string | number> = {},
  ) {
    super(message);
    this.name = 'IngressError';
  }
}

/** Deepest nesting of objects and arrays accepted in `data` (the outermost counts as 1). */
export const MAX_DATA_DEPTH = 64;

export const CONTEXT_ATTRIBUTES = ['specversion', 'id', 'source', 'type', 'subject', 'time', 'datacontenttype', 'dataschema'] as const;
const CONTEXT = new Set<string>(CONTEXT_ATTRIBUTES);

export const EXTENSION_NAME = /^[a-z0-9]{1,20}$/;
const INT32_MIN = -2_147_483_648;
const INT32_MAX = 2_147_483_647;
// RFC 3339 date-time, as the spec's Timestamp type requires; the fields are range-checked below.
const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d+)?(?:[Zz]|[+-](\d{2}):(\d{2}))$/;
// The spec's String type excludes control characters, noncharacters and unpaired surrogates.
const NOT_IN_STRING = /[\p{Cc}\p{Cs}\p{Noncharacter_Code_Point}]/u;
// What jsonb cannot hold inside data: U+0000 and unpaired surrogates.
const NOT_IN_DATA = /[\u0000\p{Cs}]/u;
/** Names an extension cannot take: they are the event's data in every format. */
const RESERVED_NAMES = new Set(['data', 'data_base64']);

function codePoint(char: string): string {
  return `U+${char.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`;
}

/** Why a String attribute value breaks the spec's String type, or undefined. */
function stringProblem(value: string): string | undefined {
  const match = NOT_IN_STRING.exec(value);
  if (!match) return undefined;
  return `contains ${codePoint(match[0])} at character ${match.index + 1}; CloudEvents strings exclude control characters (U+0000-U+001F, U+007F-U+009F), noncharacters and unpaired surrogates`;
}

const daysIn = (year: number, month: number) => (month === 2 ? (year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28) : [4, 6, 9, 11].includes(month) ? 30 : 31);

/** Why a timestamp is not a valid RFC 3339 instant the event log can keep, or undefined. */
export function timeProblem(value: string): string | undefined {
  const m = RFC3339.exec(value);
  if (!m) return 'time must be an RFC 3339 timestamp such as 2025-01-31T12:00:00Z';
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  if (year < 1) return `time has year ${m[1]}; years run from 0001`;
  if (month < 1 || month > 12) return `time has month ${m[2]}; months run 01-12`;
  if (day < 1 || day > daysIn(year, month)) return `time has day ${m[3]}; ${m[1]}-${m[2]} has days 01-${daysIn(year, month)}`;
  if (hour > 23) return `time has hour ${m[4]}; hours run 00-23`;
  if (minute > 59) return `time has minute ${m[5]}; minutes run 00-59`;
  // 60 is a leap second (RFC 3339 §5.7).
  if (second > 60) return `time has second ${m[6]}; seconds run 00-60`;
  if (m[8] !== undefined) {
    const offsetHours = Number(m[8]);
    const offsetMinutes = Number(m[9]);
    if (offsetMinutes > 59) return `time has an offset with minute ${m[9]}; minutes run 00-59`;
    if (offsetHours > 15) return `time has offset ${value.slice(-6)}; offsets of at most ±15:59 are accepted (real zones span -12:00 to +14:00)`;
  }
  return undefined;
}

/** Whether checkData has nothing to say about `data`: the same rules, without building paths for messages. */
function storableData(data: unknown): boolean {
  const stack: unknown[] = [data];
  const depths: number[] = [0];
  while (stack.length > 0) {
    const value = stack.pop();
    const depth = depths.pop()!;
    if (typeof value === 'string') {
      if (NOT_IN_DATA.test(value)) return false;
      continue;
    }
    if (typeof value !== 'object' || value === null) continue;
    if (depth + 1 > MAX_DATA_DEPTH) return false;
    if (Array.isArray(value)) {
      for (const item of value) {
        stack.push(item);
        depths.push(depth + 1);
      }
      continue;
    }
    for (const key in value) {
      if (!Object.hasOwn(value, key)) continue;
      if (NOT_IN_DATA.test(key)) return false;
      stack.push((value as Record<string, unknown>)[key]);
      depths.push(depth + 1);
    }
  }
  return true;
}

/**
 * Refuses data the event log cannot store: nesting deeper than MAX_DATA_DEPTH, U+0000 or an
 * unpaired surrogate in a string or a member name. `at` prefixes the attribute (`[3].data`).
 */
export function checkData(data: unknown, at = ''): void {
  // Most data is fine: a walk that builds no paths says so; only a problem is looked at again, to name it.
  if (storableData(data)) return;
  const fail = (path: string, message: string, pointer: string): never => {
    throw new IngressError(400, 'Invalid CloudEvent data', `${at}data${path} ${message}`, `${at}data`, { pointer });
  };
  const checkString = (text: string, path: string, pointer: string, what: string) => {
    const match = NOT_IN_DATA.exec(text);
    if (match) fail(path, `${what} ${codePoint(match[0])} at character ${match.index + 1}, which cannot be stored (no U+0000, no unpaired surrogates)`, pointer);
  };
  // Iterative, so that a hostile depth cannot exhaust the stack before it is measured.
  const stack: { value: unknown; depth: number; path: string; pointer: string }[] = [{ value: data, depth: 0, path: '', pointer: '' }];
  while (stack.length > 0) {
    const { value, depth, path, pointer } = stack.pop()!;
    if (typeof value === 'string') {
      checkString(value, path, pointer, 'contains');
      continue;
    }
    if (typeof value !== 'object' || value === null) continue;
    if (depth + 1 > MAX_DATA_DEPTH) fail(path, `nests deeper than ${MAX_DATA_DEPTH} levels of objects and arrays, the most this ingress accepts`, pointer);
    if (Array.isArray(value)) {
      value.forEach((item, i) => stack.push({ value: item, depth: depth + 1, path: `${path}[${i}]`, pointer: `${pointer}/${i}` }));
      continue;
    }
    for (const [key, item] of Object.entries(value)) {
      const escaped = key.replace(/~/g, '~0').replace(/\//g, '~1');
      checkString(key, path, `${pointer}/${escaped}`, `has a member name with`);
      stack.push({ value: item, depth: depth + 1, path: `${path}.${key}`, pointer: `${pointer}/${escaped}` });
    }
  }
}

/**
 * Refuses JSON text nesting deeper than `MAX_DATA_DEPTH + envelope` before it is parsed: a
 * megabyte of `[` costs JSON.parse about a second, this scan a millisecond. `envelope` is 0 for
 * bare data, 1 for a structured event, 2 for a batch (whose member is then named). Within the
 * limit, checkData gives the exact pointer.
 */
export function checkJsonDepth(text: string, envelope: 0 | 1 | 2): void {
  const limit = MAX_DATA_DEPTH + envelope;
  let depth = 0;
  let member = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++;
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x2c && depth === 1) member++;
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > limit) {
        const at = envelope === 2 ? `[${member}].` : '';
        throw new IngressError(400, 'Invalid CloudEvent data', `${at}data nests objects and arrays deeper than ${MAX_DATA_DEPTH} levels, the most this ingress accepts`, `${at}data`);
      }
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
}

/** The first byte offset at which `body` stops being UTF-8. */
function invalidUtf8Offset(body: Buffer): number {
  let i = 0;
  while (i < body.length) {
    const b = body[i]!;
    const length = b < 0x80 ? 1 : b >= 0xc2 && b <= 0xdf ? 2 : b >= 0xe0 && b <= 0xef ? 3 : b >= 0xf0 && b <= 0xf4 ? 4 : 0;
    if (length === 0 || i + length > body.length || !isUtf8(body.subarray(i, i + length))) return i;
    i += length;
  }
  return body.length;
}

/** A body as UTF-8 text; invalid UTF-8 is refused with its byte offset, never replaced. */
export function decodeUtf8(body: Buffer, what: string, attribute?: string): string {
  if (isUtf8(body)) return body.toString('utf8');
  const offset = invalidUtf8Offset(body);
  throw new IngressError(
    400,
    'Invalid UTF-8',
    `${what} is not valid UTF-8: byte 0x${body[offset]?.toString(16).padStart(2, '0') ?? '??'} at offset ${offset} does not belong there; JSON must be sent as UTF-8`,
    attribute,
    { offset },
  );
}

/** Text that a jsonb string can hold: valid UTF-8 without U+0000. */
export function storableText(body: Buffer): string | undefined {
  return isUtf8(body) && !body.includes(0) ? body.toString('utf8') : undefined;
}
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

/**
 * Why a context attribute's value is not what the spec allows, or undefined: every event runs
 * these, so they are plain checks rather than a schema library's (a fifth of ingress's
 * validation time went to building and walking one).
 */
type ContextRule = { required: boolean; nonEmpty: boolean; check?: (value: string) => string | undefined };
const CONTEXT_RULES: [string, ContextRule][] = [
  ['specversion', { required: true, nonEmpty: false, check: (v) => (v === '1.0' ? undefined : 'specversion must be "1.0" (the only version this ingress accepts)') }],
  ['id', { required: true, nonEmpty: true }],
  ['source', { required: true, nonEmpty: true, check: (v) => (isUriReference(v) ? undefined : 'source must be a URI-reference such as /orders or https://shop.example/orders') }],
  ['type', { required: true, nonEmpty: true }],
  ['subject', { required: false, nonEmpty: true }],
  ['time', { required: false, nonEmpty: false, check: timeProblem }],
  ['datacontenttype', { required: false, nonEmpty: false, check: (v) => (MEDIA_TYPE.test(v) ? undefined : 'datacontenttype must be a media type such as application/json') }],
  ['dataschema', { required: false, nonEmpty: true, check: (v) => (isAbsoluteUri(v) ? undefined : 'dataschema must be an absolute URI') }],
];

function contextProblem(name: string, rule: ContextRule, value: unknown): string | undefined {
  if (value === undefined) return rule.required ? `${name} is required` : undefined;
  if (typeof value !== 'string') return `${name} must be a string`;
  if (rule.nonEmpty && value.length === 0) return `${name} must not be empty`;
  return rule.check?.(value);
}

/** Attributes whose values repeat from event to event (a producer's source and types): checked once per value. */
const REPEATING_MAX = 4096;
const knownGood = new Map<string, Set<string>>(['specversion', 'source', 'type', 'datacontenttype', 'dataschema'].map((name) => [name, new Set<string>()]));

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
  const known = (name: string, value: unknown) => typeof value === 'string' && knownGood.get(name)?.has(value) === true;
  for (const [name, rule] of CONTEXT_RULES) {
    const value = attributes[name];
    if (known(name, value)) continue;
    const problem = contextProblem(name, rule, value);
    if (problem) throw new IngressError(400, 'Invalid CloudEvent attribute', `${at}${problem}`, `${at}${name}`);
  }
  for (const name of CONTEXT_ATTRIBUTES) {
    const value = attributes[name];
    if (typeof value !== 'string' || known(name, value)) continue;
    const problem = stringProblem(value);
    if (problem) throw new IngressError(400, 'Invalid CloudEvent attribute', `${at}${name} ${problem}`, `${at}${name}`);
    const good = knownGood.get(name);
    if (good) {
      if (good.size >= REPEATING_MAX) good.clear();
      good.add(value);
    }
  }
}

function checkExtension(name: string, value: unknown, at: string): void {
  if (RESERVED_NAMES.has(name)) {
    throw new IngressError(
      400,
      'Invalid CloudEvent attribute',
      `${at}"${name}" cannot be an extension attribute: the name is reserved for the event's data (send data as the body in binary mode)`,
      `${at}${name}`,
    );
  }
  if (!EXTENSION_NAME.test(name)) {
    throw new IngressError(
      400,
      'Invalid CloudEvent attribute',
      `${at}"${name}" is not a valid attribute name: extension names are 1-20 lower-case letters and digits`,
      `${at}${name}`,
    );
  }
  const problem = typeof value === 'string' ? stringProblem(value) : undefined;
  if (problem) throw new IngressError(400, 'Invalid CloudEvent attribute', `${at}extension ${name} ${problem}`, `${at}${name}`);
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
  if ('data' in event) checkData(event.data, at);
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
  if ('data' in event) checkData(event.data);
  return event as CloudEventRecord;
}

/**
 * A body as CloudEvent data: parsed JSON, text, or Base64 for anything else — and for text
 * that is not UTF-8 or holds U+0000, which a jsonb string cannot keep (Base64 keeps it whole).
 */
export function decodeData(body: Buffer, contentType: string | undefined): { data: unknown } | { data_base64: string } {
  if (contentType !== undefined && isJsonContentType(contentType)) {
    const text = decodeUtf8(body, `the body (content-type ${contentType})`, 'data');
    checkJsonDepth(text, 0);
    try {
      return { data: JSON.parse(text) };
    } catch (error) {
      throw new IngressError(400, 'Invalid CloudEvent data', `the body is not valid JSON as its content-type ${contentType} says: ${(error as Error).message}`, 'data');
    }
  }
  if (isTextContentType(contentType)) {
    const text = storableText(body);
    if (text !== undefined) return { data: text };
  }
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
