/**
 * The data plane's HTTP routes on the worker port:
 * - `POST /events`: CloudEvents in binary, structured or batch mode;
 * - `POST /hooks/<sourceId>`: a deployed webhook source;
 * - `GET /metrics`: Prometheus text format, behind a bearer token when one is configured.
 * A 2xx means every event of the request is committed (or was already in the log). Any
 * refusal is a problem details response naming the attribute, and stores nothing. A body
 * that does not arrive within the body deadline is answered 408 and its connection closed.
 */
import { randomUUID, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { CatalogGate } from '../catalog/gate.ts';
import { IngressError, type CloudEventRecord } from '../events/cloudevent.ts';
import type { EventAppender } from '../events/backend.ts';
import type { AppendOutcome } from '../events/event-log.ts';
import { eventsFromRequest } from '../events/http-binding.ts';
import type { DataPlaneMetrics } from '../events/metrics.ts';
import type { Routing, SubscriptionSet } from '../events/subscriptions.ts';
import { adoptRequestTraceContext } from '../events/tracing.ts';
import { eventsFromHook, type SecretLookup } from '../events/webhooks.ts';
import { sendJson, sendProblem } from './http-server.ts';
import type { Logger } from './log.ts';

export interface IngressDeps {
  subscriptions: () => SubscriptionSet;
  eventLog: EventAppender;
  metrics: DataPlaneMetrics;
  secrets: SecretLookup;
  maxBodyBytes: number;
  /** How long a request body may take to arrive once its headers are in. */
  bodyTimeoutMs: number;
  /** Bearer token `/metrics` requires; open when unset. */
  metricsToken?: string;
  log: Logger;
  /** Per-type schema validation before the commit, schema discovery after it. */
  catalog?: CatalogGate;
}

export type RouteHandler = (req: IncomingMessage, res: ServerResponse) => boolean;

/**
 * Bodies being read and when each must have arrived, checked by one timer for them all (a
 * timer per request cost about 1 % of the worker's time under load). A body is cut off
 * between its deadline and one sweep later.
 */
class BodyDeadlines {
  private readonly pending = new Map<() => void, number>();
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly sweepMs: number) {}

  /** Calls `expire` once `timeoutMs` have passed, unless the returned function is called first. */
  add(timeoutMs: number, expire: () => void): () => void {
    this.pending.set(expire, Date.now() + timeoutMs);
    if (!this.timer) {
      this.timer = setInterval(() => this.sweep(), this.sweepMs);
      this.timer.unref();
    }
    return () => this.pending.delete(expire);
  }

  private sweep(): void {
    const now = Date.now();
    for (const [expire, deadline] of this.pending) {
      if (deadline > now) continue;
      this.pending.delete(expire);
      expire();
    }
    if (this.pending.size === 0) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }
}

/**
 * The body, or an IngressError: 413 as soon as it grows past the limit, 408 when it has not
 * all arrived within `timeoutMs` (a slow sender holds a connection and a buffer, not the worker).
 */
function readBody(req: IncomingMessage, limit: number, timeoutMs: number, deadlines: BodyDeadlines): Promise<Buffer> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) {
    return Promise.reject(new IngressError(413, 'Content Too Large', `the body is ${declared} bytes; this ingress accepts at most ${limit}`));
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const stop = (error: IngressError) => {
      clearDeadline();
      req.removeAllListeners('data');
      req.resume();
      reject(error);
    };
    const clearDeadline = deadlines.add(timeoutMs, () =>
      stop(new IngressError(408, 'Request Timeout', `the body did not arrive within ${timeoutMs} ms (${size} bytes came); send it at once`)),
    );
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        stop(new IngressError(413, 'Content Too Large', `the body exceeds ${limit} bytes, the most this ingress accepts`));
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      clearDeadline();
      // One chunk (most bodies) needs no copy.
      resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks));
    });
    req.on('error', (error) => {
      clearDeadline();
      reject(error);
    });
  });
}

/** Whether the request carries `Authorization: Bearer <token>`, compared in constant time. */
function hasBearer(req: IncomingMessage, token: string): boolean {
  const given = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '')?.[1];
  if (given === undefined) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

function safeDecode(segment: string): string | undefined {
  try {
    return decodeURIComponent(segment);
  } catch {
    return undefined;
  }
}

export function createIngress(deps: IngressDeps): RouteHandler {
  const { metrics } = deps;
  const deadlines = new BodyDeadlines(Math.min(250, Math.max(10, Math.round(deps.bodyTimeoutMs / 8))));

  function refuse(res: ServerResponse, error: IngressError): void {
    metrics.rejected.inc({ status: String(error.status) });
    // An oversize or late body is not read to its end; closing is the only way to resynchronise the connection.
    if (error.status === 413 || error.status === 408) res.setHeader('connection', 'close');
    sendProblem(res, error.status, error.title, error.message, { ...(error.attribute === undefined ? {} : { attribute: error.attribute }), ...error.details });
  }

  /**
   * `labels` name the channel and, for a webhook, its deployment: never the webhook's path,
   * which is a capability for a webhook without a secret. `owner`: the deployment of the webhook
   * posted to. Events its own filters dropped are still accepted (logged, explained on the event's
   * page), and the reply says so, so the sender is not left guessing.
   */
  async function accept(
    req: IncomingMessage,
    res: ServerResponse,
    ingress: string,
    labels: { ingress: string; deployment?: string },
    parse: (body: Buffer) => CloudEventRecord[],
    owner?: string,
  ): Promise<void> {
    let events: CloudEventRecord[];
    try {
      events = adoptRequestTraceContext(parse(await readBody(req, deps.maxBodyBytes, deps.bodyTimeoutMs, deadlines)), req.headers);
      deps.catalog?.check(events);
    } catch (error) {
      if (error instanceof IngressError) return refuse(res, error);
      throw error;
    }
    const set = deps.subscriptions();
    // Routing is synchronous unless a filter waits on jq: then, and only then, await it.
    const decided = events.map((event) => set.decide(event, ingress));
    const routings = decided.some((d) => d instanceof Promise) ? await Promise.all(decided) : (decided as Routing[]);
    const entries = events.map((event, i) => ({ event, ingress, routes: routings[i]!.routes, filtered: routings[i]!.filtered }));
    let outcomes: AppendOutcome[];
    try {
      outcomes = await deps.eventLog.append(entries);
    } catch (error) {
      // The database refused this request's own events; the others of its commit went in.
      if (error instanceof IngressError) return refuse(res, error);
      throw error;
    }
    const stored = outcomes.filter((o) => o.stored).length;
    metrics.accepted.inc(labels, stored);
    if (stored < outcomes.length) metrics.duplicates.inc(labels, outcomes.length - stored);
    const filtered = entries.flatMap((entry, i) =>
      outcomes[i]?.stored ? entry.filtered.filter((f) => f.deploymentId === owner).map((f) => ({ id: entry.event.id, node: f.task, reason: f.reason })) : [],
    );
    sendJson(res, 202, { accepted: outcomes.length, duplicates: outcomes.length - stored, ...(filtered.length > 0 ? { filtered } : {}) });
    // Schema discovery after the reply: the sender need not wait for it.
    deps.catalog?.observe(events.filter((_, i) => outcomes[i]?.stored));
  }

  function handleAsync(res: ServerResponse, work: Promise<void>): void {
    work.catch((error: Error) => {
      deps.log('error', 'ingress failed', { error: error.message });
      metrics.rejected.inc({ status: '503' });
      if (!res.headersSent) sendProblem(res, 503, 'Event log unavailable', 'the event could not be committed; nothing was stored, send it again');
    });
  }

  function methodNotAllowed(res: ServerResponse, path: string, allow: string): void {
    res.setHeader('allow', allow);
    sendProblem(res, 405, 'Method Not Allowed', `${path} accepts ${allow} only`);
  }

  return (req, res) => {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    if (path === '/events') {
      if (req.method !== 'POST') methodNotAllowed(res, path, 'POST');
      else handleAsync(res, accept(req, res, 'events', { ingress: 'events' }, (body) => eventsFromRequest(req.headers, body)));
      return true;
    }
    if (path.startsWith('/hooks/')) {
      if (req.method !== 'POST') {
        methodNotAllowed(res, path, 'POST');
        return true;
      }
      const id = safeDecode(path.slice('/hooks/'.length));
      const binding = id === undefined ? undefined : deps.subscriptions().hook(id);
      if (!binding) {
        req.resume();
        refuse(res, new IngressError(404, 'Unknown webhook', `no deployed flow has a webhook source "${id ?? path}"`));
        return true;
      }
      handleAsync(
        res,
        accept(req, res, `hook:${id}`, { ingress: 'webhook', deployment: binding.deploymentId }, (body) =>
          eventsFromHook(binding.source, req.headers, body, deps.secrets, randomUUID),
          binding.deploymentId,
        ),
      );
      return true;
    }
    if (path === '/metrics') {
      if (req.method !== 'GET') methodNotAllowed(res, path, 'GET');
      else if (deps.metricsToken !== undefined && !hasBearer(req, deps.metricsToken)) {
        res.setHeader('www-authenticate', 'Bearer realm="meshflow-metrics"');
        sendProblem(res, 401, 'Unauthorized', '/metrics requires Authorization: Bearer <token>, the token set as MESHFLOW_METRICS_TOKEN on this worker');
      } else {
        metrics.registry
          .metrics()
          .then((text) => {
            res.writeHead(200, { 'content-type': metrics.registry.contentType });
            res.end(text);
          })
          .catch((error: Error) => sendProblem(res, 503, 'Metrics unavailable', error.message));
      }
      return true;
    }
    return false;
  };
}
