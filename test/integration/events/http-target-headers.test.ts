import { once } from 'node:events';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HttpDeliverer } from '@/runtime/events/http-delivery';
import { DEFAULT_DELIVERY, type HttpTarget } from '@/runtime/events/plan';

/** What a target receives: the request line and headers a delivery puts on the wire. */
describe('HTTP delivery on the wire', () => {
  const seen: { url: string; method: string; headers: IncomingHttpHeaders; raw: string[]; body: string }[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk));
    req.on('end', () => {
      seen.push({ url: req.url ?? '', method: req.method ?? '', headers: req.headers, raw: req.rawHeaders, body });
      res.end();
    });
  });
  const deliverer = new HttpDeliverer();
  let port = 0;
  beforeAll(async () => {
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    port = (server.address() as AddressInfo).port;
  });
  afterAll(() => {
    deliverer.close();
    server.close();
  });

  const target = (url: string, headers: Record<string, string> = {}): HttpTarget => ({ task: 'send', url, method: 'PUT', headers, delivery: DEFAULT_DELIVERY });

  it('sends the path and query, the Host, and one of each header: the request’s over the target’s whatever the case', async () => {
    const outcome = await deliverer.send(target(`http://127.0.0.1:${port}/in/box?x=1&y=2`, { 'X-Team': 'a', 'Content-Type': 'text/plain', 'Content-Length': '999' }), {
      headers: { 'content-type': 'application/json', 'ce-id': 'e1' },
      body: Buffer.from('{"a":1}'),
    });
    expect(outcome).toEqual({ ok: true, status: 200 });
    const got = seen.at(-1)!;
    expect(got).toMatchObject({ url: '/in/box?x=1&y=2', method: 'PUT', body: '{"a":1}' });
    expect(got.headers).toMatchObject({ host: `127.0.0.1:${port}`, 'x-team': 'a', 'content-type': 'application/json', 'content-length': '7', 'ce-id': 'e1' });
    const names = got.raw.filter((_, i) => i % 2 === 0).map((n) => n.toLowerCase());
    expect(names.filter((n) => n === 'content-type' || n === 'content-length' || n === 'host')).toHaveLength(3);
  });

  it('keeps a Host header the target sets, and credentials in the URL as basic authorisation', async () => {
    await deliverer.send(target(`http://user:p%40ss@127.0.0.1:${port}/`, { Host: 'example.test' }), { headers: {}, body: Buffer.alloc(0) });
    const got = seen.at(-1)!;
    expect(got.headers.host).toBe('example.test');
    expect(got.headers.authorization).toBe(`Basic ${Buffer.from('user:p@ss').toString('base64')}`);
  });
});
