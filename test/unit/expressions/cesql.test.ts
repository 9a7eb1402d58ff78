import { describe, expect, it } from 'vitest';
import cesqlCommand from '@/runtime/cli/commands/cesql.ts';
import { CesqlParseError, compileCesql } from '@/runtime/expressions/cesql/index.ts';
import { TCK, type TckCase } from '@/test/unit/expressions/cesql-tck';

const BASE_EVENT = { specversion: '1.0', id: 'tck-id', source: '/tck', type: 'tck.type' };

async function runCli(args: string[]) {
  let stdout = '';
  let stderr = '';
  const code = await cesqlCommand(args, { stdout: (t) => void (stdout += t), stderr: (t) => void (stderr += t) });
  return { code, stdout, stderr };
}

function argsFor(test: TckCase): string[] {
  const event = test.event ?? (test.eventOverrides ? { ...BASE_EVENT, ...test.eventOverrides } : undefined);
  return event ? [test.expression, '--event', JSON.stringify(event)] : [test.expression];
}

describe('CESQL test kit through `meshflow cesql`', () => {
  for (const [file, cases] of Object.entries(TCK)) {
    describe(file, () => {
      it.each(cases.map((c) => [c.name, c] as const))('%s', async (_name, test) => {
        const { code, stdout } = await runCli(argsFor(test));
        expect(code).toBe(test.error === 'parse' ? 2 : 0);
        expect(stdout.endsWith('\n')).toBe(true);
        expect(stdout.trim().split('\n')).toHaveLength(1);
        const line = JSON.parse(stdout) as { value: unknown; error: { kind: string; message: string } | null };
        if (test.result !== undefined) expect(line.value).toStrictEqual(test.result);
        expect(line.error?.kind ?? null).toBe(test.error ?? null);
      });
    });
  }

  it('names every case where it follows the specification over the kit', () => {
    const deviations = Object.entries(TCK).flatMap(([file, cases]) =>
      cases.filter((c) => c.deviation).map((c) => `${file}: ${c.name}`),
    );
    expect(deviations).toEqual([
      'context_attributes_access.yaml: Absent optional attribute',
      'not_operator.yaml: Invalid int cast',
      'subscriptions_api_recreations.yaml: Conjunctive Normal Form (4)',
      'subscriptions_api_recreations.yaml: Conjunctive Normal Form (5)',
    ]);
  });
});

describe('meshflow cesql', () => {
  it('exits 2 and prints a parse error with its position when the expression does not parse', async () => {
    const { code, stdout } = await runCli(['4 * (2 + 1))']);
    expect(code).toBe(2);
    expect(JSON.parse(stdout)).toEqual({ value: null, error: { kind: 'parse', message: "unexpected token ')' at 11" } });
  });

  it('exits 2 with a message on stderr when --event is not a CloudEvent', async () => {
    expect((await runCli(['id', '--event', '{nope'])).code).toBe(2);
    const missing = await runCli(['id', '--event', '{"id":"1"}']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('specversion, source, type');
  });

  it('exits 2 with usage when the expression is missing', async () => {
    const { code, stderr } = await runCli([]);
    expect(code).toBe(2);
    expect(stderr).toContain('usage: meshflow cesql');
  });
});

const event = { ...BASE_EVENT, subject: 'orders/42', sequence: '7', flag: 'true', count: 3 };
const evaluate = (expression: string) => compileCesql(expression).evaluate(event);

describe('CESQL operators beyond the kit', () => {
  it.each([
    ["subject IN ('orders/41', 'orders/42')", true],
    ["subject NOT IN ('orders/41', 'orders/42')", false],
    ['sequence IN (6, 7)', true],
    ['count IN (1, 2)', false],
    ["count IN ('3')", true],
    ['sequence IN (id, subject)', false],
    ['EXISTS subject', true],
    ['EXISTS missing', false],
    ['exists ID', true],
    ["Subject = 'orders/42'", true],
    ['TRUE OR FALSE AND FALSE', false],
    ['NOT TRUE = FALSE', true],
    ["'ab' LIKE 'a%' = TRUE", true],
    ['-7 % 2', -1],
    ['7 % -2', 1],
    ['-7 / 2', -3],
    ['-2147483648', -2147483648],
    ['count * 2 + sequence', 13],
    ["LENGTH('héllo😀')", 6],
    ["LEFT('😀ab', 1)", '😀'],
    ["TRIM('\u00a0 x \u2003')", 'x'],
    ["IS_INT('12')", true],
    ["IS_INT('1.5')", false],
    ["IS_BOOL('False')", true],
    ['IS_STRING(1)', false],
    ["IS_STRING('1')", true],
    ["'a\nb' LIKE 'a_b'", true],
    ["'x.y' LIKE 'x_y'", true],
    ["'xzy' LIKE 'x.y'", false],
  ] as const)('%s → %j', (expression, expected) => {
    const { value, errors } = evaluate(expression);
    expect(errors).toEqual([]);
    expect(value).toStrictEqual(expected);
  });

  it.each([
    ['2147483647 + 1', -2147483648, 'math'],
    ['-2147483648 - 1', 2147483647, 'math'],
    ['65536 * 65536', 0, 'math'],
    ['-2147483648 / -1', -2147483648, 'math'],
    ["'abc' + 1", 0, 'cast'],
    ["'abc' = 0", false, 'cast'],
    ["1 IN ('x', 1)", false, 'cast'],
    ['missing IN (1)', false, 'missingAttribute'],
    ["LENGTH(missing)", 0, 'missingAttribute'],
    ['NOPE(1)', false, 'missingFunction'],
    ["SUBSTRING('abc', 1, -1)", '', 'functionEvaluation'],
    ['data', false, 'missingAttribute'],
  ] as const)('%s → %j with a %s error', (expression, expected, kind) => {
    const { value, errors } = evaluate(expression);
    expect(value).toStrictEqual(expected);
    expect(errors[0]?.kind).toBe(kind);
  });

  it('reads typed extensions with their own type and other values as strings', () => {
    const typed = { ...BASE_EVENT, big: 2 ** 40, ratio: 1.5, on: false };
    expect(compileCesql('big').evaluate(typed).value).toBe('1099511627776');
    expect(compileCesql("ratio = '1.5'").evaluate(typed).value).toBe(true);
    expect(compileCesql('NOT on').evaluate(typed).value).toBe(true);
  });

  it('reports the static result type and calls that cannot be dispatched', () => {
    expect(compileCesql('1 + 1').type).toBe('Integer');
    expect(compileCesql('a = b').type).toBe('Boolean');
    expect(compileCesql('subject').type).toBeUndefined();
    expect(compileCesql("LOWER('A')").type).toBe('String');
    expect(compileCesql('true OR LOWER(1, 2)').unresolvedCalls).toEqual([{ name: 'LOWER', arity: 2, position: 8 }]);
  });
});

describe('CESQL parse errors', () => {
  it.each([
    ['', 'unexpected end of expression, expected a value at 0'],
    ['1 +', 'unexpected end of expression, expected a value at 3'],
    ["'abc", 'unterminated string literal at 0'],
    ['a LIKE b', 'unexpected token \'b\', expected a string literal as the LIKE pattern at 7'],
    ['2147483648', 'integer literal 2147483648 is outside the 32-bit range at 0'],
    ['-2147483649', 'integer literal -2147483649 is outside the 32-bit range at 0'],
    ['a IN ()', "unexpected token ')', expected a value at 6"],
    ['EXISTS 1', "unexpected token '1', expected an attribute name after EXISTS at 7"],
    ['EXISTS subject + 1 1', "unexpected token '1' at 19"],
    ['my_ext = 1', "unexpected token 'my_ext', expected an attribute name of letters and digits at 0"],
    ['a ! b', 'unexpected character "!" at 2'],
    ['TRUE AND', 'unexpected end of expression, expected a value at 8'],
    ['f1(2)', "unexpected token 'f1', expected a function name of letters and _ at 0"],
    ['+a', "unexpected token 'a', expected digits after a leading + at 1"],
  ])('%j → %s', (expression, message) => {
    expect(() => compileCesql(expression)).toThrow(CesqlParseError);
    expect(() => compileCesql(expression)).toThrow(message);
  });
});
