/** Validation reports every problem at once, each at its path with what would be valid. */
import { describe, expect, it } from 'vitest';
import { loadWorkflow, validateWorkflow } from '@/runtime/engine/validate';
import { HEADER } from '@/test/unit/engine/helpers';

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

  describe('constructs of DSL releases after 1.0.0', () => {
    const header = HEADER.replace("'1.0.0'", "'1.0.3'");
    it('accepts set, headers and query as expressions, run stdin/arguments/pullPolicy and call: mcp / a2a', async () => {
      const { diagnostics } = await loadWorkflow(`${header}do:
  - whole:
      set: \${ .order }
  - search:
      call: http
      with:
        method: get
        endpoint: https://api.example.com/search
        headers: \${ .headers }
        query: '\${ { q: .term } }'
  - container:
      run:
        container:
          image: alpine
          stdin: \${ .text }
          arguments: [ -c, echo ]
          pullPolicy: never
  - shell:
      run:
        shell:
          command: cat
          stdin: hello
          arguments: [ -n ]
  - tools:
      call: mcp
      with:
        method: tools/call
        parameters: { name: add, arguments: { a: 1 } }
        transport:
          http:
            endpoint: http://127.0.0.1:9/mcp
            headers: { authorization: Bearer x }
        client: { name: meshflow, version: '1.0' }
  - agent:
      call: a2a
      with:
        method: message/send
        server: http://127.0.0.1:9/a2a
        parameters: { message: { role: user } }
`);
      expect(diagnostics).toEqual([]);
    });

    it('reports what is wrong in them, each at its path with what would be valid', async () => {
      const { diagnostics } = await loadWorkflow(`${header}do:
  - whole:
      set: not an expression
  - search:
      call: http
      with:
        method: get
        endpoint: https://api.example.com/search
        headers: plain
  - container:
      run:
        container:
          image: alpine
          arguments: -c
          pullPolicy: sometimes
  - tools:
      call: mcp
      with:
        method: tools/invoke
        transport:
          stdio: { command: node }
          http: { endpoint: http://127.0.0.1:9/mcp }
  - bare:
      call: mcp
      if: \${ .a | }
      with:
        method: tools/list
`);
      const byPath = Object.fromEntries(diagnostics.map((d) => [d.path, d]));
      expect(Object.keys(byPath).sort()).toEqual(
        [
          '/do/0/whole/set',
          '/do/1/search/with/headers',
          '/do/2/container/run/container/arguments',
          '/do/2/container/run/container/pullPolicy',
          '/do/3/tools/with/method',
          '/do/3/tools/with/transport',
          '/do/4/bare/if',
          '/do/4/bare/with/transport',
        ].sort(),
      );
      expect(byPath['/do/2/container/run/container/pullPolicy']!.expected).toBe('one of "ifNotPresent", "always", "never"');
      expect(byPath['/do/3/tools/with/method']!.expected).toContain('"tools/call"');
    });
  });
});
