import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '@/runtime/cli/main';
import { demoFlowGraph } from '@/runtime/nodes/demo';

const dir = mkdtempSync(join(tmpdir(), 'meshflow-cli-'));
const file = (name: string, text: string) => {
  writeFileSync(join(dir, name), text);
  return join(dir, name);
};

async function run(...argv: string[]) {
  let stdout = '';
  let stderr = '';
  const code = await main(argv, { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t) });
  return { code, stdout, stderr };
}

describe('meshflow compile / graph', () => {
  it('compiles a graph to YAML, which opens as the same graph', async () => {
    const compiled = await run('compile', file('demo.json', JSON.stringify(demoFlowGraph())));
    expect(compiled).toMatchObject({ code: 0, stderr: '' });
    const opened = await run('graph', file('demo.yaml', compiled.stdout));
    expect(opened.code).toBe(0);
    const again = await run('compile', file('again.json', opened.stdout));
    expect(again.stdout).toBe(compiled.stdout);
  });

  it('exits 2 with the diagnostics on stderr when the input is invalid', async () => {
    const graph = demoFlowGraph();
    graph.nodes[3]!.config = { method: 'fetch' };
    const bad = await run('compile', file('bad.json', JSON.stringify(graph)));
    expect(bad.code).toBe(2);
    expect(bad.stdout).toBe('');
    expect(bad.stderr).toContain('invalid-config (node notify config.method)');

    const notWorkflow = await run('graph', file('bad.yaml', 'document: {}\ndo: []\n'));
    expect(notWorkflow.code).toBe(2);
    expect(notWorkflow.stderr).toContain('error: invalid-document');
  });

  it('exits 2 with usage when no file is given', async () => {
    expect((await run('graph')).code).toBe(2);
    expect((await run('compile')).stderr).toContain('Usage: meshflow compile <graph.json>');
  });
});
