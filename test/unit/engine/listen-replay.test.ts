/**
 * A durable event port (the worker's, reading the event log) replays from when a listen
 * began, so a resumed listen is offered again events it already consumed before its
 * checkpoint: they must not count twice.
 */
import { describe, expect, it, vi } from 'vitest';
import { Engine } from '@/runtime/engine/engine';
import type { EventPort, ListenRequest } from '@/runtime/engine/ports';
import { createFakePorts } from '@/runtime/engine/testing/fake-ports';
import type { CloudEvent, InstanceState } from '@/runtime/engine/types';
import { outputOf, workflow } from '@/test/unit/engine/helpers';

const event = (id: string, n: number): CloudEvent => ({ specversion: '1.0', id, source: '/t', type: 'com.example.tick', data: { n } });

/** Yields every event "in the log", as a port replaying from `since` does, then waits for more until aborted. */
function replayingPort(log: CloudEvent[], requests: ListenRequest[]): EventPort {
  return {
    publish: async () => undefined,
    subscribe(request, signal) {
      requests.push(request);
      return {
        async *[Symbol.asyncIterator]() {
          yield* log;
          await new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }));
        },
      };
    },
  };
}

describe('listen over a replaying event port', () => {
  it('skips events consumed before the checkpoint and passes the listen start time', async () => {
    const doc = workflow(`do:
  - collect:
      listen:
        to:
          any:
            - with: { type: com.example.tick }
          until: '\${ length >= 2 }'
`);
    const ports = createFakePorts();
    const requests: ListenRequest[] = [];
    // The state as checkpointed after the listen consumed its first event.
    let saved: InstanceState | undefined;
    const first = new Engine({
      ports: {
        ...ports,
        events: replayingPort([event('a', 1)], requests),
        store: {
          checkpoint: (state) => {
            const step = state.frames['/do/0/collect']?.step as { events?: unknown[] } | undefined;
            if (step?.events?.length === 1) saved = JSON.parse(JSON.stringify(state)) as InstanceState;
          },
        },
      },
    }).start(doc, {});
    await vi.waitFor(() => expect(saved).toBeDefined());
    first.stop();
    await first.done;
    if (!saved) throw new Error('no checkpoint');
    const consumed = (saved.frames['/do/0/collect']?.step as { events: CloudEvent[] }).events;
    expect(consumed.map((e) => e.id)).toEqual(['a']);
    saved.status = 'running';
    const listenStartedAt = saved.frames['/do/0/collect']?.startedAt;

    const resumed = await new Engine({ ports: { ...ports, events: replayingPort([event('a', 1), event('a', 1), event('b', 2)], requests) } }).resume(saved).done;
    expect(outputOf(resumed)).toEqual([{ n: 1 }, { n: 2 }]);
    expect(requests.map((r) => r.since)).toEqual([listenStartedAt, listenStartedAt]);
  });
});
