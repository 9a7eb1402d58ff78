/**
 * `meshflow test`: flow tests beside a flow run in-process with every call stubbed; a wrong
 * expectation fails (exit 1) with a readable difference, a right one passes (exit 0).
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { main } from '@/runtime/cli/main';
import type { FlowGraph } from '@/runtime/nodes/types';

let dir: string;

const graph: FlowGraph = {
  document: { namespace: 'test', name: 'orders', version: '0.1.0' },
  nodes: [
    { id: 'source', kind: 'cloudevents-endpoint', position: { x: 0, y: 0 }, config: { eventType: 'com.example.order' } },
    { id: 'big', kind: 'data-pattern', position: { x: 200, y: 0 }, config: { pattern: { data: { amount: [{ numeric: ['>', 100] }] } } } },
    { id: 'deliver', kind: 'http-request', position: { x: 400, y: 0 }, config: { method: 'post', url: 'http://127.0.0.1:9/orders', body: '.data' } },
  ],
  edges: [
    { id: 'a', source: 'source', target: 'big' },
    { id: 'b', source: 'big', target: 'deliver' },
  ],
};

const order = (id: string, amount: number, type = 'com.example.order') => ({ specversion: '1.0', id, source: '/shop', type, data: { amount } });

async function cli(...argv: string[]) {
  let stdout = '';
  let stderr = '';
  const code = await main(argv, { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t) });
  return { code, stdout, stderr };
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'meshflow-flow-tests-'));
  await writeFile(join(dir, 'orders.flow.json'), JSON.stringify(graph));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('meshflow test', () => {
  it('passes when every expectation holds, and sends nothing', async () => {
    await writeFile(
      join(dir, 'orders.test.yaml'),
      stringify({
        cases: [
          { name: 'a big order goes to the shop', event: order('1', 150), expect: { outcome: 'delivered', deliveries: [{ node: 'deliver', method: 'POST', url: 'http://127.0.0.1:9/orders', body: { amount: 150 } }] } },
          { name: 'a small order goes nowhere', event: order('2', 40), expect: { outcome: 'nothing sent', deliveries: [] } },
          { name: 'another type is not taken', event: order('3', 500, 'com.example.refund'), expect: { outcome: 'filtered' } },
        ],
      }),
    );
    const out = await cli('test', join(dir, 'orders.test.yaml'));
    expect(out.stdout).toContain('✓');
    expect(out.stdout).toContain('3 passed, 0 failed');
    expect(out.code).toBe(0);
  });

  it('fails on a wrong expectation and says what differs', async () => {
    const wrong = join(dir, 'wrong');
    await import('node:fs/promises').then((fs) => fs.mkdir(wrong));
    await writeFile(
      join(wrong, 'big-orders.test.yaml'),
      stringify({
        flow: '../orders.flow.json',
        cases: [
          { name: 'expects the wrong amount', event: order('1', 150), expect: { deliveries: [{ body: { amount: 151 } }] } },
          { name: 'expects a small order to be sent', event: order('2', 40), expect: { outcome: 'delivered' } },
        ],
      }),
    );
    // A directory stands for every test file in it.
    const out = await cli('test', wrong);
    expect(out.code).toBe(1);
    expect(out.stdout).toContain('✗');
    expect(out.stdout).toContain('deliveries[0].body.amount: expected 151, got 150');
    expect(out.stdout).toContain('outcome: expected delivered, got nothing sent (the run ended at big without sending anything)');
    expect(out.stdout).toContain('0 passed, 2 failed');
  });

  it('answers a node with its stub, and explains a file it cannot use', async () => {
    const chained: FlowGraph = {
      ...graph,
      nodes: [...graph.nodes, { id: 'confirm', kind: 'http-request', position: { x: 600, y: 0 }, config: { method: 'post', url: 'http://127.0.0.1:9/send', body: '{order: .orderId}' } }],
      edges: [...graph.edges, { id: 'c', source: 'deliver', target: 'confirm' }],
    };
    await writeFile(join(dir, 'chained.flow.json'), JSON.stringify(chained));
    await writeFile(
      join(dir, 'chained.test.yaml'),
      stringify({
        cases: [
          {
            name: 'the shop answer feeds the confirmation',
            event: order('1', 150),
            stubs: { deliver: { status: 201, body: { orderId: 'A-7' } } },
            expect: { deliveries: [{ node: 'deliver' }, { node: 'confirm', body: { order: 'A-7' } }] },
          },
        ],
      }),
    );
    const ok = await cli('test', join(dir, 'chained.test.yaml'));
    expect(ok.stdout).toContain('1 passed, 0 failed');
    expect(ok.code).toBe(0);

    await writeFile(join(dir, 'lonely.test.yaml'), stringify({ cases: [{ name: 'x', event: order('1', 1), expect: { outcome: 'filtered' } }] }));
    const lonely = await cli('test', join(dir, 'lonely.test.yaml'));
    expect(lonely.code).toBe(1);
    expect(lonely.stdout).toContain('no flow beside it: name one with `flow:`, or put lonely.flow.json next to it');
    expect((await cli('test', join(dir, 'missing.test.yaml'))).stderr).toContain('no such file or directory');
  });
});
