/** The studio's tRPC API route served by plain Node on a loopback port: what `meshflow` talks to in tests. */
import { createServer, type Server } from 'node:http';
import { fetchRequestHandler } from '@trpc/server/adapters/fetch';
import { appRouter } from '@/server/routers/root';
import { createContext } from '@/server/trpc';

export interface StudioApi {
  server: Server;
  url: string;
  close: () => Promise<void>;
}

export function serveApi(): Promise<StudioApi> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = chunks.length > 0 ? Buffer.concat(chunks) : undefined;
      const request = new Request(`http://127.0.0.1${req.url ?? '/'}`, {
        method: req.method,
        headers: Object.entries(req.headers).flatMap(([k, v]) => (typeof v === 'string' ? [[k, v] as [string, string]] : [])),
        ...(body && req.method !== 'GET' ? { body } : {}),
      });
      void fetchRequestHandler({ endpoint: '/api/trpc', req: request, router: appRouter, createContext: () => createContext(request.headers) }).then(async (response) => {
        res.writeHead(response.status, Object.fromEntries(response.headers));
        res.end(Buffer.from(await response.arrayBuffer()));
      });
    });
  });
  const close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ server, url: `http://127.0.0.1:${(server.address() as { port: number }).port}`, close })));
}
