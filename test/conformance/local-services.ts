/**
 * Local stand-ins for the internet services the conformance kit's scenarios call
 * (petstore.swagger.io, httpbin.org), on 127.0.0.1, and an HTTP port that sends the
 * scenarios' URLs there — so the scenario documents stay exactly as the kit wrote them.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fetchHttp } from '@/runtime/engine/host/node-ports';
import type { HttpPort, HttpRequest } from '@/runtime/engine/ports';

export const PETS = [
  { id: 1, name: 'doggie', status: 'available', category: { id: 1, name: 'dogs' } },
  { id: 2, name: 'kitty', status: 'available', category: { id: 2, name: 'cats' } },
  { id: 3, name: 'goldie', status: 'sold', category: { id: 3, name: 'fish' } },
];

const SWAGGER = {
  swagger: '2.0',
  info: { title: 'Swagger Petstore (local)', version: '1.0.7' },
  host: 'petstore.swagger.io',
  basePath: '/v2',
  schemes: ['https'],
  paths: {
    '/pet/findByStatus': {
      get: { operationId: 'findPetsByStatus', parameters: [{ name: 'status', in: 'query', required: true, type: 'array', items: { type: 'string' } }], responses: { '200': { description: 'ok' } } },
    },
    '/pet/{petId}': {
      get: { operationId: 'getPetById', parameters: [{ name: 'petId', in: 'path', required: true, type: 'integer' }], responses: { '200': { description: 'ok' } } },
    },
  },
};

export interface LocalServices {
  origin: string;
  /** Requests seen, as "METHOD path?query". */
  seen: string[];
  /** Status the next `/v2/pet/getPetByName/*` answers with (404 like the real petstore by default). */
  petByNameStatus: number;
  http: HttpPort;
  close(): Promise<void>;
}

export async function startLocalServices(): Promise<LocalServices> {
  const services = { seen: [] as string[], petByNameStatus: 404 } as LocalServices;
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://local');
    services.seen.push(`${req.method} ${url.pathname}${url.search}`);
    const json = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    const path = url.pathname;
    if (path === '/v2/swagger.json') return json(200, SWAGGER);
    if (path === '/v2/pet/findByStatus') return json(200, PETS.filter((p) => url.searchParams.getAll('status').includes(p.status)));
    if (path.startsWith('/v2/pet/getPetByName/')) return json(services.petByNameStatus, { code: services.petByNameStatus, type: 'error', message: 'Pet not found' });
    const pet = /^\/v2\/pet\/(\d+)$/.exec(path);
    if (pet) {
      const found = PETS.find((p) => p.id === Number(pet[1]));
      return found ? json(200, found) : json(404, { code: 1, type: 'error', message: 'Pet not found' });
    }
    const basic = /^\/basic-auth\/([^/]+)\/([^/]+)$/.exec(path);
    if (basic) {
      const expected = `Basic ${Buffer.from(`${basic[1]}:${basic[2]}`).toString('base64')}`;
      return req.headers.authorization === expected ? json(200, { authenticated: true, user: basic[1] }) : json(401, { authenticated: false });
    }
    json(404, { message: `no route ${path}` });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  services.origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const hosts = ['https://petstore.swagger.io', 'https://httpbin.org'];
  services.http = {
    request(request: HttpRequest, signal: AbortSignal) {
      const host = hosts.find((h) => request.url.startsWith(h));
      const url = host ? services.origin + request.url.slice(host.length) : request.url;
      return fetchHttp.request({ ...request, url }, signal);
    },
  };
  services.close = () => new Promise<void>((resolve) => server.close(() => resolve()));
  return services;
}
