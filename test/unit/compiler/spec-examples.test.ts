/**
 * Every example workflow of the specification through the CLI, as a user runs it:
 * `meshflow graph example.yaml > graph.json`, then `meshflow compile graph.json`.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { main } from '@/runtime/cli/main';
import { validateWorkflow } from '@/runtime/engine/validate';
import { comparable, invalidExamples, notYaml, readExample, specDir, specFiles, validFiles } from './spec-examples';

const dir = mkdtempSync(join(tmpdir(), 'meshflow-spec-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function meshflow(...argv: string[]) {
  let stdout = '';
  let stderr = '';
  const code = await main(argv, { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t) });
  return { code, stdout, stderr };
}

describe('the specification examples through `meshflow graph` then `meshflow compile`', () => {
  it('names every fixture once: valid, invalid per the schema, or not YAML', () => {
    for (const file of [...Object.keys(invalidExamples), ...Object.keys(notYaml)]) expect(existsSync(join(specDir, file)), file).toBe(true);
    expect(specFiles).toHaveLength(75);
    expect(validFiles).toHaveLength(62);
  });

  it.each(validFiles)('%s comes back as an equivalent, valid document', async (file) => {
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

  const invalid = Object.entries(invalidExamples).map(([file, { path, why }]) => [file, path, why] as const);
  it.each(invalid)('%s is refused at %s: %s', async (file, path) => {
    expect(await validateWorkflow(readExample(file))).not.toEqual([]);
    const graph = await meshflow('graph', join(specDir, file));
    expect(graph).toMatchObject({ code: 2, stdout: '' });
    expect(graph.stderr).toContain(`${join(specDir, file)}: error: invalid-document (${path})`);
  });

  const unreadable = Object.entries(notYaml).map(([file, { line }]) => [file, line] as const);
  it.each(unreadable)('%s is refused as YAML that does not parse, at line %i', async (file, line) => {
    const graph = await meshflow('graph', join(specDir, file));
    expect(graph).toMatchObject({ code: 2, stdout: '' });
    expect(graph.stderr).toContain(`meshflow graph: cannot read ${join(specDir, file)}`);
    expect(graph.stderr).toContain(`at line ${line},`);
  });
});
