/** Each task type, as a workflow author would use it (fake clock and recorded HTTP). */
import { describe, expect, it } from 'vitest';
import { ERROR_TYPE_BASE } from '@/runtime/engine/errors';
import { MAX_RETRY_DELAY_MS, retryDelayMs } from '@/runtime/engine/tasks/try';
import { jsonResponse } from '@/runtime/engine/testing/fake-ports';
import { errorOf, outputOf, run } from '@/test/unit/engine/helpers';

describe('set', () => {
  it('replaces the data with the given object, literals untouched and expressions evaluated', async () => {
    expect(outputOf(await run(`do:\n  - s:\n      set:\n        a: 1\n        b: \${ .x * 2 }\n        c: [ '\${ .x }', plain ]\n`, { x: 21 }))).toEqual({ a: 1, b: 42, c: [21, 'plain'] });
  });
  it('accepts a whole expression', async () => {
    expect(outputOf(await run(`do:\n  - s:\n      set: \${ .x + 1 }\n`, { x: 1 }))).toBe(2);
  });
});

describe('switch', () => {
  const body = (color: string) => `do:
  - pick:
      switch:
        - isRed:
            when: .color == "red"
            then: red
        - fallback:
            then: other
  - red:
      set: { picked: red }
      then: end
  - other:
      set: { picked: '\${ "${color}-" + .color }' }
`;
  it('takes the first matching case', async () => {
    expect(outputOf(await run(body('x'), { color: 'red' }))).toEqual({ picked: 'red' });
  });
  it('takes the default case when none matches', async () => {
    expect(outputOf(await run(body('x'), { color: 'teal' }))).toEqual({ picked: 'x-teal' });
  });
});

describe('for', () => {
  it('iterates with custom names, and stops when while no longer holds', async () => {
    const result = await run(
      `do:
  - loop:
      for:
        each: n
        in: .numbers
        at: i
      while: .total < 10
      do:
        - add:
            set:
              total: \${ .total + $n }
              last: \${ $i }
`,
      { numbers: [4, 5, 6, 7], total: 0 },
    );
    expect(outputOf(result)).toEqual({ total: 15, last: 2 });
  });
  it('gives its input back when the collection is empty', async () => {
    expect(outputOf(await run(`do:\n  - loop:\n      for:\n        in: .none\n      do:\n        - x:\n            set: { touched: true }\n`, { none: [] }))).toEqual({ none: [] });
  });
});

describe('fork', () => {
  it('collects every branch output in declaration order', async () => {
    const result = await run(`do:
  - both:
      fork:
        branches:
          - slow:
              do:
                - nap:
                    wait: PT1M
                - one:
                    set: { v: 1 }
          - fast:
              set: { v: 2 }
`);
    expect(outputOf(result)).toEqual([{ v: 1 }, { v: 2 }]);
  });
  it('with compete, takes the first branch to finish and cancels the rest', async () => {
    const result = await run(`do:
  - race:
      fork:
        compete: true
        branches:
          - slow:
              do:
                - nap:
                    wait: PT1H
                - late:
                    set: { winner: slow }
          - quick:
              do:
                - nap:
                    wait: PT1S
                - early:
                    set: { winner: quick }
`);
    expect(outputOf(result)).toEqual({ winner: 'quick' });
    expect(result.ports.clock.time - Date.UTC(2025, 0, 1)).toBe(1000);
  });
});

describe('raise', () => {
  it('raises a named error from use.errors, with expressions in its fields', async () => {
    const error = errorOf(
      await run(
        `use:
  errors:
    outOfStock:
      type: https://example.com/errors/out-of-stock
      status: 409
      title: Out of stock
do:
  - check:
      raise:
        error: outOfStock
`,
      ),
    );
    expect(error).toMatchObject({ type: 'https://example.com/errors/out-of-stock', status: 409, title: 'Out of stock', instance: '/do/0/check' });
  });
});

describe('try', () => {
  const flaky = (failures: number) => {
    let calls = 0;
    return {
      calls: () => calls,
      routes: { 'GET https://api.test/flaky': () => (++calls <= failures ? jsonResponse(503, { down: true }) : jsonResponse(200, { ok: calls })) },
    };
  };
  const body = (backoff: string, count: number) => `use:
  retries:
    policy:
      delay: { seconds: 10 }
      backoff: { ${backoff}: {} }
      limit: { attempt: { count: ${count} } }
do:
  - attempt:
      try:
        - call:
            call: http
            with: { method: get, endpoint: https://api.test/flaky }
      catch:
        errors:
          with: { status: 503 }
        retry: policy
`;
  it('retries with exponential backoff until the call succeeds', async () => {
    const service = flaky(3);
    const result = await run(body('exponential', 5), {}, { routes: service.routes });
    expect(outputOf(result)).toEqual({ ok: 4 });
    expect(result.ports.timers.fired.map((t) => t - Date.UTC(2025, 0, 1))).toEqual([10_000, 30_000, 70_000]);
  });
  it('retries with linear backoff', async () => {
    const service = flaky(2);
    const result = await run(body('linear', 5), {}, { routes: service.routes });
    expect(outputOf(result)).toEqual({ ok: 3 });
    expect(result.ports.timers.fired.map((t) => t - Date.UTC(2025, 0, 1))).toEqual([10_000, 30_000]);
  });
  it('after the attempt limit, lets the error fault the workflow instead of running catch.do', async () => {
    const service = flaky(10);
    const result = await run(body('constant', 2).replace('retry: policy', 'retry: policy\n        do:\n          - giveUp:\n              set: { gaveUp: \'${ $error.status }\' }'), {}, { routes: service.routes });
    expect(service.calls()).toBe(3);
    expect(errorOf(result)).toMatchObject({ status: 503, instance: '/do/0/attempt/try/0/call' });
  });
  it('lets an error the filter does not match fault the workflow', async () => {
    const error = errorOf(await run(body('constant', 2).replace('status: 503', 'status: 500'), {}, { routes: flaky(10).routes }));
    expect(error).toMatchObject({ type: `${ERROR_TYPE_BASE}communication`, status: 503, instance: '/do/0/attempt/try/0/call' });
  });
  it('runs catch.do with the error under its name, honouring when/exceptWhen', async () => {
    const result = await run(`do:
  - guarded:
      try:
        - boom:
            raise:
              error: { type: https://example.com/e, status: 418, title: Teapot }
      catch:
        as: problem
        when: $problem.status == 418
        do:
          - handle:
              set:
                handled: \${ $problem.title }
`);
    expect(outputOf(result)).toEqual({ handled: 'Teapot' });
    const uncaught = await run(`do:
  - guarded:
      try:
        - boom:
            raise:
              error: { type: https://example.com/e, status: 418 }
      catch:
        exceptWhen: $error.status == 418
`);
    expect(errorOf(uncaught).status).toBe(418);
  });
});

describe('retry delays', () => {
  it('grow as the backoff says and never past ten minutes, so a long policy rides out a day rather than years', () => {
    const exponential = { delay: 'PT1S', backoff: { exponential: {} } };
    expect([1, 2, 3, 4].map((n) => retryDelayMs(exponential, n, () => 0, 'test'))).toEqual([1000, 2000, 4000, 8000]);
    expect(retryDelayMs(exponential, 30, () => 0, 'test')).toBe(MAX_RETRY_DELAY_MS);
    expect(retryDelayMs({ delay: 'PT2S', backoff: { linear: {} } }, 1000, () => 0, 'test')).toBe(MAX_RETRY_DELAY_MS);
    // Jitter is added after the cap.
    expect(retryDelayMs({ ...exponential, jitter: { from: 'PT0S', to: 'PT10S' } }, 184, () => 0.5, 'test')).toBe(MAX_RETRY_DELAY_MS + 5000);
    // A constant delay longer than the cap is what its author asked for.
    expect(retryDelayMs({ delay: 'PT1H' }, 3, () => 0, 'test')).toBe(3_600_000);
  });
});

describe('wait', () => {
  it('waits an hour on the fake clock, not in real time', async () => {
    const result = await run(`do:\n  - nap:\n      wait:\n        hours: 1\n  - after:\n      set: { woke: true }\n`);
    expect(outputOf(result)).toEqual({ woke: true });
    expect(result.ports.clock.time - Date.UTC(2025, 0, 1)).toBe(3_600_000);
  });
});

describe('emit and listen', () => {
  it('emits a CloudEvent that a listening branch receives', async () => {
    const result = await run(`do:
  - both:
      fork:
        branches:
          - hear:
              listen:
                to:
                  one:
                    with:
                      type: com.example.ping
                read: envelope
          - say:
              do:
                - pause:
                    wait: PT1S
                - ping:
                    emit:
                      event:
                        with:
                          source: /tests
                          type: com.example.ping
                          data: { n: 1 }
`);
    const [heard, said] = outputOf(result) as [Record<string, unknown>[], Record<string, unknown>];
    expect(said).toMatchObject({ specversion: '1.0', source: '/tests', type: 'com.example.ping', data: { n: 1 } });
    expect(heard).toHaveLength(1);
    expect(heard[0]).toMatchObject({ type: 'com.example.ping', data: { n: 1 } });
  });
  it('listens for all of several events, reading their data', async () => {
    const result = await run(`do:
  - both:
      fork:
        branches:
          - hear:
              listen:
                to:
                  all:
                    - with: { type: com.example.a }
                    - with: { type: com.example.b }
          - say:
              do:
                - pause:
                    wait: PT1S
                - b:
                    emit: { event: { with: { source: /t, type: com.example.b, data: { v: b } } } }
                - other:
                    emit: { event: { with: { source: /t, type: com.example.c, data: { v: c } } } }
                - a:
                    emit: { event: { with: { source: /t, type: com.example.a, data: { v: a } } } }
`);
    expect((outputOf(result) as unknown[])[0]).toEqual([{ v: 'b' }, { v: 'a' }]);
  });
  it('correlates events by key: an expected value, or the value of the first correlated event', async () => {
    const result = await run(`do:
  - both:
      fork:
        branches:
          - hear:
              listen:
                to:
                  all:
                    - with: { type: com.example.paid }
                      correlate:
                        order: { from: '\${ .data.order }', expect: '\${ .order }' }
                    - with: { type: com.example.packed }
                      correlate:
                        customer: { from: '\${ .data.customer }' }
                    - with: { type: com.example.shipped }
                      correlate:
                        customer: { from: '\${ .data.customer }' }
          - say:
              do:
                - pause:
                    wait: PT1S
                - otherOrder:
                    emit: { event: { with: { source: /t, type: com.example.paid, data: { order: o-2 } } } }
                - paid:
                    emit: { event: { with: { source: /t, type: com.example.paid, data: { order: o-1 } } } }
                - packed:
                    emit: { event: { with: { source: /t, type: com.example.packed, data: { customer: c-7 } } } }
                - otherCustomer:
                    emit: { event: { with: { source: /t, type: com.example.shipped, data: { customer: c-9 } } } }
                - shipped:
                    emit: { event: { with: { source: /t, type: com.example.shipped, data: { customer: c-7 } } } }
`, { order: 'o-1' });
    expect((outputOf(result) as unknown[])[0]).toEqual([{ order: 'o-1' }, { customer: 'c-7' }, { customer: 'c-7' }]);
  });
});

describe('call http', () => {
  it('sends method, headers, query and JSON body, with bearer authentication, and reads JSON back', async () => {
    const result = await run(
      `do:
  - create:
      call: http
      with:
        method: post
        endpoint:
          uri: https://api.test/items/{kind}
          authentication:
            bearer:
              token: \${ .token }
        headers:
          x-trace: abc
        query:
          dry: 'true'
        body:
          name: \${ .name }
      output:
        as: '\${ { created: .id, via: $authorization.scheme } }'
`,
      { kind: 'tools', token: 't0k', name: 'hammer' },
      { routes: { 'POST https://api.test/items/tools': () => jsonResponse(201, { id: 7 }) } },
    );
    expect(outputOf(result)).toEqual({ created: 7, via: 'Bearer' });
    const request = result.ports.http.requests[0]!;
    expect(request.url).toBe('https://api.test/items/tools?dry=true');
    expect(request.headers).toMatchObject({ authorization: 'Bearer t0k', 'x-trace': 'abc', 'content-type': 'application/json' });
    expect(JSON.parse(String(request.body))).toEqual({ name: 'hammer' });
  });
  it('gets an OAuth2 client-credentials token first', async () => {
    const result = await run(
      `do:
  - get:
      call: http
      with:
        method: get
        endpoint:
          uri: https://api.test/secure
          authentication:
            oauth2:
              authority: https://auth.test
              grant: client_credentials
              client: { id: app, secret: s3cret }
              scopes: [read]
`,
      {},
      {
        routes: {
          'POST https://auth.test/oauth2/token': () => jsonResponse(200, { access_token: 'abc', token_type: 'Bearer' }),
          'GET https://api.test/secure': (r) => (r.headers.authorization === 'Bearer abc' ? jsonResponse(200, { ok: true }) : jsonResponse(401, {})),
        },
      },
    );
    expect(outputOf(result)).toEqual({ ok: true });
    expect(String(result.ports.http.requests[0]!.body)).toContain('grant_type=client_credentials');
  });
  it('turns a non-2xx answer into a communication error carrying the status', async () => {
    const error = errorOf(await run(`do:\n  - get:\n      call: http\n      with: { method: get, endpoint: https://api.test/missing }\n`));
    expect(error).toMatchObject({ type: `${ERROR_TYPE_BASE}communication`, status: 404, instance: '/do/0/get' });
  });
});

describe('functions and subflows', () => {
  it('calls a function from use.functions with its arguments as input', async () => {
    const result = await run(`use:
  functions:
    double:
      set:
        result: \${ .value * 2 }
do:
  - twice:
      call: double
      with:
        value: \${ .n }
`, { n: 4 });
    expect(outputOf(result)).toEqual({ result: 8 });
  });
  it('calls a function by the URL of its definition, as the spec examples do', async () => {
    const definition = 'set:\n  greeting: ${ "Hello, " + .name }\n';
    const result = await run(`do:
  - greet:
      call: https://functions.test/greet/1.0.0/function.yaml
      with:
        name: \${ .who }
`, { who: 'Ada' }, {
      routes: {
        'GET https://functions.test/greet/1.0.0/function.yaml': () => ({
          status: 200,
          headers: { 'content-type': 'application/yaml' },
          body: new TextEncoder().encode(definition),
        }),
      },
    });
    expect(outputOf(result)).toEqual({ greeting: 'Hello, Ada' });
  });
  it('runs a subflow through the workflow resolver', async () => {
    const { parse } = await import('yaml');
    const child = parse(`document: { dsl: '1.0.0', namespace: test, name: child, version: '1.0.0' }\ndo:\n  - greet:\n      set: { hello: '\${ .who }' }\n`);
    const result = await run(`do:\n  - sub:\n      run:\n        workflow: { namespace: test, name: child, version: '1.0.0', input: { who: '\${ .name }' } }\n`, { name: 'Ann' }, { ports: { workflows: { resolve: async () => child } } });
    expect(outputOf(result)).toEqual({ hello: 'Ann' });
  });
});

describe('run', () => {
  it('refuses shell commands unless an operator enabled them', async () => {
    const error = errorOf(await run(`do:\n  - sh:\n      run:\n        shell:\n          command: echo hi\n`));
    expect(error).toMatchObject({ type: `${ERROR_TYPE_BASE}configuration`, status: 400 });
    expect(error.detail).toContain('turned off');
  });
  it('refuses scripts when no script runner is bound, saying how to enable them', async () => {
    const error = errorOf(await run(`do:\n  - js:\n      run:\n        script:\n          language: javascript\n          code: return 1\n`));
    expect(error).toMatchObject({ type: `${ERROR_TYPE_BASE}configuration`, status: 400 });
    expect(error.detail).toContain('MESHFLOW_SCRIPTS=enabled');
  });
  it('runs JavaScript in a separate locked-down process, with arguments, and returns its value', async () => {
    const { ProcessScriptRunner } = await import('@/runtime/engine/host/script-runner');
    const result = await run(
      `do:\n  - js:\n      run:\n        script:\n          language: javascript\n          arguments: { a: '\${ .a }' }\n          code: |\n            return { sum: a + 1, hasProcess: typeof process !== 'undefined', hasRequire: typeof require !== 'undefined' };\n`,
      { a: 41 },
      { ports: { scripts: new ProcessScriptRunner() } },
    );
    expect(outputOf(result)).toEqual({ sum: 42, hasProcess: false, hasRequire: false });
  });
  it('stops a script that runs past its time limit', async () => {
    const { ProcessScriptRunner } = await import('@/runtime/engine/host/script-runner');
    const scripts = new ProcessScriptRunner();
    const result = await scripts.run({ language: 'javascript', code: 'while (true) {}', arguments: {}, environment: {}, timeoutMs: 200 }, new AbortController().signal);
    expect(result.code).not.toBe(0);
  });
});
