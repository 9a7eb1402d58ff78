/**
 * YAML text → graph, for the YAML panel: parse errors and the decompiler's problems come back
 * with the line they are on, so the editor can mark them in place.
 */
import { LineCounter, parseDocument } from 'yaml';
import { decompile } from '@/runtime/compiler/decompile';
import { hasErrors, type Diagnostic } from '@/runtime/compiler/diagnostics';
import type { FlowGraph } from '@/runtime/nodes/index';

export interface YamlProblem {
  line: number;
  from: number;
  to: number;
  message: string;
  severity: 'error' | 'warning';
}

export interface YamlReading {
  graph?: FlowGraph;
  problems: YamlProblem[];
  /** The reading's warnings about particular nodes (a node that changed kind), for the canvas to keep showing. */
  notices: Diagnostic[];
}

export function readFlowYaml(text: string): YamlReading {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false });
  const at = (offset: number) => lineCounter.linePos(offset).line;
  if (doc.errors.length > 0) {
    return {
      notices: [],
      problems: doc.errors.map((e) => ({ line: at(e.pos[0]), from: e.pos[0], to: Math.max(e.pos[1], e.pos[0] + 1), message: e.message.split('\n')[0] ?? e.message, severity: 'error' })),
    };
  }
  const { graph, diagnostics } = decompile(doc.toJS());
  const problems = diagnostics.map((d): YamlProblem => {
    // The deepest part of the path that exists in the text carries the mark.
    const path = d.path ?? [];
    let range: [number, number, number] | undefined;
    for (let n = path.length; n >= 0 && !range; n--) {
      const node = n === 0 ? doc.contents : doc.getIn(path.slice(0, n), true);
      if (node && typeof node === 'object' && 'range' in node && Array.isArray(node.range)) range = node.range as [number, number, number];
    }
    const [from, to] = range ?? [0, 1];
    return { line: at(from), from, to: Math.max(to, from + 1), message: d.message, severity: d.severity };
  });
  return { ...(hasErrors(diagnostics) ? {} : { graph }), problems, notices: diagnostics.filter((d) => d.nodeId !== undefined && d.severity === 'warning') };
}
