/**
 * The live event tail polls the log while it waits for new events. Each wait must not leave
 * an abort listener behind on the subscription's signal: after a few seconds on the Events
 * page Node warned "MaxListenersExceededWarning" and the listeners kept piling up.
 */
import { getEventListeners } from 'node:events';
import pg from 'pg';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { tailEvents } from '@/server/services/events';
import { waitFor } from '@/test/helpers/databases';

describe('event tail', () => {
  const pool = new pg.Pool({ connectionString: inject('databaseUrl') });
  afterAll(() => pool.end());

  it('keeps at most one abort listener on its signal however long it polls, and stops on abort', async () => {
    let polls = 0;
    const counting = {
      query: (...args: Parameters<pg.Pool['query']>) => {
        polls += 1;
        return (pool.query as (...a: unknown[]) => unknown)(...args);
      },
    } as unknown as pg.Pool;
    const controller = new AbortController();
    const listeners: number[] = [];
    const tail = tailEvents(counting, { type: 'no.such.type.ever' }, controller.signal);
    const drained = (async () => {
      for await (const _event of tail) {
        // no events match; the tail only polls
      }
    })();
    for (const target of [5, 10, 15]) {
      await waitFor(async () => (polls >= target ? true : undefined), 30_000, `${target} polls of the tail`);
      listeners.push(getEventListeners(controller.signal, 'abort').length);
    }
    expect(Math.max(...listeners)).toBeLessThanOrEqual(1);
    controller.abort();
    await drained;
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
  });
});
