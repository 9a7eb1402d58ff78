import { describe, expect, it } from 'vitest';
import { createMetrics } from '@/runtime/events/metrics';

describe('data-plane metrics', () => {
  it('adds per-event counts up per label set, as a scrape shows them, and keeps counting after a scrape', async () => {
    const metrics = createMetrics(async () => new Map());
    metrics.deliveries.inc({ deployment: 'd1', flow: 'f1', outcome: 'delivered' });
    metrics.deliveries.inc({ deployment: 'd1', flow: 'f1', outcome: 'delivered' });
    metrics.deliveries.inc({ deployment: 'd1', flow: 'f1', outcome: 'retried' });
    metrics.deliveries.inc({ deployment: 'd2', flow: 'f1', outcome: 'delivered' }, 5);
    metrics.accepted.inc({ ingress: 'events' }, 3);
    metrics.accepted.inc({ ingress: 'webhook', deployment: 'd1' });
    const text = await metrics.registry.metrics();
    expect(text).toContain('meshflow_deliveries_total{deployment="d1",flow="f1",outcome="delivered"} 2');
    expect(text).toContain('meshflow_deliveries_total{deployment="d1",flow="f1",outcome="retried"} 1');
    expect(text).toContain('meshflow_deliveries_total{deployment="d2",flow="f1",outcome="delivered"} 5');
    expect(text).toMatch(/meshflow_events_accepted_total\{ingress="events"\} 3/);
    expect(text).toMatch(/meshflow_events_accepted_total\{ingress="webhook",deployment="d1"\} 1/);
    metrics.deliveries.inc({ deployment: 'd1', flow: 'f1', outcome: 'delivered' });
    expect(await metrics.registry.metrics()).toContain('meshflow_deliveries_total{deployment="d1",flow="f1",outcome="delivered"} 3');
  });
});
