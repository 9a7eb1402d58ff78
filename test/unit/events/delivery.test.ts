import { describe, expect, it } from 'vitest';
import { backoffMs, buildRequest } from '@/runtime/events/http-delivery';
import { DEFAULT_DELIVERY, type PipelinePlan } from '@/runtime/events/plan';
import { Subscription } from '@/runtime/events/subscriptions';
import type { CloudEventRecord } from '@/runtime/events/cloudevent';

const event: CloudEventRecord = { specversion: '1.0', id: 'e 1', source: '/s', type: 't', tenant: 'café', datacontenttype: 'application/json', data: { n: 1 } };

describe('HTTP delivery requests', () => {
  it('binary mode: attributes as percent-encoded ce-* headers, data as body', () => {
    const request = buildRequest(event, event, false, 'binary');
    expect(request.headers).toMatchObject({ 'ce-specversion': '1.0', 'ce-id': 'e%201', 'ce-tenant': 'caf%C3%A9', 'content-type': 'application/json' });
    expect(request.body.toString()).toBe('{"n":1}');
  });

  it('structured mode after a transform: the payload is the data', () => {
    const request = buildRequest(event, { m: 2 }, true, 'structured');
    expect(JSON.parse(request.body.toString())).toEqual({ specversion: '1.0', id: 'e 1', source: '/s', type: 't', tenant: 'café', datacontenttype: 'application/json', data: { m: 2 } });
  });

  it('plain JSON carries the event id as an idempotency key', () => {
    expect(buildRequest(event, { m: 2 }, true, 'json')).toEqual({ headers: { 'content-type': 'application/json', 'idempotency-key': 'e 1' }, body: Buffer.from('{"m":2}') });
  });
});

describe('backoff', () => {
  it.each([
    ['constant', [100, 100, 100]],
    ['linear', [100, 200, 300]],
    ['exponential', [100, 200, 400]],
  ] as const)('%s', (backoffPolicy, delays) => {
    expect([1, 2, 3].map((n) => backoffMs({ ...DEFAULT_DELIVERY, backoffPolicy, backoffDelayMs: 100 }, n, () => 0))).toEqual(delays);
  });

  it('adds jitter on top of the policy, never below it, and caps the wait', () => {
    const options = { ...DEFAULT_DELIVERY, backoffDelayMs: 100, maxBackoffMs: 250 };
    expect([1, 2, 3, 4].map((n) => backoffMs(options, n, () => 0))).toEqual([100, 200, 250, 250]);
    expect(backoffMs(options, 1, () => 0.999)).toBe(Math.round(100 * (1 + 0.2 * 0.999)));
  });

  it('rides out a day-long outage by default: the retries span at least 24 hours before a dead letter', () => {
    const waits = Array.from({ length: DEFAULT_DELIVERY.retry }, (_, i) => backoffMs(DEFAULT_DELIVERY, i + 1, () => 0));
    const spanMs = waits.reduce((a, b) => a + b, 0);
    expect(DEFAULT_DELIVERY.retry + 1).toBe(185);
    expect(DEFAULT_DELIVERY.backoffPolicy).toBe('exponential');
    expect(DEFAULT_DELIVERY.jitter).toBeGreaterThan(0);
    expect(spanMs).toBeGreaterThanOrEqual(24 * 3_600_000);
    // Exponential at first: a short blip is retried within seconds.
    expect(waits.slice(0, 4)).toEqual([1000, 2000, 4000, 8000]);
  });
});

describe('subscription steps', () => {
  const plan = (steps: PipelinePlan['steps']): PipelinePlan => ({
    kind: 'pipeline',
    ingress: ['events'],
    filter: { exact: { type: 't' } },
    steps,
    target: { task: 'x', url: 'http://h/', method: 'POST', headers: {}, delivery: DEFAULT_DELIVERY },
    hooks: [],
  });

  it('filters at ingress by channel and filter', async () => {
    const s = await Subscription.compile({ id: 'd', flowId: 'f' }, plan([]));
    expect(await s.accepts(event, 'events')).toBe(true);
    expect(await s.accepts(event, 'hook:x')).toBe(false);
    expect(await s.accepts({ ...event, type: 'u' }, 'events')).toBe(false);
  });

  it('runs jq transforms over a batch in one call, with per-event errors and later filters', async () => {
    const s = await Subscription.compile(
      { id: 'd', flowId: 'f' },
      plan([
        { kind: 'transform', task: 'shape', transform: { kind: 'jq', expression: '{ n: (.data.n * 10), k: (.data.k | ascii_downcase) }' } },
        { kind: 'filter', task: 'big', filter: { jq: '.n > 15' } },
      ]),
    );
    const events = [1, 2, 3].map((n) => ({ ...event, data: { n, k: n === 3 ? 5 : 'A' } }));
    const [small, big, broken] = await s.runMany(events);
    expect(small).toEqual({ deliver: false, droppedBy: 'big', reason: 'jq `.n > 15` is false or null for it' });
    expect(big).toEqual({ deliver: true, payload: { n: 20, k: 'a' }, transformed: true });
    expect(broken).toBeInstanceOf(Error);
    expect(await s.runMany([events[1]!])).toEqual([big]);
  });

  it('answers filters the fast path cannot compile from one jq evaluation per batch, off the event loop', async () => {
    const s = await Subscription.compile(
      { id: 'd', flowId: 'f' },
      plan([
        { kind: 'transform', task: 'shape', transform: { kind: 'jq', expression: '{ n: .data.n, k: (.data.k | ascii_downcase) }' } },
        // `test` and `any(…)` are jq only; `.n > 1` is fast: both in one filter.
        { kind: 'filter', task: 'picky', filter: { all: [{ jq: '.k | test("^a")' }, { jq: '.n > 1' }, { jq: 'any(.k; . == "ax" or . == "ay")' }] } },
      ]),
    );
    const events = [
      { ...event, id: '1', data: { n: 2, k: 'AX' } },
      { ...event, id: '2', data: { n: 1, k: 'AY' } },
      { ...event, id: '3', data: { n: 3, k: 'B' } },
      { ...event, id: '4', data: { n: 3, k: 'AZ' } },
    ];
    const results = await s.runMany(events);
    expect(results[0]).toEqual({ deliver: true, payload: { n: 2, k: 'ax' }, transformed: true });
    expect(results.slice(1).map((r) => (r instanceof Error ? r : r.deliver))).toEqual([false, false, false]);
    expect(results[1]).toMatchObject({ droppedBy: 'picky' });
  });

  it('considers a leading jq filter the fast path cannot compile without holding the caller (a Promise)', async () => {
    const s = await Subscription.compile({ id: 'd', flowId: 'f' }, { ...plan([]), filter: { jq: '.data.n | tostring | test("^[12]$")' } });
    const considered = s.consider({ ...event, data: { n: 2 } }, 'events');
    expect(considered).toBeInstanceOf(Promise);
    expect(await considered).toEqual({ queued: true });
    expect(await s.consider({ ...event, data: { n: 3 } }, 'events')).toMatchObject({ queued: false, task: 'filter' });
    // An attribute filter needs no jq: answered at once.
    const plain = await Subscription.compile({ id: 'd', flowId: 'f' }, plan([]));
    expect(plain.consider(event, 'events')).toEqual({ queued: true });
  });
});
