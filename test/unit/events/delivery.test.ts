import { describe, expect, it } from 'vitest';
import { backoffMs, buildRequest } from '../../../runtime/events/http-delivery';
import { DEFAULT_DELIVERY, type PipelinePlan } from '../../../runtime/events/plan';
import { Subscription } from '../../../runtime/events/subscriptions';
import type { CloudEventRecord } from '../../../runtime/events/cloudevent';

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
    expect([1, 2, 3].map((n) => backoffMs({ ...DEFAULT_DELIVERY, backoffPolicy, backoffDelayMs: 100 }, n))).toEqual(delays);
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
    expect(s.accepts(event, 'events')).toBe(true);
    expect(s.accepts(event, 'hook:x')).toBe(false);
    expect(s.accepts({ ...event, type: 'u' }, 'events')).toBe(false);
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
    const [small, big, broken] = s.runMany(events);
    expect(small).toEqual({ deliver: false, droppedBy: 'big', reason: 'jq `.n > 15` is false or null for it' });
    expect(big).toEqual({ deliver: true, payload: { n: 20, k: 'a' }, transformed: true });
    expect(broken).toBeInstanceOf(Error);
    expect(s.runMany([events[1]!])).toEqual([big]);
  });
});
