/**
 * Durability: an instance checkpointed mid-wait, mid-backoff or mid-loop, resumed by a
 * fresh engine (as another worker would after a crash), finishes without re-running the
 * tasks that had completed.
 */
import { describe, expect, it } from 'vitest';
import { Engine } from '@/runtime/engine/engine';
import { createFakePorts, FakeClock, jsonResponse, type FakePorts } from '@/runtime/engine/testing/fake-ports';
import type { InstanceState } from '@/runtime/engine/types';
import { outputOf, workflow } from '@/test/unit/engine/helpers';

function counter() {
  const calls: Record<string, number> = {};
  const hit = (name: string) => {
    calls[name] = (calls[name] ?? 0) + 1;
    return jsonResponse(200, { step: name, n: calls[name] });
  };
  return { calls, hit };
}

async function until(check: () => boolean): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!check() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 1));
  if (!check()) throw new Error('condition never held');
}

/** Runs until `ready`, then stops the engine (a killed worker) and returns its last checkpoint. */
async function crashWhen(body: string, routes: Parameters<typeof createFakePorts>[0], ready: (ports: FakePorts) => boolean) {
  const ports = createFakePorts({ ...routes, manualTime: true });
  const handle = new Engine({ ports }).start(workflow(body), {});
  await until(() => ready(ports));
  const saved = ports.store.last();
  handle.stop();
  expect((await handle.done).status).toBe('stopped');
  return { saved, clock: ports.clock };
}

function resume(saved: InstanceState, routes: Parameters<typeof createFakePorts>[0], clock: FakeClock) {
  const ports = createFakePorts({ ...routes, clock });
  return { ports, done: new Engine({ ports }).resume(saved).done };
}

describe('resume from a checkpoint', () => {
  it('continues a wait until its original due time, without repeating earlier tasks', async () => {
    const service = counter();
    const routes = { routes: { 'GET https://api.test/before': () => service.hit('before'), 'GET https://api.test/after': () => service.hit('after') } };
    const body = `do:
  - before:
      call: http
      with: { method: get, endpoint: https://api.test/before }
  - nap:
      wait: PT1H
  - after:
      call: http
      with: { method: get, endpoint: https://api.test/after }
      output:
        as: '\${ { before: $context.before, after: .n } }'
`.replace('  - nap:', '      export:\n        as: \'${ { before: .n } }\'\n  - nap:');
    const { saved, clock } = await crashWhen(body, routes, (p) => p.timers.waiting === 1);
    expect(saved.status).toBe('waiting');
    expect(saved.waitingFor?.timers).toEqual([{ at: '/do/1/nap', until: clock.time + 3_600_000 }]);
    const crashedAt = clock.time;
    clock.time += 20 * 60_000;
    const resumed = resume(JSON.parse(JSON.stringify(saved)) as InstanceState, routes, clock);
    const result = await resumed.done;
    expect(outputOf(result)).toEqual({ before: 1, after: 1 });
    expect(service.calls).toEqual({ before: 1, after: 1 });
    expect(resumed.ports.timers.fired).toEqual([crashedAt + 3_600_000]);
  });

  it('continues a retry backoff, keeping the attempt count', async () => {
    const service = counter();
    let flaky = 0;
    const routes = {
      routes: {
        'GET https://api.test/first': () => service.hit('first'),
        'GET https://api.test/flaky': () => (++flaky <= 2 ? jsonResponse(503, {}) : service.hit('flaky')),
      },
    };
    const body = `do:
  - first:
      call: http
      with: { method: get, endpoint: https://api.test/first }
  - attempt:
      try:
        - call:
            call: http
            with: { method: get, endpoint: https://api.test/flaky }
      catch:
        errors: { with: { status: 503 } }
        retry:
          delay: { minutes: 10 }
          limit: { attempt: { count: 2 } }
`;
    const { saved, clock } = await crashWhen(body, routes, (p) => p.timers.waiting === 1);
    expect(saved.frames['/do/1/attempt']?.step).toMatchObject({ attempt: 1 });
    const result = await resume(saved, routes, clock).done;
    expect(outputOf(result)).toEqual({ step: 'flaky', n: 1 });
    expect(service.calls.first).toBe(1);
    expect(flaky).toBe(3);
  });

  it('continues a for loop at the iteration it was in', async () => {
    const service = counter();
    const routes = { routes: { '*': (r: { url: string }) => service.hit(r.url.split('/').pop()!) } };
    const body = `do:
  - each:
      for:
        in: .items
        each: item
      do:
        - visit:
            call: http
            with: { method: get, endpoint: 'https://api.test/\${ $item }' }
        - pause:
            wait: PT5M
`.replace("endpoint: 'https://api.test/${ $item }'", "endpoint: '${ \"https://api.test/\" + $item }'");
    const ports = createFakePorts({ ...routes, manualTime: true });
    const handle = new Engine({ ports }).start(workflow(body), { items: ['a', 'b', 'c'] });
    await until(() => ports.timers.waiting === 1);
    await ports.timers.advance(5 * 60_000);
    await until(() => ports.timers.waiting === 1 && service.calls.b === 1);
    const saved = ports.store.last();
    handle.stop();
    await handle.done;
    const result = await resume(saved, routes, ports.clock).done;
    expect(result.status).toBe('completed');
    expect(service.calls).toEqual({ a: 1, b: 1, c: 1 });
  });
});

describe('suspend, resume, cancel', () => {
  it('holds a suspended instance at the next task boundary until resumed', async () => {
    const ports = createFakePorts({ manualTime: true });
    const handle = new Engine({ ports }).start(workflow(`do:\n  - nap:\n      wait: PT1M\n  - after:\n      set: { done: true }\n`), {});
    await until(() => ports.timers.waiting === 1);
    handle.suspend();
    expect(handle.state.status).toBe('suspended');
    await ports.timers.advance(60_000);
    await new Promise((resolve) => setImmediate(resolve));
    expect(handle.state.frames['/do/1/after']).toBeUndefined();
    handle.resume();
    expect(outputOf(await handle.done)).toEqual({ done: true });
    expect(ports.lifecycle.types()).toEqual(expect.arrayContaining(['workflow.suspended', 'workflow.resumed', 'workflow.completed']));
  });

  it('cancels a waiting instance', async () => {
    const ports = createFakePorts({ manualTime: true });
    const handle = new Engine({ ports }).start(workflow(`do:\n  - nap:\n      wait: P1D\n`), {});
    await until(() => ports.timers.waiting === 1);
    handle.cancel();
    const result = await handle.done;
    expect(result.status).toBe('cancelled');
    expect(ports.store.last().status).toBe('cancelled');
  });

  it('faults with a timeout error when a task outlives its timeout', async () => {
    const ports = createFakePorts();
    const result = await new Engine({ ports }).start(workflow(`do:\n  - slow:\n      timeout:\n        after: PT1M\n      wait: PT1H\n`), {}).done;
    expect(result.status).toBe('faulted');
    if (result.status === 'faulted') expect(result.error).toMatchObject({ status: 408, instance: '/do/0/slow' });
  });
});
