/** Shared by the connector tests: flows with a broker source, broker restarts, sink checks. */
import { execSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { waitFor } from '@/test/helpers/databases';
import { deploy, pipeline, type Sink } from '@/test/integration/events/helpers';

/** Deploys source kind → HTTP sink; returns what the flow listens to. */
export async function deploySourceFlow(pool: pg.Pool, options: { kind: string; connection: Record<string, unknown>; type: string; sink: Sink; path: string }) {
  const sourceId = `src-${randomUUID().slice(0, 6)}`;
  const deployed = await deploy(
    pool,
    pipeline({
      name: options.path,
      with: { type: options.type },
      sources: [{ kind: options.kind, id: sourceId, connection: options.connection }],
      url: `${options.sink.url}/${options.path}`,
      delivery: { retry: 50, backoffPolicy: 'constant', backoffDelay: 'PT0.2S' },
    }),
  );
  return { ...deployed, sourceId };
}

/** CloudEvent ids the sink received on a path (binary mode: the ce-id header). */
export function receivedIds(sink: Sink, path: string): Set<string> {
  return new Set(sink.received.filter((r) => r.url === `/${path}`).map((r) => String(r.headers['ce-id'])));
}

export function bodiesAt(sink: Sink, path: string): unknown[] {
  return sink.received.filter((r) => r.url === `/${path}`).map((r) => JSON.parse(r.body) as unknown);
}

export async function waitForSink(sink: Sink, path: string, count: number, timeoutMs = 20_000): Promise<void> {
  await waitFor(async () => (sink.received.filter((r) => r.url === `/${path}`).length >= count ? true : undefined), timeoutMs, `${count} deliveries at /${path}`);
}

/** Waits until the worker's log says the consumer for `kind` is connected `times` times. */
export async function waitForConnected(output: () => string, times = 1, timeoutMs = 20_000): Promise<void> {
  await waitFor(async () => ((output().match(/connector connected/g) ?? []).length >= times ? true : undefined), timeoutMs, `connector connected ×${times}`);
}

export function sh(command: string): string {
  return execSync(command, { stdio: ['ignore', 'pipe', 'pipe'], timeout: 120_000 }).toString();
}

/**
 * Stops a broker, runs `during` while it is down, and starts it again — always, even when
 * `during` fails — waiting until it answers. Never used on PostgreSQL: other tests share it.
 */
export async function withBrokerDown(broker: { stop: string; start: string; ready: () => Promise<boolean> }, during: () => Promise<void>): Promise<void> {
  sh(broker.stop);
  try {
    await during();
  } finally {
    sh(broker.start);
    await waitFor(async () => ((await broker.ready().catch(() => false)) ? true : undefined), 90_000, 'the broker to answer again');
  }
}
