/**
 * What DSL releases after 1.0.0 added, run as the specification's own examples write them
 * (test/unit/compiler/fixtures/spec, from serverlessworkflow/specification at d758f0b; the
 * schema there, schema/workflow.yaml, is DSL 1.0.3). `call: mcp` has its own file (mcp.test.ts);
 * `run` with stdin/arguments/pullPolicy is validated (test/unit/engine/validate.test.ts) but runs
 * only where an operator enables processes.
 */
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { errorType } from '@/runtime/engine/errors';
import { fetchHttp } from '@/runtime/engine/host/node-ports';
import type { HttpPort } from '@/runtime/engine/ports';
import { validateWorkflow } from '@/runtime/engine/validate';
import { runScenario } from '@/test/conformance/harness';

const example = (file: string) => readFileSync(new URL(`../unit/compiler/fixtures/spec/${file}`, import.meta.url), 'utf8');

let server: Server;
let origin: string;
const seen: { url: string; accept?: string }[] = [];
beforeAll(async () => {
  server = createServer((req, res) => {
    seen.push({ url: req.url ?? '', ...(req.headers.accept ? { accept: req.headers.accept } : {}) });
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ count: 1, results: [{ name: 'Luke Skywalker' }] }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

/** Sends the example's https://swapi.dev requests to the local stand-in. */
const swapi: HttpPort = {
  request: (request, signal) => fetchHttp.request({ ...request, url: request.url.replace('https://swapi.dev', origin) }, signal),
};

describe('DSL 1.0.1: runtime expressions where 1.0.0 wanted objects', () => {
  // schema/workflow.yaml `setTask`: `set` is an object or a runtime expression (#1086).
  it('set-expression.yaml: set evaluates a whole expression', async () => {
    const { result, output } = await runScenario(example('set-expression.yaml'), [{ type: 'first' }, { type: 'second' }]);
    expect(result.status).toBe('completed');
    expect(output).toEqual({ type: 'first' });
  });

  // schema/workflow.yaml `callTask` CallHTTP: `headers` and `query` are maps or runtime expressions (#1080).
  it('call-http-query-headers-expressions.yaml: headers and query come from expressions', async () => {
    const { result, output } = await runScenario(example('call-http-query-headers-expressions.yaml'), { searchQuery: 'luke' }, { http: swapi });
    expect(result.status).toBe('completed');
    expect(output).toEqual({ count: 1, results: [{ name: 'Luke Skywalker' }] });
    expect(seen.at(-1)).toEqual({ url: '/api/people/?search=luke', accept: 'application/json' });
  });
});

describe('DSL 1.0.2: durations as runtime expressions', () => {
  // schema/workflow.yaml `duration`: an object, an ISO 8601 string or a runtime expression (#1120).
  it('waits for a duration computed from the task input', async () => {
    const doc = `
document:
  dsl: '1.0.3'
  namespace: conformance
  name: wait-expression
  version: '1.0.0'
do:
  - pause:
      wait: \${ "PT0.\\(.tenths)S" }
  - done:
      set:
        waited: true
`;
    expect(await validateWorkflow(parse(doc))).toEqual([]);
    const { result, output } = await runScenario(doc, { tenths: 1 });
    expect(result.status).toBe('completed');
    expect(output).toEqual({ waited: true });
    const bad = await runScenario(doc, { tenths: 'x' });
    expect(bad.result).toMatchObject({ status: 'faulted', error: { type: errorType('configuration'), instance: '/do/0/pause' } });
  });
});
