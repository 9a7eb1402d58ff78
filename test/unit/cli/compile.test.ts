import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { main } from '@/runtime/cli/main';
import { demoFlowGraph } from '@/runtime/nodes/demo';

const dir = mkdtempSync(join(tmpdir(), 'meshflow-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
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

describe('meshflow deploy / undeploy / flows (before any request)', () => {
  async function runWithoutEnv(...argv: string[]) {
    const saved = { ...process.env };
    delete process.env.MESHFLOW_SERVER;
    delete process.env.MESHFLOW_TOKEN;
    try {
      return await run(...argv);
    } finally {
      process.env = saved;
    }
  }

  it('asks for a token when none is given', async () => {
    const result = await runWithoutEnv('deploy', file('flow.json', JSON.stringify(demoFlowGraph())));
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('no API token: pass --token mf_… or set MESHFLOW_TOKEN');
    expect((await runWithoutEnv('flows', '--server', 'ftp://x', '--token', 'mf_x')).stderr).toContain("--server must be the studio's http(s) URL");
    expect((await runWithoutEnv('undeploy')).stderr).toContain('Usage: meshflow undeploy <flow id>');
  });

  it('refuses an invalid file with its diagnostics, without contacting the studio', async () => {
    const graph = demoFlowGraph();
    graph.nodes[3]!.config = { method: 'fetch' };
    // Port 9 (discard) is never a studio: reaching it would fail differently.
    const bad = await run('deploy', file('bad-deploy.json', JSON.stringify(graph)), '--server', 'http://127.0.0.1:9', '--token', 'mf_x');
    expect(bad).toMatchObject({ code: 2, stdout: '' });
    expect(bad.stderr).toContain('invalid-config (node notify config.method)');
    const neither = await run('deploy', file('neither.yaml', 'hello: world\n'), '--token', 'mf_x');
    expect(neither.code).toBe(2);
    expect(neither.stderr).toContain('not a flow graph (nodes, edges) nor a DSL 1.0 workflow (document, do)');
  });
});
