/** The flow every new installation starts with; the database seed stores it. */
import type { FlowGraph } from './types.ts';

export function demoFlowGraph(): FlowGraph {
  return {
    document: {
      namespace: 'default',
      name: 'order-notifications',
      version: '0.1.0',
      title: 'Order notifications',
      summary: 'Forwards large orders received on a webhook to an HTTP endpoint.',
    },
    nodes: [
      {
        id: 'orders-webhook',
        kind: 'http-webhook',
        label: 'Orders webhook',
        position: { x: 0, y: 0 },
        config: { path: 'orders', mode: 'cloudevents', eventType: 'com.example.order.created' },
      },
      {
        id: 'large-orders',
        kind: 'data-pattern',
        label: 'Large orders',
        position: { x: 280, y: 0 },
        config: { pattern: { data: { total: [{ numeric: ['>', 100] }] } } },
      },
      {
        id: 'summary',
        kind: 'jq-transform',
        label: 'Order summary',
        position: { x: 560, y: 0 },
        config: { expression: '{ orderId: .data.orderId, customer: .data.customer.id, total: .data.total }' },
      },
      {
        id: 'notify',
        kind: 'http-request',
        label: 'Notify fulfilment',
        position: { x: 840, y: 0 },
        config: { method: 'post', url: 'http://localhost:4010/orders', body: '.', retry: { attempts: 3, delay: 'PT1S', backoff: 'exponential' } },
      },
    ],
    edges: [
      { id: 'orders-webhook-large-orders', source: 'orders-webhook', target: 'large-orders' },
      { id: 'large-orders-summary', source: 'large-orders', sourcePort: 'out', target: 'summary' },
      { id: 'summary-notify', source: 'summary', target: 'notify' },
    ],
  };
}
