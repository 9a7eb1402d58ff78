import { describe, expect, it } from 'vitest';
import { IngressError, validateBinary, validateStructured } from '../../../runtime/events/cloudevent';
import { eventsFromRequest } from '../../../runtime/events/http-binding';

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
});
