/**
 * Events that used to reach the database and fail there (and fail every request committed
 * with them): control characters, impossible timestamps, deep or unstorable data, invalid
 * UTF-8, reserved attribute names. Each must be refused on its own with a 400 naming the
 * attribute. Shared by the ingress table (test/integration/events/ingress.test.ts) and the
 * isolation test under load (test/security/ingress.test.ts).
 */
import { MAX_DATA_DEPTH } from '@/runtime/events/cloudevent';

export interface MalformedCase {
  name: string;
  init: RequestInit;
  /** The attribute the problem names; none when the fault is in the body's bytes. */
  attribute?: string;
  /** Further members the problem must have (`pointer`, `offset`). */
  problem?: Record<string, unknown>;
}

const STRUCTURED = 'application/cloudevents+json';
const BATCH = 'application/cloudevents-batch+json';

/** Every case gets its own id, so a case stored by mistake shows up, and none is a repeat of another. */
export function malformedCases(tag: string): MalformedCase[] {
  let n = 0;
  const ce = (extra: Record<string, unknown> = {}) => ({ specversion: '1.0', id: `bad-${tag}-${++n}`, source: '/malformed', type: 'com.example.malformed', ...extra });
  const sj = (event: unknown): RequestInit => ({ method: 'POST', headers: { 'content-type': STRUCTURED }, body: JSON.stringify(event) });
  const raw = (type: string, bytes: Buffer): RequestInit => ({ method: 'POST', headers: { 'content-type': type }, body: new Uint8Array(bytes) });
  const bin = (headers: Record<string, string>, body: BodyInit = '{}'): RequestInit => ({
    method: 'POST',
    headers: { 'ce-specversion': '1.0', 'ce-id': `bad-${tag}-${++n}`, 'ce-source': '/malformed', 'ce-type': 'com.example.malformed', 'content-type': 'application/json', ...headers },
    body,
  });
  const nested = (depth: number): unknown => {
    let value: unknown = 'bottom';
    for (let i = 0; i < depth; i++) value = i % 2 ? { a: value } : [value];
    return value;
  };
  // A structured event whose JSON text is valid but whose bytes are not UTF-8 (0xff inside a string).
  const badUtf8 = (type: string, json: string) => {
    const at = json.indexOf('@@');
    return raw(type, Buffer.concat([Buffer.from(json.slice(0, at)), Buffer.from([0xff, 0xfe]), Buffer.from(json.slice(at + 2))]));
  };
  return [
    { name: 'structured: NUL in subject', init: sj(ce({ subject: 'a\u0000b' })), attribute: 'subject' },
    { name: 'structured: newline in an extension', init: sj(ce({ tenant: 'a\nb' })), attribute: 'tenant' },
    { name: 'structured: C1 control in type', init: sj(ce({ type: 'com.example\u0085x' })), attribute: 'type' },
    { name: 'structured: noncharacter in id', init: sj(ce({ id: `x\uffff${++n}` })), attribute: 'id' },
    { name: 'structured: unpaired surrogate in subject', init: { method: 'POST', headers: { 'content-type': STRUCTURED }, body: `{"specversion":"1.0","id":"bad-${tag}-${++n}","source":"/m","type":"t","subject":"\\ud800"}` }, attribute: 'subject' },
    { name: 'structured: time with month 13', init: sj(ce({ time: '2025-13-01T00:00:00Z' })), attribute: 'time' },
    { name: 'structured: time with day 32', init: sj(ce({ time: '2025-01-32T00:00:00Z' })), attribute: 'time' },
    { name: 'structured: time on 30 February', init: sj(ce({ time: '2025-02-30T00:00:00Z' })), attribute: 'time' },
    { name: 'structured: time with hour 25', init: sj(ce({ time: '2025-01-01T25:00:00Z' })), attribute: 'time' },
    { name: 'structured: time in year 0000', init: sj(ce({ time: '0000-01-01T00:00:00Z' })), attribute: 'time' },
    { name: 'structured: time offset +16:00', init: sj(ce({ time: '2025-01-01T00:00:00+16:00' })), attribute: 'time' },
    { name: 'structured: NUL in a data string', init: sj(ce({ data: { order: { note: 'a\u0000b' } } })), attribute: 'data', problem: { pointer: '/order/note' } },
    { name: 'structured: NUL in a data member name', init: sj(ce({ data: { 'k\u0000': 1 } })), attribute: 'data', problem: { pointer: '/k\u0000' } },
    { name: 'structured: NUL in text data', init: sj(ce({ datacontenttype: 'text/plain', data: 'a\u0000' })), attribute: 'data' },
    { name: 'structured: unpaired surrogate in data', init: { method: 'POST', headers: { 'content-type': STRUCTURED }, body: `{"specversion":"1.0","id":"bad-${tag}-${++n}","source":"/m","type":"t","data":["\\udc00"]}` }, attribute: 'data', problem: { pointer: '/0' } },
    { name: `structured: data nested ${MAX_DATA_DEPTH + 1} deep`, init: sj(ce({ data: nested(MAX_DATA_DEPTH + 1) })), attribute: 'data' },
    { name: 'structured: data nested 1500 deep', init: { method: 'POST', headers: { 'content-type': STRUCTURED }, body: `{"specversion":"1.0","id":"bad-${tag}-${++n}","source":"/m","type":"t","data":${'['.repeat(1500)}${']'.repeat(1500)}}` }, attribute: 'data' },
    (() => {
      const json = JSON.stringify(ce({ subject: '@@' }));
      return { name: 'structured: invalid UTF-8', init: badUtf8(STRUCTURED, json), problem: { offset: Buffer.byteLength(json.slice(0, json.indexOf('@@'))) } };
    })(),
    { name: 'batch: invalid UTF-8', init: badUtf8(BATCH, JSON.stringify([ce({ subject: '@@' })])) },
    { name: 'batch: NUL in the data of member 1', init: { method: 'POST', headers: { 'content-type': BATCH }, body: JSON.stringify([ce(), ce({ data: ['\u0000'] })]) }, attribute: '[1].data', problem: { pointer: '/0' } },
    { name: 'batch: month 13 in member 0', init: { method: 'POST', headers: { 'content-type': BATCH }, body: JSON.stringify([ce({ time: '2025-13-01T00:00:00Z' }), ce()]) }, attribute: '[0].time' },
    { name: 'binary: extension header ce-data', init: bin({ 'ce-data': 'x' }), attribute: 'data' },
    { name: 'binary: NUL in ce-subject', init: bin({ 'ce-subject': 'a%00b' }), attribute: 'subject' },
    { name: 'binary: newline in an extension header', init: bin({ 'ce-tenant': 'a%0Ab' }), attribute: 'tenant' },
    { name: 'binary: ce-time with month 13', init: bin({ 'ce-time': '2025-13-01T00:00:00Z' }), attribute: 'time' },
    { name: 'binary: JSON data not UTF-8', init: bin({}, new Uint8Array([0x22, 0xc3, 0x28, 0x22])), attribute: 'data', problem: { offset: 1 } },
    { name: 'binary: NUL in JSON data', init: bin({}, JSON.stringify({ a: '\u0000' })), attribute: 'data', problem: { pointer: '/a' } },
    { name: 'binary: JSON data nested too deep', init: bin({}, JSON.stringify(nested(MAX_DATA_DEPTH + 1))), attribute: 'data' },
  ];
}
