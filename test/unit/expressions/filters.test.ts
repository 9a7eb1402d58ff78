import { describe, expect, it } from 'vitest';
import filterCommand from '@/runtime/cli/commands/filter.ts';
import { DefinitionError, compileFilter, filterDefinitionSchema, validateFilter } from '@/runtime/expressions/filters/index.ts';

const event = {
  specversion: '1.0',
  id: 'evt-1',
  source: 'https://github.com/cloudevents/spec',
  type: 'com.github.push',
  subject: 'refs/heads/main',
  priority: 5,
  urgent: true,
};

async function matches(definition: unknown, e: Record<string, unknown> = event): Promise<boolean> {
  return (await compileFilter(definition))(e);
}

describe('Subscriptions API filter dialects', () => {
  it.each([
    [{ exact: { type: 'com.github.push' } }, true],
    [{ exact: { type: 'com.github.Push' } }, false],
    [{ exact: { type: 'com.github.push', subject: 'refs/heads/main' } }, true],
    [{ exact: { type: 'com.github.push', subject: 'refs/heads/dev' } }, false],
    [{ exact: { missing: 'x' } }, false],
    [{ exact: { priority: '5' } }, true],
    [{ exact: { urgent: 'true' } }, true],
    [{ prefix: { type: 'com.github.' } }, true],
    [{ prefix: { type: 'com.gitlab.' } }, false],
    [{ prefix: { source: 'https://', subject: 'refs/' } }, true],
    [{ prefix: { missing: 'x' } }, false],
    [{ suffix: { type: '.push' } }, true],
    [{ suffix: { type: '.PUSH' } }, false],
    [{ suffix: { missing: 'x' } }, false],
    [{ all: [{ exact: { type: 'com.github.push' } }, { prefix: { subject: 'refs/' } }] }, true],
    [{ all: [{ exact: { type: 'com.github.push' } }, { prefix: { subject: 'tags/' } }] }, false],
    [{ any: [{ exact: { type: 'other' } }, { suffix: { subject: '/main' } }] }, true],
    [{ any: [{ exact: { type: 'other' } }, { suffix: { subject: '/dev' } }] }, false],
    [{ not: { exact: { type: 'com.github.push' } } }, false],
    [{ not: { exact: { type: 'other' } } }, true],
    [{ sql: "source LIKE '%cloudevents%'" }, true],
    [{ sql: 'priority > 3 AND urgent' }, true],
    [{ sql: 'priority > 7' }, false],
    [{ sql: "missing = 'x' OR TRUE" }, false],
    [{ sql: '1 / 0 = 0' }, false],
    [{ sql: 'urgent' }, true],
    [{ sql: 'subject' }, false],
    [{ sql: '1 + 1' }, false],
    [[{ exact: { type: 'com.github.push' } }, { sql: 'EXISTS subject' }], true],
    [[{ exact: { type: 'com.github.push' } }, { sql: 'EXISTS dataschema' }], false],
    [{ not: { any: [{ all: [{ prefix: { type: 'com.' } }, { not: { suffix: { type: '.push' } } }] }] } }, true],
  ] as const)('%j → %s', async (definition, expected) => {
    expect(await matches(definition)).toBe(expected);
  });

  it('is compiled once: the predicate does not consult the definition again', async () => {
    const definition = { exact: { type: 'com.github.push' } };
    const predicate = await compileFilter(definition);
    definition.exact.type = 'changed';
    expect(predicate(event)).toBe(true);
  });

  it('works on a cloudevents CloudEvent instance as well as on plain JSON', async () => {
    const { CloudEvent } = await import('cloudevents');
    const ce = new CloudEvent({ source: '/orders', type: 'order.created', priority: 2, data: { total: 5 } });
    expect(await matches({ all: [{ exact: { type: 'order.created' } }, { sql: 'priority = 2' }] }, ce as unknown as Record<string, unknown>)).toBe(true);
    expect(await matches({ pattern: { data: { total: [{ numeric: ['>', 4] }] } } }, ce as unknown as Record<string, unknown>)).toBe(true);
  });
});

describe('jq predicate', () => {
  const order = { ...event, data: { amount: 150, items: [{ sku: 'a' }, { sku: 'b' }] } };
  it.each([
    ['.data.amount > 100', true],
    ['.data.amount > 200', false],
    ['.data.items | map(.sku) | index("b") != null', true],
    ['.data.missing', false],
    ['.data.amount | ascii_downcase', false],
    ['empty', false],
  ])('%s → %s', async (expression, expected) => {
    expect(await matches({ jq: expression }, order)).toBe(expected);
  });

  it('rejects jq that does not compile, at its path', async () => {
    await expect(compileFilter({ any: [{ jq: '.data.amount >' }] })).rejects.toThrow(/^invalid filter:\n\/any\/0\/jq: .*syntax error/);
  });
});

describe('invalid filters', () => {
  it.each([
    [{ all: [{ exact: { type: 'x' } }, { sql: 'type = (1 +' }] }, "/all/1/sql: unexpected end of expression, expected a value at 11"],
    [{ sql: "source = 'a')" }, "/sql: unexpected token ')' at 12"],
    [{ sql: 'NOPE(type)' }, '/sql: no function NOPE taking 1 argument(s) at 0'],
    [{ sql: 42 }, '/sql: sql must be a CESQL expression string, got number 42'],
    [{ exact: {} }, '/exact: exact must be an object of attribute names to strings'],
    [{ exact: { type: '' } }, '/exact/type: expected a non-empty string, got string ""'],
    [{ prefix: { Type: 'a' } }, '/prefix/Type: "Type" is not a CloudEvents attribute name'],
    [{ suffix: { type: 1 } }, '/suffix/type: expected a non-empty string, got number 1'],
    [{ all: [] }, '/all: all needs at least one filter'],
    [{ any: {} }, '/any: any must be an array of filters, got an object'],
    [{ not: 'x' }, '/not: a filter must be an object'],
    [{ exact: { type: 'a' }, prefix: { type: 'a' } }, '/: a filter must have exactly one dialect'],
    [{}, '/: a filter must have exactly one dialect (exact, prefix, suffix, all, any, not, sql, pattern, jq), got none'],
    [{ regex: 'a.*' }, '/regex: unknown filter dialect "regex"'],
    [{ jq: '' }, '/jq: jq must be a jq expression string'],
    ['type = 1', '/: a filter must be an object'],
  ])('%j', async (definition, message) => {
    const error = await compileFilter(definition).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(DefinitionError);
    expect((error as DefinitionError).message).toContain(message);
  });

  it('reports every problem at once', () => {
    expect(validateFilter({ all: [{ exact: { type: '' } }, { sql: ')' }, { not: { any: [] } }] })).toEqual([
      { path: '/all/0/exact/type', message: 'expected a non-empty string, got string ""' },
      { path: '/all/1/sql', message: "unexpected token ')', expected a value at 0" },
      { path: '/all/2/not/any', message: 'any needs at least one filter' },
    ]);
  });

  it('gives the same issues through the zod schema, with paths', () => {
    const result = filterDefinitionSchema.safeParse({ any: [{ sql: 'a =' }] });
    expect(result.success).toBe(false);
    expect(result.error?.issues.map((i) => [i.path, i.message])).toEqual([[['any', '0', 'sql'], 'unexpected end of expression, expected a value at 3']]);
    expect(filterDefinitionSchema.safeParse({ exact: { type: 'a' } }).success).toBe(true);
  });
});

describe('meshflow filter', () => {
  async function run(args: string[]) {
    let stdout = '';
    let stderr = '';
    const code = await filterCommand(args, { stdout: (t) => void (stdout += t), stderr: (t) => void (stderr += t) });
    return { code, stdout, stderr };
  }
  const eventArg = ['--event', JSON.stringify({ ...event, data: { amount: 10 } })];

  it('prints true or false and exits 0', async () => {
    expect(await run(['{"prefix":{"type":"com.github."}}', ...eventArg])).toEqual({ code: 0, stdout: 'true\n', stderr: '' });
    expect(await run(['{"pattern":{"data":{"amount":[{"numeric":[">",50]}]}}}', ...eventArg])).toEqual({ code: 0, stdout: 'false\n', stderr: '' });
  });

  it('accepts a sql filter that cannot yield Boolean (it never passes, so its negation always does) and warns on stderr', async () => {
    expect(await run(['{"not":{"sql":"priority + 1"}}', ...eventArg])).toEqual({
      code: 0,
      stdout: 'true\n',
      stderr: 'warning: /not/sql: this sql filter yields Integer, not Boolean, so no event passes it (CESQL §1.2); compare it, e.g. `… = 1`\n',
    });
  });

  it('explains an invalid filter on stderr and exits 2', async () => {
    const result = await run(['{"all":[{"sql":"type = )"}]}', ...eventArg]);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toBe("invalid filter:\n/all/0/sql: unexpected token ')', expected a value at 7\n");
  });

  it.each([
    [['{"exact":', ...eventArg], 'the filter is not valid JSON'],
    [['{"exact":{"type":"a"}}'], '--event is required'],
    [['{"exact":{"type":"a"}}', '--event', '[]'], '--event must be a JSON object'],
    [['{"exact":{"type":"a"}}', '--event'], '--event needs a value'],
  ])('exits 2 on bad arguments: %j', async (args, message) => {
    const result = await run(args);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(message);
  });
});
