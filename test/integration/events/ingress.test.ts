import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { signBody } from '@/runtime/events/webhooks';
import { defineSecret, testSecretKey } from '@/test/helpers/secrets';
import { waitFor } from '@/test/helpers/databases';
import {
  backendEnv,
  backends,
  deploy,
  dropStreams,
  pipeline,
  post,
  startSink,
  startWorker,
  streamPrefix,
  structured,
  undeployAll,
  waitForHook,
  type Sink,
  type Worker,
} from '@/test/integration/events/helpers';
import { malformedCases } from '@/test/integration/events/malformed';

// Webhook keys are secrets users define (the secret store), never environment variables.
const SECRETS = { 'gh-key': 'gh-secret', 'signed-key': 'hmac-secret', 'shared-key': 'shared-secret' };
const KEY = testSecretKey();
const LIMIT = 4096;

describe.each(backends)('ingress on %s', (backend) => {
  const prefix = streamPrefix('ingress');
  let pool: pg.Pool;
  let worker: Worker;
  let sink: Sink;

  const count = async () => Number((await pool.query<{ n: string }>('SELECT count(*) AS n FROM event')).rows[0]!.n);
  /** The events in the table once it stops growing: on JetStream the studio's copy is written just after the acknowledgement. */
  const storedCount = async () => {
    let last = -1;
    return waitFor(
      async () => {
        const now = await count();
        if (now === last) return now;
        last = now;
        await new Promise((r) => setTimeout(r, 300));
        return undefined;
      },
      10_000,
      'a settled event table',
    );
  };
  const find = async (source: string, id: string) =>
    (await pool.query('SELECT * FROM event WHERE source = $1 AND id = $2', [source, id])).rows[0] as Record<string, unknown> | undefined;
  /** The event's row, waited for (at once on PostgreSQL, shortly after the acknowledgement on JetStream). */
  const stored = async (source: string, id: string) => waitFor(() => find(source, id), 10_000, `event ${source} ${id} in the table`);

  beforeAll(async () => {
    pool = new pg.Pool({ connectionString: inject('databaseUrl') });
    sink = await startSink();
    const hook = (id: string, connection: Record<string, unknown>) => ({ id: `src-${id}`, kind: 'http-webhook', connection: { path: id, ...connection } });
    await deploy(
      pool,
      pipeline({
        name: 'ingress-hooks',
        with: { type: 'never.matches' },
        url: sink.url,
        sources: [
          hook('ce-plain', { mode: 'cloudevents' }),
          hook('common-plain', { mode: 'json', eventSource: 'https://shop.example/orders', headers: { 'x-tenant': 'tenant' } }),
          hook('gh', { mode: 'github', secret: 'gh-key' }),
          hook('signed', { mode: 'cloudevents', secret: 'signed-key' }),
          hook('shared', { mode: 'json', secret: 'shared-key', auth: 'shared-secret' }),
          hook('unset-secret', { mode: 'json', secret: 'nowhere' }),
        ],
      }),
    );
    for (const [name, value] of Object.entries(SECRETS)) await defineSecret(pool, KEY.key, name, value);
    worker = await startWorker(inject('databaseUrl'), { ...backendEnv(backend, prefix), MESHFLOW_SECRET_KEY: KEY.env, MESHFLOW_MAX_EVENT_BYTES: String(LIMIT) });
    await waitForHook(worker.base, 'shared');
  });

  afterAll(async () => {
    await worker?.running.stop();
    await sink?.close();
    await undeployAll(pool);
    await pool.end();
    if (backend === 'jetstream') await dropStreams(prefix);
  });

  it('accepts binary mode: ce-* headers, the body as data, percent-decoded values', async () => {
    const id = randomUUID();
    const res = await post(worker.base, '/events', {
      method: 'POST',
      headers: {
        'ce-specversion': '1.0',
        'ce-id': id,
        'ce-source': '/binary',
        'ce-type': 'com.example.binary',
        'ce-subject': 'caf%C3%A9',
        'ce-time': '2025-01-31T12:00:00Z',
        'ce-tenant': 'acme',
        'content-type': 'application/json',
      },
      body: JSON.stringify({ total: 7 }),
    });
    expect(res).toEqual({ status: 202, body: { accepted: 1, duplicates: 0 } });
    const row = await stored('/binary', id);
    expect(row).toMatchObject({ type: 'com.example.binary', subject: 'café', datacontenttype: 'application/json', data: { total: 7 }, extensions: { tenant: 'acme' }, ingress: 'events' });
  });

  it('keeps text bodies as text and other bodies as Base64', async () => {
    const a = randomUUID();
    const b = randomUUID();
    const base = { 'ce-specversion': '1.0', 'ce-source': '/binary', 'ce-type': 't' };
    expect((await post(worker.base, '/events', { method: 'POST', headers: { ...base, 'ce-id': a, 'content-type': 'text/plain' }, body: 'hello' })).status).toBe(202);
    expect((await post(worker.base, '/events', { method: 'POST', headers: { ...base, 'ce-id': b, 'content-type': 'application/octet-stream' }, body: new Uint8Array([0, 255]) })).status).toBe(202);
    expect(await stored('/binary', a)).toMatchObject({ data: 'hello', dataBase64: null });
    expect(await stored('/binary', b)).toMatchObject({ data: null, dataBase64: 'AP8=' });
  });

  it('accepts structured mode with extensions of every type', async () => {
    const id = randomUUID();
    const res = await post(worker.base, '/events', structured({ id, source: 'https://shop.example/orders', type: 'com.example.structured', count: 3, flag: true, data: [1, 2] }));
    expect(res.status).toBe(202);
    expect(await stored('https://shop.example/orders', id)).toMatchObject({ data: [1, 2], extensions: { count: 3, flag: true } });
  });

  it('accepts batch mode, all members in one commit', async () => {
    const ids = [randomUUID(), randomUUID(), randomUUID()];
    const res = await post(worker.base, '/events', {
      method: 'POST',
      headers: { 'content-type': 'application/cloudevents-batch+json' },
      body: JSON.stringify(ids.map((id) => ({ specversion: '1.0', id, source: '/batch', type: 'com.example.batch' }))),
    });
    expect(res.body).toEqual({ accepted: 3, duplicates: 0 });
    for (const id of ids) expect(await stored('/batch', id)).toBeDefined();
  });

  it('acknowledges a repeated (source, id) without storing it twice, also within one batch', async () => {
    const id = randomUUID();
    const event = { specversion: '1.0', id, source: '/dup', type: 'com.example.dup', data: 1 };
    expect((await post(worker.base, '/events', structured(event))).body).toEqual({ accepted: 1, duplicates: 0 });
    expect((await post(worker.base, '/events', structured({ ...event, data: 2 }))).body).toEqual({ accepted: 1, duplicates: 1 });
    const batch = await post(worker.base, '/events', {
      method: 'POST',
      headers: { 'content-type': 'application/cloudevents-batch+json' },
      body: JSON.stringify([event, { ...event, id: `${id}-b` }, { ...event, id: `${id}-b` }]),
    });
    expect(batch.body).toEqual({ accepted: 3, duplicates: 2 });
    await stored('/dup', `${id}-b`);
    await storedCount();
    const rows = await pool.query('SELECT data FROM event WHERE source = $1 AND id LIKE $2 ORDER BY id', ['/dup', `${id}%`]);
    expect(rows.rows).toHaveLength(2);
    expect(rows.rows.map((r: { data: unknown }) => r.data)).toEqual([1, 1]);
  });

  it('accepts CloudEvents on a webhook in cloudevents mode', async () => {
    const id = randomUUID();
    expect((await post(worker.base, '/hooks/ce-plain', structured({ id, source: '/hook', type: 'com.example.hook' }))).status).toBe(202);
    expect(await stored('/hook', id)).toMatchObject({ ingress: 'hook:ce-plain' });
  });

  it('turns any body into data in common mode, with configured and header attributes', async () => {
    const before = (await pool.query<{ n: string }>(`SELECT coalesce(max(seq), 0) AS n FROM event`)).rows[0]!.n;
    const res = await post(worker.base, '/hooks/common-plain', { method: 'POST', headers: { 'content-type': 'application/json', 'x-tenant': 'acme' }, body: '{"order": 1}' });
    expect(res.status).toBe(202);
    const latest = async () =>
      (await pool.query(`SELECT * FROM event WHERE ingress = 'hook:common-plain' AND seq > $1 ORDER BY seq DESC LIMIT 1`, [before])).rows[0] as Record<string, unknown> | undefined;
    const row = await waitFor(latest, 10_000, 'the common-mode event');
    expect(row).toMatchObject({ source: 'https://shop.example/orders', type: 'never.matches', data: { order: 1 }, extensions: { tenant: 'acme' } });
    expect(row.id).toMatch(/^[0-9a-f-]{36}$/);
    const id = randomUUID();
    await post(worker.base, '/hooks/common-plain', { method: 'POST', headers: { 'ce-id': id, 'ce-type': 'com.example.given', 'content-type': 'text/plain' }, body: 'plain words' });
    expect(await stored('https://shop.example/orders', id)).toMatchObject({ type: 'com.example.given', data: 'plain words' });
  });

  it('checks GitHub signatures and maps delivery id and event name', async () => {
    const delivery = randomUUID();
    const body = JSON.stringify({ action: 'opened', repository: { full_name: 'acme/shop' } });
    const res = await post(worker.base, '/hooks/gh', {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-github-event': 'pull_request', 'x-github-delivery': delivery, 'x-hub-signature-256': signBody('gh-secret', body) },
      body,
    });
    expect(res.status).toBe(202);
    expect(await stored('https://github.com/acme/shop', delivery)).toMatchObject({ type: 'com.github.pull_request', data: { action: 'opened' } });
  });

  it('accepts HMAC-signed CloudEvents and shared-secret requests', async () => {
    const id = randomUUID();
    const body = JSON.stringify({ specversion: '1.0', id, source: '/signed', type: 't' });
    expect((await post(worker.base, '/hooks/signed', { method: 'POST', headers: { 'content-type': 'application/cloudevents+json', 'x-hub-signature-256': signBody('hmac-secret', body) }, body })).status).toBe(202);
    expect((await post(worker.base, '/hooks/shared', { method: 'POST', headers: { authorization: 'Bearer shared-secret' }, body: '{"a":1}' })).status).toBe(202);
    expect((await post(worker.base, '/hooks/shared', { method: 'POST', headers: { 'x-webhook-secret': 'shared-secret' }, body: 'text' })).status).toBe(202);
    expect(await stored('/signed', id)).toBeDefined();
  });

  const ce = (extra: Record<string, unknown> = {}) => ({ specversion: '1.0', id: 'bad-1', source: '/bad', type: 'com.example.bad', ...extra });
  const sj = (event: unknown): RequestInit => ({ method: 'POST', headers: { 'content-type': 'application/cloudevents+json' }, body: JSON.stringify(event) });
  const bin = (headers: Record<string, string>, body: BodyInit = '{}'): RequestInit => ({
    method: 'POST',
    headers: { 'ce-specversion': '1.0', 'ce-id': 'bad-2', 'ce-source': '/bad', 'ce-type': 'com.example.bad', 'content-type': 'application/json', ...headers },
    body,
  });
  const batch = (members: unknown): RequestInit => ({ method: 'POST', headers: { 'content-type': 'application/cloudevents-batch+json' }, body: JSON.stringify(members) });
  const omit = (name: string) => {
    const event: Record<string, unknown> = ce();
    delete event[name];
    return event;
  };
  const ghBody = '{"zen":"x"}';

  // [name, path, request, status, attribute named in the problem (if any)]
  const badInputs: [string, string, RequestInit, number, string?][] = [
    ['structured: malformed JSON', '/events', { method: 'POST', headers: { 'content-type': 'application/cloudevents+json' }, body: '{"id": ' }, 400],
    ['structured: empty body', '/events', { method: 'POST', headers: { 'content-type': 'application/cloudevents+json' }, body: '' }, 400],
    ['structured: a JSON array', '/events', sj([ce()]), 400],
    ['structured: a JSON string', '/events', sj('event'), 400],
    ['structured: missing specversion', '/events', sj(omit('specversion')), 400, 'specversion'],
    ['structured: specversion 0.3', '/events', sj(ce({ specversion: '0.3' })), 400, 'specversion'],
    ['structured: missing id', '/events', sj(omit('id')), 400, 'id'],
    ['structured: empty id', '/events', sj(ce({ id: '' })), 400, 'id'],
    ['structured: numeric id', '/events', sj(ce({ id: 42 })), 400, 'id'],
    ['structured: missing source', '/events', sj(omit('source')), 400, 'source'],
    ['structured: source with spaces', '/events', sj(ce({ source: 'not a uri' })), 400, 'source'],
    ['structured: missing type', '/events', sj(omit('type')), 400, 'type'],
    ['structured: empty type', '/events', sj(ce({ type: '' })), 400, 'type'],
    ['structured: time not RFC 3339', '/events', sj(ce({ time: 'yesterday' })), 400, 'time'],
    ['structured: empty subject', '/events', sj(ce({ subject: '' })), 400, 'subject'],
    ['structured: relative dataschema', '/events', sj(ce({ dataschema: 'schemas/order' })), 400, 'dataschema'],
    ['structured: datacontenttype not a media type', '/events', sj(ce({ datacontenttype: 'json' })), 400, 'datacontenttype'],
    ['structured: upper-case extension name', '/events', sj(ce({ myExt: 'x' })), 400, 'myExt'],
    ['structured: extension name with underscore', '/events', sj(ce({ my_ext: 'x' })), 400, 'my_ext'],
    ['structured: extension name over 20 characters', '/events', sj(ce({ abcdefghijklmnopqrstu: 'x' })), 400, 'abcdefghijklmnopqrstu'],
    ['structured: object extension value', '/events', sj(ce({ tenant: { id: 1 } })), 400, 'tenant'],
    ['structured: fractional extension value', '/events', sj(ce({ ratio: 0.5 })), 400, 'ratio'],
    ['structured: extension beyond 32 bits', '/events', sj(ce({ big: 2 ** 40 })), 400, 'big'],
    ['structured: data and data_base64 together', '/events', sj(ce({ data: 1, data_base64: 'AA==' })), 400, 'data_base64'],
    ['structured: data_base64 not Base64', '/events', sj(ce({ data_base64: '***' })), 400, 'data_base64'],
    ['structured: object data under text/plain', '/events', sj(ce({ datacontenttype: 'text/plain', data: { a: 1 } })), 400, 'datacontenttype'],
    ['binary: missing ce-id', '/events', bin({ 'ce-id': '' }), 400, 'id'],
    ['binary: ce-specversion 2.0', '/events', bin({ 'ce-specversion': '2.0' }), 400, 'specversion'],
    ['binary: missing ce-type', '/events', { method: 'POST', headers: { 'ce-specversion': '1.0', 'ce-id': 'x', 'ce-source': '/bad' }, body: '' }, 400, 'type'],
    ['binary: bad percent-encoding', '/events', bin({ 'ce-subject': '%E0%A4%A' }), 400, 'subject'],
    ['binary: invalid ce-time', '/events', bin({ 'ce-time': '2025-13-45' }), 400, 'time'],
    ['binary: JSON content-type, body not JSON', '/events', bin({}, '{nope'), 400, 'data'],
    ['binary: extension header with underscore', '/events', bin({ 'ce-my_ext': 'x' }), 400, 'my_ext'],
    ['no ce-* headers, plain JSON', '/events', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' }, 415],
    ['no ce-* headers, text', '/events', { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'hi' }, 415],
    ['unsupported event format', '/events', { method: 'POST', headers: { 'content-type': 'application/cloudevents+avro' }, body: 'x' }, 415],
    ['batch: not an array', '/events', batch(ce()), 400],
    ['batch: a member missing source', '/events', batch([ce({ id: 'b1' }), omit('source')]), 400, '[1].source'],
    ['batch: a member that is a number', '/events', batch([ce(), 7]), 400, '[1]'],
    ['batch: malformed JSON', '/events', { method: 'POST', headers: { 'content-type': 'application/cloudevents-batch+json' }, body: '[{' }, 400],
    ['oversize structured body', '/events', sj(ce({ data: 'x'.repeat(LIMIT) })), 413],
    ['oversize batch', '/events', batch(Array.from({ length: 60 }, (_, i) => ce({ id: `o${i}`, data: 'x'.repeat(80) }))), 413],
    ['GET /events', '/events', { method: 'GET' }, 405],
    ['unknown hook', '/hooks/nope', sj(ce()), 404],
    ['github: no signature', '/hooks/gh', { method: 'POST', headers: { 'x-github-event': 'ping', 'x-github-delivery': 'd1' }, body: ghBody }, 401],
    ['github: wrong signature', '/hooks/gh', { method: 'POST', headers: { 'x-github-event': 'ping', 'x-github-delivery': 'd1', 'x-hub-signature-256': signBody('wrong', ghBody) }, body: ghBody }, 401],
    ['github: missing event name', '/hooks/gh', { method: 'POST', headers: { 'x-github-delivery': 'd1', 'x-hub-signature-256': signBody('gh-secret', ghBody) }, body: ghBody }, 400, 'type'],
    ['github: payload not JSON', '/hooks/gh', { method: 'POST', headers: { 'x-github-event': 'ping', 'x-github-delivery': 'd1', 'x-hub-signature-256': signBody('gh-secret', '{x') }, body: '{x' }, 400, 'data'],
    ['hmac hook: signature of another body', '/hooks/signed', { method: 'POST', headers: { 'content-type': 'application/cloudevents+json', 'x-hub-signature-256': signBody('hmac-secret', '{}') }, body: JSON.stringify(ce()) }, 401],
    ['shared-secret hook: wrong secret', '/hooks/shared', { method: 'POST', headers: { authorization: 'Bearer guess' }, body: '{}' }, 401],
    ['shared-secret hook: no secret', '/hooks/shared', { method: 'POST', body: '{}' }, 401],
    ['common hook: JSON content-type, body not JSON', '/hooks/common-plain', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{' }, 400, 'data'],
    ['common hook: invalid ce-source header', '/hooks/common-plain', { method: 'POST', headers: { 'ce-source': 'has space' }, body: '{}' }, 400, 'source'],
    ['cloudevents hook: missing type', '/hooks/ce-plain', sj(omit('type')), 400, 'type'],
    ['hook whose secret is not configured', '/hooks/unset-secret', { method: 'POST', body: '{}' }, 500],
    ['github: payload not UTF-8', '/hooks/gh', { method: 'POST', headers: { 'x-github-event': 'ping', 'x-github-delivery': 'd2', 'x-hub-signature-256': signBody('gh-secret', Buffer.from([0x7b, 0xff, 0x7d])) }, body: new Uint8Array([0x7b, 0xff, 0x7d]) }, 400, 'data'],
    ['common hook: NUL in JSON data', '/hooks/common-plain', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"a":"\\u0000"}' }, 400, 'data'],
    ['common hook: mapped header with a control character', '/hooks/common-plain', { method: 'POST', headers: { 'x-tenant': 'a\tb' }, body: '{}' }, 400, 'tenant'],
    ...malformedCases('table').map((c): [string, string, RequestInit, number, string?] => [c.name, '/events', c.init, 400, c.attribute]),
  ];

  it(`refuses ${badInputs.length} malformed requests with their specific status, stores nothing, keeps serving`, async () => {
    expect(badInputs.length).toBeGreaterThanOrEqual(30);
    const before = await storedCount();
    const failures: string[] = [];
    for (const [name, path, init, status, attribute] of badInputs) {
      const res = await fetch(`${worker.base}${path}`, init);
      const text = await res.text();
      let problem: Record<string, unknown> = {};
      try {
        problem = JSON.parse(text) as Record<string, unknown>;
      } catch {
        failures.push(`${name}: body is not JSON: ${text}`);
      }
      if (res.status !== status) failures.push(`${name}: expected ${status}, got ${res.status} ${text}`);
      if (res.headers.get('content-type') !== 'application/problem+json') failures.push(`${name}: not problem details`);
      if (problem.status !== status || typeof problem.detail !== 'string') failures.push(`${name}: problem ${text}`);
      if (attribute !== undefined && problem.attribute !== attribute) failures.push(`${name}: attribute ${String(problem.attribute)}, expected ${attribute} (${text})`);
    }
    expect(failures).toEqual([]);
    expect(await storedCount()).toBe(before);
    expect((await fetch(`${worker.base}/health`)).status).toBe(200);
    expect((await post(worker.base, '/events', structured({ id: randomUUID(), source: '/after', type: 't' }))).status).toBe(202);
    const metrics = await (await fetch(`${worker.base}/metrics`)).text();
    expect(metrics).toMatch(/meshflow_events_rejected_total\{status="400"\} \d+/);
  });

  it('serves /metrics in Prometheus text format', async () => {
    const res = await fetch(`${worker.base}/metrics`);
    expect(res.headers.get('content-type')).toContain('text/plain');
    const text = await res.text();
    expect(text).toContain('# TYPE meshflow_events_accepted_total counter');
    expect(text).toContain('# TYPE meshflow_delivery_latency_seconds histogram');
    expect(text).toContain('# TYPE meshflow_delivery_backlog gauge');
  });
});
