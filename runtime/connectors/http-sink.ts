/**
 * The HTTP sink: POSTs each event to a URL (CloudEvents binary mode by default, structured or
 * plain JSON when asked) with the data plane's own request builder and keep-alive deliverer,
 * so a sink and a flow's HTTP target send byte-identical requests.
 */
import { DEFAULT_DELIVERY, type DeliveryFormat, type HttpTarget } from '../events/plan.ts';
import { buildRequest, HttpDeliverer } from '../events/http-delivery.ts';
import { egressPolicy, egressRefusal } from '../net/egress.ts';
import type { ConnectorConfig, ConnectorDriver } from './types.ts';

function target(config: ConnectorConfig, secrets: Record<string, string>): HttpTarget {
  const format: DeliveryFormat = config.format === 'structured' || config.format === 'json' ? config.format : 'binary';
  return {
    task: 'http-sink',
    url: config.connection,
    method: 'POST',
    headers: secrets.authorization ? { authorization: secrets.authorization } : {},
    delivery: { ...DEFAULT_DELIVERY, format },
  };
}

export const httpSinkDriver: ConnectorDriver = {
  system: 'http',
  async test(config, secrets) {
    const url = new URL(config.connection);
    const res = await egressPolicy().fetch(url, { method: 'OPTIONS', headers: secrets.authorization ? { authorization: secrets.authorization } : {}, signal: AbortSignal.timeout(5_000) }).catch(
      (error: Error) => {
        throw new Error(`HTTP sink ${url.origin}: ${egressRefusal(error)?.message ?? (error.cause instanceof Error ? error.cause.message : error.message)}`);
      },
    );
    await res.arrayBuffer();
    if (res.status >= 500) throw new Error(`HTTP sink ${url.origin} answered ${res.status}`);
  },
  async publisher(config, secrets) {
    const deliverer = new HttpDeliverer();
    const sink = target(config, secrets);
    return {
      async publish({ event }) {
        const outcome = await deliverer.send(sink, buildRequest(event, event.data, false, sink.delivery.format));
        if (!outcome.ok) throw new Error(outcome.error);
      },
      close: async () => deliverer.close(),
    };
  },
};
