/** An in-process event bus: what `emit` publishes, `listen` in the same process can receive. */
import type { EventPort, ListenRequest } from '../ports.ts';
import type { CloudEvent } from '../types.ts';

export class MemoryEventBus implements EventPort {
  readonly published: CloudEvent[] = [];
  private readonly subscribers = new Set<(event: CloudEvent) => void>();

  constructor(private readonly onPublish?: (event: CloudEvent) => void) {}

  async publish(event: CloudEvent): Promise<void> {
    this.published.push(event);
    this.onPublish?.(event);
    for (const deliver of [...this.subscribers]) deliver(event);
  }

  /** Delivers an event from outside (a test, a local HTTP endpoint) to current listeners. */
  deliver(event: CloudEvent): void {
    for (const deliver of [...this.subscribers]) deliver(event);
  }

  subscribe(_request: ListenRequest, signal: AbortSignal): AsyncIterable<CloudEvent> {
    const queue: CloudEvent[] = [];
    let wake: (() => void) | undefined;
    const deliver = (event: CloudEvent) => {
      queue.push(event);
      wake?.();
    };
    this.subscribers.add(deliver);
    const subscribers = this.subscribers;
    const stop = () => {
      subscribers.delete(deliver);
      wake?.();
    };
    signal.addEventListener('abort', stop, { once: true });
    return {
      async *[Symbol.asyncIterator]() {
        try {
          while (!signal.aborted) {
            const next = queue.shift();
            if (next) {
              yield next;
              continue;
            }
            await new Promise<void>((resolve) => (wake = resolve));
            wake = undefined;
          }
        } finally {
          stop();
          signal.removeEventListener('abort', stop);
        }
      },
    };
  }
}
