import { describe, expect, it } from 'vitest';
import { IngressError, MAX_DATA_DEPTH, checkData, timeProblem, validateBinary, validateStructured } from '@/runtime/events/cloudevent';
import { payloadData } from '@/runtime/connectors/mapping';
import { eventsFromHook } from '@/runtime/events/webhooks';
import { eventsFromRequest } from '@/runtime/events/http-binding';

const base = { specversion: '1.0', id: '1', source: '/s', type: 't' };

function problem(fn: () => unknown): { status: number; attribute: string | undefined; message: string } {
  try {
    fn();
  } catch (error) {
    if (error instanceof IngressError) return { status: error.status, attribute: error.attribute, message: error.message };
    throw error;
  }
  throw new Error('no error');
}

describe('CloudEvent validation', () => {
  it('accepts the required attributes, extensions of the three types, and JSON null as absent', () => {
    expect(validateStructured({ ...base, subject: null, n: 5, ok: false, s: 'x', data: { a: 1 } })).toEqual({ ...base, n: 5, ok: false, s: 'x', data: { a: 1 } });
  });

  it.each([
    [{ ...base, specversion: '1' }, 'specversion'],
    [{ ...base, id: 7 }, 'id'],
    [{ ...base, source: '' }, 'source'],
    [{ ...base, time: '2025-01-01' }, 'time'],
    [{ ...base, Bad: 1 }, 'Bad'],
    [{ ...base, n: 1.5 }, 'n'],
  ])('names the attribute at fault in %j', (event, attribute) => {
    expect(problem(() => validateStructured(event))).toMatchObject({ status: 400, attribute });
  });

  it.each([
    [{ id: '1', source: '/s', type: 't' }, 'specversion', 'specversion is required'],
    [{ ...base, specversion: 1 }, 'specversion', 'specversion must be a string'],
    [{ ...base, specversion: '0.3' }, 'specversion', 'specversion must be "1.0" (the only version this ingress accepts)'],
    [{ ...base, id: undefined }, 'id', 'id is required'],
    [{ ...base, id: '' }, 'id', 'id must not be empty'],
    [{ ...base, source: 'a b' }, 'source', 'source must be a URI-reference such as /orders or https://shop.example/orders'],
    [{ ...base, type: false }, 'type', 'type must be a string'],
    [{ ...base, subject: '' }, 'subject', 'subject must not be empty'],
    [{ ...base, time: 5 }, 'time', 'time must be a string'],
    [{ ...base, time: '2025-02-30T00:00:00Z' }, 'time', 'time has day 30; 2025-02 has days 01-28'],
    [{ ...base, datacontenttype: 'json' }, 'datacontenttype', 'datacontenttype must be a media type such as application/json'],
    [{ ...base, dataschema: '/relative' }, 'dataschema', 'dataschema must be an absolute URI'],
    [{ ...base, id: '', type: '' }, 'id', 'id must not be empty'],
    [{ ...base, subject: 'a\u0007b' }, 'subject', 'subject contains U+0007 at character 2; CloudEvents strings exclude control characters (U+0000-U+001F, U+007F-U+009F), noncharacters and unpaired surrogates'],
  ])('says what is wrong with %j, the first problem in the spec\'s order', (event, attribute, message) => {
    expect(problem(() => validateStructured(event))).toEqual({ status: 400, attribute, message });
  });

  it('prefixes batch members with their index', () => {
    const p = problem(() => eventsFromRequest({ 'content-type': 'application/cloudevents-batch+json' }, Buffer.from(JSON.stringify([base, { ...base, type: '' }]))));
    expect(p).toMatchObject({ status: 400, attribute: '[1].type' });
    expect(p.message).toContain('[1].type must not be empty');
  });

  it('reads binary mode: decoded attributes, content type, body by media type', () => {
    expect(validateBinary({ ...base, tenant: 'a b' }, 'application/json', Buffer.from('{"x":1}'))).toEqual({ ...base, tenant: 'a b', datacontenttype: 'application/json', data: { x: 1 } });
    expect(validateBinary(base, 'image/png', Buffer.from([1, 2]))).toMatchObject({ data_base64: 'AQI=' });
    expect(validateBinary(base, undefined, Buffer.alloc(0))).toEqual(base);
  });

  it('answers 415 for bodies that are not CloudEvents', () => {
    expect(problem(() => eventsFromRequest({ 'content-type': 'application/json' }, Buffer.from('{}'))).status).toBe(415);
  });

  it('accepts real RFC 3339 instants and names the field of impossible ones', () => {
    for (const ok of ['2024-02-29T23:59:59Z', '2025-06-30T23:59:60Z', '0001-01-01T00:00:00.123456789+15:59', '9999-12-31t23:59:59-12:00']) expect(timeProblem(ok)).toBeUndefined();
    expect(timeProblem('2025-13-01T00:00:00Z')).toContain('month 13');
    expect(timeProblem('2025-01-32T00:00:00Z')).toContain('day 32');
    expect(timeProblem('2025-02-29T00:00:00Z')).toContain('2025-02 has days 01-28');
    expect(timeProblem('2025-01-01T25:00:00Z')).toContain('hour 25');
    expect(timeProblem('2025-01-01T00:61:00Z')).toContain('minute 61');
    expect(timeProblem('2025-01-01T00:00:61Z')).toContain('second 61');
    expect(timeProblem('2025-01-01T00:00:00+16:00')).toContain('±15:59');
    expect(timeProblem('2025-01-01T00:00:00+01:60')).toContain('minute 60');
    expect(timeProblem('0000-01-01T00:00:00Z')).toContain('year 0000');
  });

  it('refuses String attributes with control characters, noncharacters or unpaired surrogates, and keeps the rest of Unicode', () => {
    expect(validateStructured({ ...base, subject: 'café 😀 \u00a0' }).subject).toBe('café 😀 \u00a0');
    expect(problem(() => validateStructured({ ...base, subject: 'a\u0000' }))).toMatchObject({ status: 400, attribute: 'subject', message: expect.stringContaining('U+0000 at character 2') });
    expect(problem(() => validateStructured({ ...base, tenant: '\u009f' }))).toMatchObject({ attribute: 'tenant', message: expect.stringContaining('U+009F') });
    expect(problem(() => validateStructured({ ...base, id: 'x\ufdd0' }))).toMatchObject({ attribute: 'id', message: expect.stringContaining('U+FDD0') });
    expect(problem(() => validateStructured({ ...base, type: 'x\u{10ffff}' }))).toMatchObject({ attribute: 'type' });
    expect(problem(() => validateStructured({ ...base, subject: '\ud83d' }))).toMatchObject({ attribute: 'subject', message: expect.stringContaining('U+D83D') });
  });

  it(`accepts data nested ${MAX_DATA_DEPTH} deep and refuses one level more, without exhausting the stack on far deeper data`, () => {
    const nested = (depth: number): unknown => {
      let value: unknown = 1;
      for (let i = 0; i < depth; i++) value = { a: [value] }.a;
      return value;
    };
    expect(() => checkData(nested(MAX_DATA_DEPTH))).not.toThrow();
    expect(problem(() => checkData(nested(MAX_DATA_DEPTH + 1), '[2].'))).toMatchObject({ status: 400, attribute: '[2].data' });
    expect(problem(() => checkData(nested(200_000))).message).toContain(`deeper than ${MAX_DATA_DEPTH}`);
  });

  it('refuses deep JSON bodies before parsing them, naming the batch member', () => {
    const deep = (n: number) => `${'['.repeat(n)}${']'.repeat(n)}`;
    const member = (data: string) => `{"specversion":"1.0","id":"1","source":"/s","type":"t","data":${data},"note":"[[[["}`;
    const batch = (body: string) => problem(() => eventsFromRequest({ 'content-type': 'application/cloudevents-batch+json' }, Buffer.from(body)));
    expect(batch(`[${member('1')},${member(deep(500_000))}]`)).toMatchObject({ status: 400, attribute: '[1].data' });
    expect(batch(`[${member('1')},${member(deep(MAX_DATA_DEPTH + 1))}]`)).toMatchObject({ status: 400, attribute: '[1].data' });
    expect(eventsFromRequest({ 'content-type': 'application/cloudevents-batch+json' }, Buffer.from(`[${member(deep(MAX_DATA_DEPTH))}]`))).toHaveLength(1);
    expect(problem(() => validateBinary(base, 'application/json', Buffer.from(deep(100_000))))).toMatchObject({ status: 400, attribute: 'data' });
  });

  it('refuses data jsonb cannot store, pointing at it', () => {
    const error = (() => {
      try {
        checkData({ items: [{ 'a/b': 'x\u0000' }] });
      } catch (e) {
        return e as IngressError;
      }
    })();
    expect(error?.details).toEqual({ pointer: '/items/0/a~1b' });
    expect(error?.message).toContain('data.items[0].a/b contains U+0000');
    // Control characters other than U+0000 are fine inside data.
    expect(() => checkData({ text: 'line\nnext\ttab\u0001' })).not.toThrow();
  });

  it('refuses JSON bodies that are not UTF-8 with the byte offset, and keeps such text bodies whole as Base64', () => {
    const body = Buffer.concat([Buffer.from('{"specversion":"1.0","id":"'), Buffer.from([0xe2, 0x28, 0xa1]), Buffer.from('","source":"/s","type":"t"}')]);
    const error = (() => {
      try {
        eventsFromRequest({ 'content-type': 'application/cloudevents+json' }, body);
      } catch (e) {
        return e as IngressError;
      }
    })();
    expect(error).toMatchObject({ status: 400, title: 'Invalid UTF-8', details: { offset: 27 } });
    expect(validateBinary(base, 'text/plain', Buffer.from([0x61, 0xff]))).toMatchObject({ data_base64: 'Yf8=' });
    expect(validateBinary(base, 'text/plain', Buffer.from([0x61, 0x00]))).toMatchObject({ data_base64: 'YQA=' });
    expect(problem(() => validateBinary({ ...base, data: 'x' }, undefined, Buffer.alloc(0)))).toMatchObject({ attribute: 'data', message: expect.stringContaining('reserved') });
  });

  it('keeps broker payloads the log cannot hold as JSON as text, and bytes that are not text as Base64', () => {
    expect(payloadData(Buffer.from('{"a":"\\u0000"}'))).toEqual({ data: '{"a":"\\u0000"}', datacontenttype: 'text/plain; charset=utf-8' });
    expect(payloadData(Buffer.from([0x7b, 0xff]))).toEqual({ data_base64: 'e/8=', datacontenttype: 'application/octet-stream' });
    expect(payloadData(Buffer.from('{"a":1}'))).toEqual({ data: { a: 1 }, datacontenttype: 'application/json' });
  });

  it('common-mode webhooks keep bodies whole and refuse a header mapped onto the data', () => {
    const source = { id: 'h', mode: 'common' as const, auth: 'hmac' as const, headers: {} as Record<string, string> };
    const [binary] = eventsFromHook(source, {}, Buffer.from([0x7b, 0xff]), () => undefined, () => 'id-1');
    expect(binary).toMatchObject({ datacontenttype: 'application/octet-stream', data_base64: 'e/8=' });
    const [deep] = eventsFromHook(source, {}, Buffer.from('['.repeat(100) + ']'.repeat(100)), () => undefined, () => 'id-2');
    expect(deep).toMatchObject({ datacontenttype: 'text/plain' });
    const mapped = { ...source, headers: { 'x-payload': 'data' } };
    expect(problem(() => eventsFromHook(mapped, { 'x-payload': 'x' }, Buffer.from('{}'), () => undefined, () => 'id-3'))).toMatchObject({ status: 500, message: expect.stringContaining('x-payload') });
  });
});
