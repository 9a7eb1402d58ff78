/** The DSL's data flow rules: input/output/export transformations and schemas, runtime arguments, if, flow directives. */
import { describe, expect, it } from 'vitest';
import { ERROR_TYPE_BASE } from '@/runtime/engine/errors';
import { errorOf, outputOf, run } from '@/test/unit/engine/helpers';

describe('data flow', () => {
  it('applies workflow input.from and output.as around the tasks', async () => {
    const result = await run(`input:\n  from: .order\ndo:\n  - total:\n      set:\n        total: \${ .qty * .price }\noutput:\n  as: .total\n`, { order: { qty: 3, price: 5 }, noise: true });
    expect(outputOf(result)).toBe(15);
  });

  it('gives $input as the transformed task input and $task.input as the raw one', async () => {
    const result = await run(`do:\n  - t:\n      input:\n        from: .inner\n      set:\n        transformed: \${ $input }\n        raw: \${ $task.input }\n        name: \${ $task.name }\n        ref: \${ $task.reference }\n`, { inner: 1 });
    expect(outputOf(result)).toEqual({ transformed: 1, raw: { inner: 1 }, name: 't', ref: '/do/0/t' });
  });

  it('exports into $context, which later tasks read', async () => {
    const result = await run(`do:
  - remember:
      set: { id: 42 }
      export:
        as: '\${ $context + { orderId: .id } }'
  - other:
      set: { unrelated: true }
  - use:
      set:
        orderId: \${ $context.orderId }
        sawOutput: \${ $input.unrelated }
`);
    expect(outputOf(result)).toEqual({ orderId: 42, sawOutput: true });
  });

  it('offers $output to export.as and the raw output to output.as', async () => {
    const result = await run(`do:\n  - t:\n      set: { a: 1, b: 2 }\n      output:\n        as: .a\n      export:\n        as: '\${ { out: $output, raw: $task.output } }'\n  - read:\n      set: \${ $context }\n`);
    expect(outputOf(result)).toEqual({ out: 1, raw: { a: 1, b: 2 } });
  });

  it('describes the workflow and the runtime', async () => {
    const result = await run(`do:\n  - t:\n      set:\n        id: \${ $workflow.id }\n        name: \${ $workflow.definition.document.name }\n        rawInput: \${ $workflow.input }\n        started: \${ $workflow.startedAt.iso8601 }\n        runtime: \${ $runtime.name }\n`, { x: 1 });
    expect(outputOf(result)).toEqual({ id: 'id-1', name: 'wf', rawInput: { x: 1 }, started: '2025-01-01T00:00:00.000Z', runtime: 'meshflow' });
  });

  it('skips a task whose if does not hold, passing its input on', async () => {
    const result = await run(`do:\n  - maybe:\n      if: .enabled\n      set: { changed: true }\n  - after:\n      set:\n        kept: \${ .enabled }\n`, { enabled: false });
    expect(outputOf(result)).toEqual({ kept: false });
  });

  it('faults with a validation error when input does not match input.schema', async () => {
    const error = errorOf(await run(`do:\n  - t:\n      input:\n        schema:\n          format: json\n          document:\n            type: object\n            required: [id]\n      set: { ok: true }\n`, { name: 'x' }));
    expect(error).toMatchObject({ type: `${ERROR_TYPE_BASE}validation`, status: 400, instance: '/do/0/t' });
    expect(error.detail).toContain('id');
  });

  it('checks the workflow output against output.schema', async () => {
    const error = errorOf(await run(`do:\n  - t:\n      set: { n: '1' }\noutput:\n  schema:\n    document:\n      type: object\n      properties:\n        n: { type: number }\n`));
    expect(error).toMatchObject({ type: `${ERROR_TYPE_BASE}validation` });
  });

  it('checks the exported context against export.schema', async () => {
    const error = errorOf(await run(`do:\n  - t:\n      set: { n: 1 }\n      export:\n        as: .n\n        schema:\n          document: { type: object }\n`));
    expect(error).toMatchObject({ type: `${ERROR_TYPE_BASE}validation`, instance: '/do/0/t' });
  });

  it('names the task and the expression when an expression fails', async () => {
    const error = errorOf(await run(`do:\n  - broken:\n      set:\n        v: \${ .a.b }\n`, { a: 5 }));
    expect(error).toMatchObject({ type: `${ERROR_TYPE_BASE}expression`, status: 400, instance: '/do/0/broken' });
    expect(error.detail).toContain('task "broken"');
    expect(error.detail).toContain('.a.b');
    expect(error.detail).toContain('Cannot index number');
  });

  it('evaluates bare .paths as expressions in loose mode only', async () => {
    const body = (mode: string) => `evaluate:\n  mode: ${mode}\ndo:\n  - t:\n      set:\n        v: .x\n`;
    expect(outputOf(await run(body('strict'), { x: 1 }))).toEqual({ v: '.x' });
    expect(outputOf(await run(body('loose'), { x: 1 }))).toEqual({ v: 1 });
  });
});

describe('flow directives', () => {
  it('exit leaves the enclosing do and continues after it', async () => {
    const result = await run(`do:\n  - inner:\n      do:\n        - a:\n            set: { step: a }\n            then: exit\n        - b:\n            set: { step: b }\n  - after:\n      set:\n        last: \${ .step }\n`);
    expect(outputOf(result)).toEqual({ last: 'a' });
  });

  it('end inside a nested do ends the whole workflow', async () => {
    const result = await run(`do:\n  - inner:\n      do:\n        - a:\n            set: { step: a }\n            then: end\n  - after:\n      set: { step: after }\n`);
    expect(outputOf(result)).toEqual({ step: 'a' });
  });

  it('a named directive can loop back, until a switch breaks out', async () => {
    const result = await run(`do:
  - inc:
      set:
        n: \${ (.n // 0) + 1 }
  - check:
      switch:
        - more:
            when: .n < 3
            then: inc
        - done:
            then: continue
  - finish:
      set:
        total: \${ .n }
`);
    expect(outputOf(result)).toEqual({ total: 3 });
  });

  it('times the whole workflow out with use.timeouts', async () => {
    const error = errorOf(await run(`use:\n  timeouts:\n    short:\n      after: PT10S\ntimeout: short\ndo:\n  - nap:\n      wait: PT1M\n`));
    expect(error).toMatchObject({ type: `${ERROR_TYPE_BASE}timeout`, status: 408 });
  });
});

describe('lifecycle events', () => {
  it('publishes workflow and task lifecycle CloudEvents', async () => {
    const result = await run(`do:\n  - a:\n      set: { x: 1 }\n`);
    await new Promise((resolve) => setImmediate(resolve));
    expect(result.ports.lifecycle.types()).toEqual(['workflow.started', 'task.created', 'task.started', 'task.completed', 'workflow.completed']);
    const completed = result.ports.lifecycle.events.at(-1)!;
    expect(completed).toMatchObject({ specversion: '1.0', type: 'io.serverlessworkflow.workflow.completed.v1', data: { name: 'wf.test:1.0.0', output: { x: 1 } } });
  });
});
