/** Validation reports every problem at once, each at its path with what would be valid. */
import { describe, expect, it } from 'vitest';
import { loadWorkflow, validateWorkflow } from '../../../runtime/engine/validate.ts';
import { HEADER } from './helpers.ts';

describe('validateWorkflow', () => {
  it('accepts a valid document', async () => {
    const { document, diagnostics } = await loadWorkflow(`${HEADER}do:\n  - a:\n      set: { x: '\${ .y }' }\n`);
    expect(diagnostics).toEqual([]);
    expect(document?.document.name).toBe('wf');
  });

  it('reports flow directives to missing tasks, jq syntax, use references and schema problems together', async () => {
    const { diagnostics } = await loadWorkflow(`${HEADER}do:
  - a:
      set: { x: '\${ .y | }' }
      then: nowhere
  - checkOrder:
      switch:
        - big:
            when: .total >
            then: a
  - r:
      raise:
        error: undeclared
  - w:
      wait: soon
`);
    const byPath = Object.fromEntries(diagnostics.map((d) => [d.path, d]));
    expect(Object.keys(byPath).sort()).toEqual(['/do/0/a/set/x', '/do/0/a/then', '/do/1/checkOrder/switch/0/big/when', '/do/2/r/raise/error', '/do/3/w/wait'].sort());
    expect(byPath['/do/0/a/then']!.expected).toContain('"checkOrder"');
    expect(byPath['/do/1/checkOrder/switch/0/big/when']!.message).toContain('jq syntax error');
    expect(byPath['/do/3/w/wait']!.message).toContain('ISO 8601');
  });

  it('reports a task without a type and a bad header', async () => {
    const diagnostics = await validateWorkflow({ document: { dsl: '0.8', namespace: 'Bad Name', name: 'x' }, do: [{ a: { foo: 1 } }] }, { schema: false });
    expect(diagnostics.map((d) => d.path).sort()).toEqual(['/do/0/a', '/document/dsl', '/document/namespace', '/document/version']);
  });

  it('reports YAML syntax errors with their line', async () => {
    const { diagnostics } = await loadWorkflow('do:\n  - a: [unclosed\n');
    expect(diagnostics[0]!.message).toMatch(/line \d+/);
  });
});
