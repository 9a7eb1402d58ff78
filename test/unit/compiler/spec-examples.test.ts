/**
 * Every example workflow of the specification through the CLI, as a user runs it:
 * `meshflow graph example.yaml > graph.json`, then `meshflow compile graph.json`.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { main } from '@/runtime/cli/main';
import { validateWorkflow } from '@/runtime/engine/validate';
import { comparable, readExample, specDir, specFiles } from '@/test/unit/compiler/spec-examples';

const dir = mkdtempSync(join(tmpdir(), 'meshflow-spec-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function meshflow(...argv: string[]) {
  let stdout = '';
  let stderr = '';
  const code = await main(argv, { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t) });
  return { code, stdout, stderr };
}

describe('the specification examples through `meshflow graph` then `meshflow compile`', () => {
  it('holds every example of the specification, each of DSL 1.0.x', () => {
    expect(specFiles).toHaveLength(66);
    for (const file of specFiles) expect((readExample(file) as { document: { dsl: string } }).document.dsl, file).toMatch(/^1\.0\.\d+$/);
  });

  it.each(specFiles)('%s comes back as an equivalent, valid document', async (file) => {
    const original = readExample(file);
    expect(await validateWorkflow(original)).toEqual([]);

    const graph = await meshflow('graph', join(specDir, file));
    expect(graph.code, graph.stderr).toBe(0);
    const graphFile = join(dir, `${file}.json`);
    writeFileSync(graphFile, graph.stdout);
    // Warnings may come (a document without a schedule has no source); an error exits 2.
    const compiled = await meshflow('compile', graphFile);
    expect(compiled.code, compiled.stderr).toBe(0);

    const document = parse(compiled.stdout) as unknown;
    expect(comparable(document)).toEqual(comparable(original));
    expect(await validateWorkflow(document)).toEqual([]);

    // Meshflow's own output reopens as the same graph and writes the same YAML again.
    const outputFile = join(dir, file);
    writeFileSync(outputFile, compiled.stdout);
    const reopened = await meshflow('graph', outputFile);
    expect(reopened).toMatchObject({ code: 0, stderr: '' });
    expect(JSON.parse(reopened.stdout)).toEqual(JSON.parse(graph.stdout));
  });

  // What the specification once published and no longer does: a constant a later release does
  // not define, and a jq object literal in a plain scalar (the removed `task-level-*` examples).
  it('refuses a document the DSL does not allow, naming the place', async () => {
    const file = join(dir, 'bad-mcp.yaml');
    writeFileSync(file, readFileSync(join(specDir, 'call-mcp.yaml'), 'utf8').replace('method: tools/call', 'method: tools/invoke'));
    const graph = await meshflow('graph', file);
    expect(graph).toMatchObject({ code: 2, stdout: '' });
    expect(graph.stderr).toContain(`${file}: error: invalid-document (do.0.publishMessageToSlack.with.method)`);
  });

  it('refuses YAML that does not parse, with its line', async () => {
    const file = join(dir, 'not-yaml.yaml');
    writeFileSync(file, `document:\n  dsl: '1.0.3'\n  namespace: test\n  name: not-yaml\n  version: '1.0.0'\ndo:\n  - raiseError:\n      raise:\n        error:\n          type: https://example.com/e\n          status: 500\n          detail: \${ { "error": .message } }\n`);
    const graph = await meshflow('graph', file);
    expect(graph).toMatchObject({ code: 2, stdout: '' });
    expect(graph.stderr).toContain(`meshflow graph: cannot read ${file}`);
    expect(graph.stderr).toContain('at line 12,');
  });
});
