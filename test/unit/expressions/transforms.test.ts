import { describe, expect, it } from 'vitest';
import { DefinitionError } from '@/runtime/expressions/filters/index.ts';
import { TransformError, compileTransform, transformDefinitionSchema, validateTransform } from '@/runtime/expressions/transforms/index.ts';

const event = {
  specversion: '1.0',
  id: 'o-1',
  source: '/shop',
  type: 'order.created',
  data: { order: { id: 'A1', total: 42, items: [{ sku: 'x' }, { sku: 'y' }] }, customer: 'Ana', 'odd key': 'v' },
};

describe('transform kinds', () => {
  it('original passes the event through unchanged', async () => {
    expect((await compileTransform({ kind: 'original' }))(event)).toBe(event);
  });

  it('constant always yields its value', async () => {
    const transform = await compileTransform({ kind: 'constant', value: { hello: 'world' } });
    expect(transform(event)).toEqual({ hello: 'world' });
  });

  it('template renders JSONPath values into ${name} placeholders', async () => {
    const transform = await compileTransform({
      kind: 'template',
      values: {
        who: '$.data.customer',
        order: '$.data.order.id',
        total: '$.data.order.total',
        skus: '$.data.order.items[*].sku',
        first: '$.data.order.items[0].sku',
        odd: "$.data['odd key']",
        missing: '$.data.nope',
        channel: 'web',
      },
      template: '${who} ordered ${order} (${total}) ${skus} ${first} ${odd} ${missing} via ${channel}, $${literal}',
    });
    expect(transform(event)).toBe('Ana ordered A1 (42) ["x","y"] x v null via web, ${literal}');
  });

  it('template renders objects as JSON, so a JSON template stays JSON', async () => {
    const transform = await compileTransform({
      kind: 'template',
      values: { order: '$.data.order', type: '$.type' },
      template: '{"kind":"${type}","order":${order}}',
    });
    expect(JSON.parse(transform(event) as string)).toEqual({ kind: 'order.created', order: event.data.order });
  });

  it('accepts EventMesh transformer definitions as they are', async () => {
    const template = await compileTransform({
      transformerType: 'template',
      value: '{"text":"$.data.customer"}',
      template: 'Hi ${text}',
    });
    expect(template(event)).toBe('Hi Ana');
    expect((await compileTransform({ transformerType: 'constant', content: 'fixed' }))(event)).toBe('fixed');
    expect((await compileTransform({ transformerType: 'original' }))(event)).toBe(event);
  });

  it('jq yields the first output of the expression', async () => {
    expect((await compileTransform({ kind: 'jq', expression: '.data.order.total' }))(event)).toBe(42);
    const shaped = await compileTransform({ kind: 'jq', expression: '{id: .data.order.id, skus: [.data.order.items[].sku]}' });
    expect(shaped(event)).toEqual({ id: 'A1', skus: ['x', 'y'] });
    expect((await compileTransform({ kind: 'jq', expression: 'empty' }))(event)).toBeNull();
  });

  it('a jq error on an event raises TransformError', async () => {
    const transform = await compileTransform({ kind: 'jq', expression: '.data.customer | keys' });
    expect(() => transform(event)).toThrow(TransformError);
  });
});

describe('invalid transforms', () => {
  it.each([
    [{ kind: 'mystery' }, '/kind: unknown transform kind string "mystery"; expected original, constant, template or jq'],
    [{}, '/kind: unknown transform kind undefined'],
    ['original', '/: a transform must be an object'],
    [{ kind: 'constant' }, '/value: a constant transform needs a value'],
    [{ kind: 'template', values: { a: '$.id' }, template: 'x ${b}' }, '/template: ${b} at 2 names no entry of values (a)'],
    [{ kind: 'template', values: { a: 1 }, template: '${a}' }, '/values/a: expected a JSONPath string such as "$.data.id", got number 1'],
    [{ kind: 'template', values: '$.id', template: 'x' }, '/values: values must be an object'],
    [{ kind: 'template', values: { a: '$.id' } }, '/template: template must be a string, got undefined'],
    [{ kind: 'template', values: { 'a b': '$.id' }, template: '' }, '/values/a b: "a b" is not a usable name'],
    [{ kind: 'jq', expression: '' }, '/expression: expression must be a jq expression string'],
  ])('%j', async (definition, message) => {
    const error = await compileTransform(definition).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(DefinitionError);
    expect((error as DefinitionError).message).toContain(message);
    expect(transformDefinitionSchema.safeParse(definition).success).toBe(false);
  });

  it('rejects jq that does not compile', async () => {
    await expect(compileTransform({ kind: 'jq', expression: '{a:' })).rejects.toThrow(/\/expression: .*syntax error/);
    expect(validateTransform({ kind: 'jq', expression: '.a' })).toEqual([]);
  });
});
