/** The compiler's own YAML writer must write exactly what the `yaml` package writes. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { toBlockYaml } from '@/runtime/compiler/block-yaml';
import { compile } from '@/runtime/compiler/compile';
import { demoFlowGraph } from '@/runtime/nodes/demo';
import { specFiles, readExample } from '@/test/unit/compiler/spec-examples';

const reference = (value: unknown) => stringify(value, { lineWidth: 0, aliasDuplicateObjects: false });

describe('block YAML', () => {
  it('matches the yaml package on every spec example and on the demo flow', () => {
    expect(specFiles.length).toBeGreaterThan(10);
    for (const file of specFiles) {
      const document = readExample(file);
      expect(toBlockYaml(document), file).toBe(reference(document));
    }
    const demo = compile(demoFlowGraph()).document;
    expect(toBlockYaml(demo)).toBe(reference(demo));
  });

  it('matches it on awkward scalars and keys', () => {
    const tricky = ['x: y', 'true', '', '- x', '#c', "it's", '@x', '${ .a }', ' lead', 'trail ', '*', '{a}', '0x10', '1e3', '~', 'null', 'é 中', '"q"', 'a\tb', 'two\nlines', '? k', '%x', '|', '>'];
    const document = { list: [[1, 2], [], {}, tricky, Object.fromEntries(tricky.map((s, i) => [s, i]))], numbers: [1.5, -3, 0, 1e21, -0, Number.NaN], nothing: null, skipped: undefined };
    expect(toBlockYaml(document)).toBe(reference(document));
  });

  it('matches it on generated JSON', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        expect(toBlockYaml(value)).toBe(reference(value));
      }),
      { numRuns: 500 },
    );
  });
});
