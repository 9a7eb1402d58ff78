/**
 * W3C trace context through the data plane. An event carries its trace in the CloudEvents
 * distributed-tracing extension (`traceparent`, `tracestate`); in binary mode the plain HTTP
 * `traceparent` header is that extension (the extension's HTTP binding), so ingress adopts it
 * when the event names none. Whatever delivers the event — a pipeline's HTTP target, a
 * workflow's HTTP call — sends the context on as `traceparent`/`tracestate` headers.
 *
 * With OpenTelemetry export on (`OTEL_EXPORTER_OTLP_ENDPOINT` or
 * `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` set), each delivery is a client span, child of the
 * event's context, exported over OTLP/HTTP, and the target receives the span's own context;
 * with it off, the event's context is passed on unchanged, as a proxy that does not trace would.
 */
import { context, propagation, SpanKind, SpanStatusCode, trace, type Tracer } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { IncomingHttpHeaders } from 'node:http';
import type { HttpPort } from '../engine/ports.ts';
import type { CloudEventRecord } from './cloudevent.ts';

export interface TraceContext {
  traceparent?: string;
  tracestate?: string;
}

// version-traceid-parentid-flags, with the all-zero ids the spec forbids refused.
const TRACEPARENT = /^[0-9a-f]{2}-(?!0{32})[0-9a-f]{32}-(?!0{16})[0-9a-f]{16}-[0-9a-f]{2}$/;

export function isTraceparent(value: unknown): value is string {
  return typeof value === 'string' && TRACEPARENT.test(value) && !value.startsWith('ff');
}

/** The event's trace context, if it carries a valid one. */
export function traceContextOf(event: unknown): TraceContext {
  if (typeof event !== 'object' || event === null) return {};
  const { traceparent, tracestate } = event as Record<string, unknown>;
  if (!isTraceparent(traceparent)) return {};
  return typeof tracestate === 'string' && tracestate !== '' ? { traceparent, tracestate } : { traceparent };
}

function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** Gives events without a trace context of their own the request's `traceparent`/`tracestate` headers. */
export function adoptRequestTraceContext(events: CloudEventRecord[], headers: IncomingHttpHeaders): CloudEventRecord[] {
  const traceparent = header(headers, 'traceparent')?.trim().toLowerCase();
  if (!isTraceparent(traceparent)) return events;
  const tracestate = header(headers, 'tracestate')?.trim();
  for (const event of events) {
    if (event.traceparent !== undefined) continue;
    event.traceparent = traceparent;
    if (tracestate) event.tracestate = tracestate;
  }
  return events;
}

let tracer: Tracer | undefined;

/** Switches OpenTelemetry export on when the environment asks for it; returns how to flush and stop. */
export function initTracing(env: NodeJS.ProcessEnv, serviceName: string): (() => Promise<void>) | undefined {
  if (!env.OTEL_EXPORTER_OTLP_ENDPOINT && !env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) return undefined;
  // The exporter reads the endpoint, headers and timeout from the standard OTEL_* variables.
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': env.OTEL_SERVICE_NAME ?? serviceName }),
    spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter())],
  });
  trace.setGlobalTracerProvider(provider);
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  tracer = provider.getTracer('meshflow');
  return async () => {
    tracer = undefined;
    await provider.shutdown();
  };
}

export interface DeliverySpan {
  /** The headers the request carries: the span's context, or the event's when not tracing. */
  headers: Record<string, string>;
  end: (error?: string) => void;
}

const NO_SPAN_END = () => {};

/**
 * A client span for sending an event (or a run's call) to `url`, child of `parent`. `name` and
 * `attributes` may be functions, built only when tracing is on.
 */
export function startDeliverySpan(parent: TraceContext, name: string | (() => string), attributes: Record<string, string> | (() => Record<string, string>)): DeliverySpan {
  if (!tracer) return { headers: { ...parent } as Record<string, string>, end: NO_SPAN_END };
  if (typeof name === 'function') name = name();
  if (typeof attributes === 'function') attributes = attributes();
  const parentContext = propagation.extract(context.active(), parent);
  const span = tracer.startSpan(name, { kind: SpanKind.CLIENT, attributes }, parentContext);
  const headers: Record<string, string> = {};
  propagation.inject(trace.setSpan(parentContext, span), headers);
  return {
    headers,
    end: (error) => {
      if (error !== undefined) span.setStatus({ code: SpanStatusCode.ERROR, message: error });
      span.end();
    },
  };
}

/** A workflow run's HTTP port that sends the run's trace context with every call that does not set its own. */
export function tracedHttp(http: HttpPort, parent: TraceContext): HttpPort {
  return {
    async request(request, signal) {
      if (Object.keys(request.headers).some((h) => h.toLowerCase() === 'traceparent')) return http.request(request, signal);
      const span = startDeliverySpan(parent, `${request.method} ${new URL(request.url).host}`, { 'http.request.method': request.method, 'url.full': request.url });
      try {
        const response = await http.request({ ...request, headers: { ...request.headers, ...span.headers } }, signal);
        span.end(response.status >= 400 ? `HTTP ${response.status}` : undefined);
        return response;
      } catch (error) {
        span.end((error as Error).message);
        throw error;
      }
    },
  };
}
