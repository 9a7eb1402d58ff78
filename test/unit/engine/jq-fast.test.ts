/**
 * The JavaScript fast path must agree with real jq: every case runs through the compiled
 * function and through the jq binary (/usr/bin/jq), and the answers must be equal. Errors
 * must fall back to jq-wasm rather than invent a result.
 */
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { compileFast, FAST_PATH_MISS } from '@/runtime/expressions/jq-fast';
import type { JqValue } from '@/runtime/expressions/jq';

const INPUTS: JqValue[] = [
  { a: 1, b: 'x', c: null, d: [1, 2, 3], e: { f: true, 'g-h': 2 }, n: 10, s: 'abc', t: 'Ab', z: false },
  { a: 1.0, b: 'é', d: [], e: {}, n: -3, s: 'abd', t: 'ab' },
  { a: [1, { b: 2 }], b: { c: [null] }, n: 1e3, s: '', t: '\u{1F600}' },
];

const EXPRESSIONS = [
  '.',
  '.a',
  '.b',
  '.e.f',
  '."e"',
  '.e."g-h"',
  '.["e"]["g-h"]',
  '.d[0]',
  '.d[-1]',
  '.d[5]',
  '.missing.deeper',
  '.n > 5',
  '.n >= 10',
  '.n == 10.0',
  '.n != 10',
  '.s < "abd"',
  '.t < "ab"',
  '.t > "\uFFFF"',
  '.a == 1 and .b == "x"',
  '.a == 2 or .c == null',
  '.z | not',
  '(.n > 0) and (.s != "")',
  'null < false',
  'true > 1',
  '"a" < 1',
  '.d > .e',
  '.a < .d',
  '1 == 1.0',
  '.c',
  '.e > .d',
  '$v.a',
  '$v.a == .a',
  '{}',
  '{ id: .a, bucket: .e.f, amount: .n }',
  '{a: 1, "b c": "x", d: null, e: true}',
  '{nested: {deeper: .e."g-h"}, list: .d[0]}',
  '{cmp: (.n > 5), both: (.a == 1 and .z == false)}',
  '{b: 1, a: 2, b: 3}',
  '{a: $v.a}',
  '{if: .s}',
  '{x: .a.b}',
  '.e == {}',
];

const VARIABLES = { v: { a: 1 } };

/**
 * What the jq binary answers for every expression on every input, in one process: spawning
 * jq once per case made this test slow enough to time out on a busy machine. Each case is
 * `try ([E]) catch …`, so an error stays an error and never becomes another case's value.
 */
function referenceAnswers(): (JqValue | 'error')[][] {
  const cases = EXPRESSIONS.map((expression) => `(try ([${expression}]) catch "error")`).join(', ');
  const out = execFileSync('/usr/bin/jq', ['-c', '--argjson', 'v', JSON.stringify(VARIABLES.v), `[.[] | [${cases}]]`], { input: JSON.stringify(INPUTS) });
  const answers = JSON.parse(out.toString()) as (JqValue[] | 'error')[][];
  return answers.map((row) => row.map((answer) => (answer === 'error' ? 'error' : answer[0]!)));
}

describe('jq fast path', () => {
  it('compiles every case in the subset', () => {
    for (const expression of EXPRESSIONS) expect(compileFast(expression), expression).toBeDefined();
  });

  it('leaves anything else to jq', () => {
    for (const expression of ['.a + 1', '.[]', 'map(.)', '.a?', '"\\(.a)"', '..', '.a | length', 'if . then 1 else 2 end', '.a // 1', '{a: .x == 1}', '{a}', '{(.s): 1}', '{a: .x | not}', '{"1": 2}', '{__proto__: 1}', '{a: 1}.a', '{a: (1, 2)}', '{"\\(.s)": 1}', '.d == [1, 2, 3]']) {
      expect(compileFast(expression), expression).toBeUndefined();
    }
  });

  it('agrees with the jq binary on every case and input', () => {
    const vars = (name: string) => (name === 'v' ? VARIABLES.v : undefined);
    const answers = referenceAnswers();
    expect(answers).toHaveLength(INPUTS.length);
    for (const [i, input] of INPUTS.entries()) {
      for (const [j, expression] of EXPRESSIONS.entries()) {
        const expected = answers[i]![j];
        let actual: JqValue | 'error';
        try {
          actual = compileFast(expression)!(input, vars);
        } catch (error) {
          expect(error, `${expression} on ${JSON.stringify(input)}`).toBe(FAST_PATH_MISS);
          actual = 'error';
        }
        expect(actual, `${expression} on ${JSON.stringify(input)}`).toEqual(expected);
        // Objects come out with jq's key order too (what a sink receives, byte for byte).
        expect(JSON.stringify(actual), `${expression} on ${JSON.stringify(input)}`).toBe(JSON.stringify(expected));
      }
    }
  });
});
