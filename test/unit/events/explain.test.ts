/**
 * Why a deployment did not take an event, as the worker records it: the node whose filter
 * dropped it and a reason in words, read from a compiled flow document.
 */
import { describe, expect, it } from 'vitest';
import { compile } from '@/runtime/compiler/compile';
import { explainFilter } from '@/runtime/expressions/filters/explain';
import { planFromDocument, type PipelinePlan } from '@/runtime/events/plan';
import { Subscription } from '@/runtime/events/subscriptions';
import type { CloudEventRecord } from '@/runtime/events/cloudevent';

const graph = {
  document: { namespace: 'default', name: 'big-orders', version: '0.1.0' },
  nodes: [
    { id: 'hook', kind: 'http-webhook', config: { path: 'orders', mode: 'cloudevents', eventType: 'com.example.order.created' } },
    { id: 'big', kind: 'data-pattern', config: { pattern: { data: { amount: [{ numeric: ['>', 100] }] } } } },
    { id: 'stamp', kind: 'jq-transform', config: { expression: '{ orderId: .data.orderId }' } },
    { id: 'sink', kind: 'http-request', config: { method: 'post', url: 'http://127.0.0.1:9/x', body: '.' } },
  ],
  edges: [
    { id: 'a', source: 'hook', target: 'big' },
    { id: 'b', source: 'big', target: 'stamp' },
    { id: 'c', source: 'stamp', target: 'sink' },
  ],
};

const order = (type: string, amount: unknown): CloudEventRecord => ({ specversion: '1.0', id: '1', source: '/shop', type, data: { orderId: 'o-1', amount } });

describe('why an event was filtered', () => {
  it('names the source for a wrong type and the filter node with the failing field for a small order', async () => {
    const plan = planFromDocument(compile(graph).document) as PipelinePlan;
    expect(plan.kind).toBe('pipeline');
    const s = await Subscription.compile({ id: 'd', flowId: 'f' }, plan);
    expect(await s.consider(order('com.example.order.created', 500), 'hook:orders')).toEqual({ queued: true });
    expect(await s.consider(order('com.example.order.created', 50), 'hook:orders')).toEqual({ queued: false, task: 'big', reason: '`data.amount` 50 is not > 100' });
    expect(await s.consider(order('com.example.refund', 500), 'hook:orders')).toEqual({
      queued: false,
      task: 'hook',
      reason: 'accepts type "com.example.order.created", this event is "com.example.refund"',
    });
    expect(await s.consider(order('com.example.order.created', 500), 'events')).toBeUndefined();
  });

  it('explains absent fields, exact values, attribute prefixes, and opaque CESQL', async () => {
    const e = order('com.example.order.created', 50);
    expect((await explainFilter({ pattern: { data: { currency: ['EUR'] } } }))(e)).toBe('`data.currency` is absent; the pattern needs it "EUR"');
    expect((await explainFilter({ pattern: { data: { amount: [10, 20] } } }))(e)).toBe('`data.amount` 50 is not 10 or 20');
    expect((await explainFilter({ prefix: { source: '/billing' } }))(e)).toBe('`source` is "/shop", expected a value starting with "/billing"');
    expect((await explainFilter({ sql: "source = '/billing'" }))(e)).toBe("CESQL `source = '/billing'` is not true for it");
    expect((await explainFilter({ pattern: { data: { amount: [{ numeric: ['>', 10] }] } } }))(e)).toBeUndefined();
  });
});
