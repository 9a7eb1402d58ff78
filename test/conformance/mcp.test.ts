/**
 * `call: mcp` (DSL 1.0.2; dsl-reference.md "MCP Call" lines 531-580, "MCP Transport" and
 * "MCP HTTP/STDIO Transport" lines 2797-2850 of serverlessworkflow/specification at d758f0b)
 * against a real MCP server on the official SDK, served on loopback (mcp-server.ts).
 */
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorType } from '@/runtime/engine/errors';
import { validateWorkflow } from '@/runtime/engine/validate';
import { parse } from 'yaml';
import { at, runScenario } from '@/test/conformance/harness';
import { startMcpHttpServer, type McpHttpServer } from '@/test/conformance/mcp-server';

let server: McpHttpServer;
beforeAll(async () => {
  server = await startMcpHttpServer();
});
afterAll(async () => {
  await server.close();
});

const workflow = (task: string) => `
document:
  dsl: '1.0.3'
  namespace: conformance
  name: call-mcp
  version: '1.0.0'
do:
${task}`;

const overHttp = (method: string, parameters: string, extra = '') =>
  workflow(`  - ask:
      call: mcp
      with:
        method: ${method}
        parameters: ${parameters}
        transport:
          http:
            endpoint: ${server.endpoint}
            headers:
              authorization: Bearer test-token
${extra}`);

describe('call: mcp over streamable HTTP', () => {
  // Line 547: "Before making any MCP requests, runtimes must first send an initialize call";
  // line 551: "On success the output of the call is the JSON-RPC result".
  it('initializes, then calls the tool; the output is the JSON-RPC result', async () => {
    const doc = overHttp('tools/call', `'\${ { name: "add", arguments: { a: .a, b: .b } } }'`);
    expect(await validateWorkflow(parse(doc))).toEqual([]);
    const before = server.seen.length;
    const { result, output } = await runScenario(doc, { a: 2, b: 40 });
    expect(result.status).toBe('completed');
    expect(at(output, 'structuredContent')).toEqual({ sum: 42 });
    expect(at(output, 'content')).toEqual([{ type: 'text', text: '42' }]);
    const methods = server.seen.slice(before);
    expect(methods[0]).toEqual({ method: 'initialize', authorization: 'Bearer test-token' });
    expect(methods.map((m) => m.method)).toContain('tools/call');
  });

  it.each([
    ['tools/list', '{}', (output: unknown) => expect((output as { tools: { name: string }[] }).tools.map((t) => t.name)).toEqual(['add', 'refuse', 'stall'])],
    ['resources/read', '{ uri: "test://greeting" }', (output: unknown) => expect(output).toMatchObject({ contents: [{ uri: 'test://greeting', text: 'hello from MCP' }] })],
    ['prompts/get', '{ name: summarize, arguments: { topic: invoices } }', (output: unknown) => expect(output).toMatchObject({ messages: [{ role: 'user', content: { text: 'Summarize invoices' } }] })],
  ])('sends %s', async (method, parameters, check) => {
    const { result, output } = await runScenario(overHttp(method, parameters));
    expect(result.status).toBe('completed');
    check(output);
  });

  // Line 551: "On failure, runtimes must raise an error with type .../errors/runtime".
  it('raises a runtime error when the tool reports one, which try/catch can handle', async () => {
    const failed = await runScenario(overHttp('tools/call', '{ name: refuse }'));
    expect(failed.result).toMatchObject({ status: 'faulted', error: { type: errorType('runtime'), instance: '/do/0/ask' } });
    expect(failed.result.status === 'faulted' && failed.result.error.detail).toContain('the answer is no');

    const unknownTool = await runScenario(overHttp('tools/call', '{ name: nope }'));
    expect(unknownTool.result).toMatchObject({ status: 'faulted', error: { type: errorType('runtime') } });
  });

  it('raises a runtime error when the server cannot be reached', async () => {
    const { result } = await runScenario(overHttp('tools/list', '{}').replace(server.endpoint, 'http://127.0.0.1:9/mcp'));
    expect(result).toMatchObject({ status: 'faulted', error: { type: errorType('runtime'), instance: '/do/0/ask' } });
  });

  // Line 542: `timeout`, "the duration after which the MCP call times out".
  it('times the call out after with.timeout', async () => {
    const { result } = await runScenario(overHttp('tools/call', '{ name: stall }', '        timeout:\n          milliseconds: 300\n'));
    expect(result).toMatchObject({ status: 'faulted', error: { type: errorType('timeout'), status: 408 } });
  });
});

describe('call: mcp over stdio', () => {
  const script = fileURLToPath(new URL('./mcp-server.ts', import.meta.url));
  const overStdio = workflow(`  - ask:
      call: mcp
      with:
        method: tools/call
        parameters: { name: add, arguments: { a: 1, b: 2 } }
        transport:
          stdio:
            command: ${process.execPath}
            arguments: [ --import, tsx, ${script}, --stdio ]
`);

  it('starts the server as a process when the operator allows processes', async () => {
    const { result, output } = await runScenario(overStdio, {}, {}, { allowProcesses: true });
    expect(result.status).toBe('completed');
    expect(at(output, 'structuredContent')).toEqual({ sum: 3 });
  });

  it('refuses to start a process otherwise', async () => {
    const { result } = await runScenario(overStdio);
    expect(result).toMatchObject({ status: 'faulted', error: { type: errorType('configuration'), title: 'Process execution disabled' } });
  });
});
