/**
 * The engine's modules form no import cycle (type-only imports count too): task handlers see
 * the run through `tasks/host.ts`, never the interpreter that runs them.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = resolve(__dirname, '../../../runtime/engine');

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sources(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

/** Each module's imports within runtime/engine, as paths relative to it. */
function importGraph(): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const file of sources(root)) {
    const text = readFileSync(file, 'utf8');
    const targets = [...text.matchAll(/^\s*(?:import|export)\b[^'"]*?\bfrom\s+['"](\.[^'"]+)['"]/gm)]
      .map((m) => resolve(dirname(file), m[1]!.endsWith('.ts') ? m[1]! : `${m[1]}.ts`))
      .filter((target) => target.startsWith(`${root}/`))
      .map((target) => relative(root, target));
    graph.set(relative(root, file), targets);
  }
  return graph;
}

function cycles(graph: Map<string, string[]>): string[][] {
  const found: string[][] = [];
  const state = new Map<string, 'open' | 'done'>();
  const path: string[] = [];
  const visit = (node: string) => {
    state.set(node, 'open');
    path.push(node);
    for (const next of graph.get(node) ?? []) {
      if (state.get(next) === 'open') found.push([...path.slice(path.indexOf(next)), next]);
      else if (!state.has(next)) visit(next);
    }
    path.pop();
    state.set(node, 'done');
  };
  for (const node of [...graph.keys()].sort()) if (!state.has(node)) visit(node);
  return found;
}

describe('engine module structure', () => {
  const graph = importGraph();

  it('reads the engine and its task handlers', () => {
    expect(graph.get('interpreter.ts')).toContain('tasks/index.ts');
    expect(graph.get('tasks/run.ts')).toContain('tasks/host.ts');
  });

  it('has no import cycle', () => {
    expect(cycles(graph).map((cycle) => cycle.join(' → '))).toEqual([]);
  });

  it('lets task handlers see the run only through TaskHost', () => {
    const offenders = [...graph].filter(([file, targets]) => file.startsWith('tasks/') && targets.includes('interpreter.ts')).map(([file]) => file);
    expect(offenders).toEqual([]);
  });
});
