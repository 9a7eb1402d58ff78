/**
 * What a replay reports per event: deliveries added, removed or changed field by field, and
 * outcomes that changed; and a pinned case (the designer's "Pin as test") that `meshflow test`
 * runs and passes as it is.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { outcomeOf, testFileText } from '@/components/designer/flow-test-file';
import { main } from '@/runtime/cli/main';
import { compile } from '@/runtime/compiler/compile';
import type { WorkflowDocument } from '@/runtime/engine/types';
import { diffSides, dryRun, fieldDiff, sideOf, type ReplaySide } from '@/runtime/events/dry-run';
import type { FlowGraph } from '@/runtime/nodes/types';

const request = (url: string, body: unknown) => ({ node: 'deliver', method: 'POST', url, headers: { 'content-type': 'application/json' }, body });

describe('replay differences', () => {
  it('lists changed fields by path, and only those', () => {
    expect(fieldDiff({ a: 1, b: { c: [1, 2], d: 'x' } }, { a: 1, b: { c: [1, 3], d: 'x' }, e: true })).toEqual([
      { path: 'b.c[1]', live: 2, candidate: 3 },
      { path: 'e', live: undefined, candidate: true },
    ]);
    expect(fieldDiff({ a: 1 }, { a: 1 })).toEqual([]);
  });

  it('pairs requests by node and order: added, removed, changed, and the outcome', () => {
    const live: ReplaySide = { outcome: 'delivered', requests: [request('http://127.0.0.1:9/a', { n: 1 })] };
    const same: ReplaySide = { outcome: 'delivered', requests: [request('http://127.0.0.1:9/a', { n: 1 })] };
    const more: ReplaySide = { outcome: 'delivered', requests: [request('http://127.0.0.1:9/a', { n: 2 }), request('http://127.0.0.1:9/b', { n: 2 })] };
    const none: ReplaySide = { outcome: 'filtered', reason: 'webhook accepts type "x"', requests: [] };
    expect(diffSides(live, same)).toEqual([]);
    expect(diffSides(live, more)).toEqual([
      { change: 'changed', node: 'deliver', fields: [{ path: 'body.n', live: 1, candidate: 2 }] },
      { change: 'added', node: 'deliver', request: expect.objectContaining({ url: 'http://127.0.0.1:9/b' }) },
    ]);
    expect(diffSides(live, none)).toEqual([
      { change: 'outcome', live: 'delivered', candidate: 'filtered', reason: 'webhook accepts type "x"' },
      { change: 'removed', node: 'deliver', request: expect.objectContaining({ url: 'http://127.0.0.1:9/a' }) },
    ]);
  });
});

describe('a pinned event', () => {
  it('is a test case meshflow test passes as downloaded', async () => {
    const graph: FlowGraph = {
      document: { namespace: 'test', name: 'pinned', version: '0.1.0' },
      nodes: [
        { id: 'source', kind: 'cloudevents-endpoint', position: { x: 0, y: 0 }, config: { eventType: 'com.example.order' } },
        { id: 'deliver', kind: 'http-request', position: { x: 200, y: 0 }, config: { method: 'post', url: 'http://127.0.0.1:9/orders', body: '.' } },
      ],
      edges: [{ id: 'a', source: 'source', target: 'deliver' }],
    };
    const event = { specversion: '1.0', id: 'p-1', source: '/shop', type: 'com.example.order', data: { amount: 7 } };
    const side = sideOf(await dryRun(compile(graph).document as unknown as WorkflowDocument, event));
    const dir = await mkdtemp(join(tmpdir(), 'meshflow-pinned-'));
    try {
      await writeFile(join(dir, 'pinned.flow.json'), JSON.stringify(graph));
      const deliveries = side.requests.map((r) => ({ node: r.node, method: r.method, url: r.url, body: r.body }));
      await writeFile(join(dir, 'pinned.test.yaml'), testFileText('pinned.flow.json', [{ name: 'pinned', event, outcome: outcomeOf('completed', deliveries.length), deliveries }]));
      let stdout = '';
      const code = await main(['test', dir], { stdout: (t) => (stdout += t), stderr: (t) => (stdout += t) });
      expect(stdout).toContain('1 passed, 0 failed');
      expect(code).toBe(0);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('a dry run of a failing target', () => {
  it('answers after one attempt with the error the deployed flow ends with, instead of waiting out its retries', async () => {
    const document = {
      document: { dsl: '1.0.3', namespace: 'test', name: 'retrying', version: '0.1.0' },
      use: { retries: { patient: { delay: { seconds: 30 }, limit: { attempt: { count: 5 } } } } },
      do: [
        { inline: { try: [{ call1: { call: 'http', with: { method: 'post', endpoint: 'http://127.0.0.1:9/a' } } }], catch: { errors: { with: { type: 'https://serverlessworkflow.io/spec/1.0.0/errors/communication' } }, retry: { delay: { seconds: 30 }, limit: { attempt: { count: 184 } } } } } },
        { named: { try: [{ call2: { call: 'http', with: { method: 'post', endpoint: 'http://127.0.0.1:9/b' } } }], catch: { errors: { with: { type: 'https://serverlessworkflow.io/spec/1.0.0/errors/communication' } }, retry: 'patient' } } },
      ],
    } as unknown as WorkflowDocument;
    let answer = 200;
    const run = await dryRun(document, { specversion: '1.0', id: 'e-1', source: '/t', type: 't' }, { stubResponse: () => ({ status: answer }) });
    expect(run.status).toBe('completed');
    expect(run.requests.map((r) => r.url)).toEqual(['http://127.0.0.1:9/a', 'http://127.0.0.1:9/b']);

    answer = 503;
    const failing = await dryRun(document, { specversion: '1.0', id: 'e-2', source: '/t', type: 't' }, { stubResponse: () => ({ status: answer }) });
    expect(failing.status).toBe('faulted');
    expect(failing.requests).toHaveLength(1);
    expect(JSON.stringify(failing.error)).toContain('503');
    // The document itself keeps its policies.
    expect(JSON.stringify(document)).toContain('"count":184');
  });
});
