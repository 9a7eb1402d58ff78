/**
 * The worker's own HTTP port: health and readiness now; event ingress joins it here.
 * Errors are RFC 7807 problem details.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';

export interface Readiness {
  ready: boolean;
  checks: Record<string, { ok: boolean; detail: string }>;
}

export interface WorkerHttpDeps {
  workerId: string;
  startedAt: Date;
  deploymentCount: () => number;
  readiness: () => Promise<Readiness>;
  /** Further routes (the data plane's); returns false for requests it does not serve. */
  routes?: (req: IncomingMessage, res: ServerResponse) => boolean;
  /** Most time a client may take over its request headers (slowloris); Node answers 408 and closes. */
  headersTimeoutMs?: number;
  /** Most time a whole request may take to arrive. */
  requestTimeoutMs?: number;
  /** How long an idle keep-alive connection stays open. */
  keepAliveTimeoutMs?: number;
}

export function sendJson(res: ServerResponse, status: number, body: unknown, type = 'application/json'): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

export function sendProblem(res: ServerResponse, status: number, title: string, detail: string, extra = {}): void {
  sendJson(res, status, { type: 'about:blank', title, status, detail, ...extra }, 'application/problem+json');
}

export function createWorkerServer(deps: WorkerHttpDeps): Server {
  const headersTimeout = deps.headersTimeoutMs ?? 10_000;
  const requestTimeout = Math.max(deps.requestTimeoutMs ?? 40_000, headersTimeout);
  // Node checks those deadlines every `connectionsCheckingInterval` (30 s by default): often enough that they hold.
  const options = { headersTimeout, requestTimeout, connectionsCheckingInterval: Math.min(1000, Math.ceil(headersTimeout / 4)) };
  const server = createServer(options, (req: IncomingMessage, res: ServerResponse) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method === 'GET' && path === '/health') {
      sendJson(res, 200, {
        status: 'up',
        workerId: deps.workerId,
        startedAt: deps.startedAt.toISOString(),
        deployments: deps.deploymentCount(),
      });
      return;
    }
    if (req.method === 'GET' && path === '/ready') {
      deps
        .readiness()
        .then((r) => sendJson(res, r.ready ? 200 : 503, { status: r.ready ? 'ready' : 'not ready', checks: r.checks }))
        .catch((error: Error) => sendProblem(res, 503, 'Not ready', error.message));
      return;
    }
    if (deps.routes?.(req, res)) return;
    sendProblem(res, 404, 'Not Found', `no route for ${req.method} ${path}`);
  });
  // Node's 5 s closes idle keep-alive connections that a client, or a busy event loop here, is
  // about to reuse: the request then fails unanswered. Load balancers idle out at 60 s; outlast them.
  server.keepAliveTimeout = deps.keepAliveTimeoutMs ?? 65_000;
  return server;
}
