/** Problems found while compiling or decompiling, placed where the canvas can show them. */
export type DiagnosticCode =
  | 'invalid-graph'
  | 'duplicate-node'
  | 'unknown-kind'
  | 'invalid-config'
  | 'invalid-expression'
  | 'invalid-edge'
  | 'fan-out'
  | 'cross-scope'
  | 'unconnected'
  | 'no-source'
  | 'multiple-sources'
  | 'cycle'
  | 'invalid-document'
  /** A task edited into something the kind in its metadata does not write: the node changed kind. */
  | 'kind-changed'
  /** `metadata.meshflow` that no reader acts on (a transform, a retry the task states) or the node cannot keep: the task runs. */
  | 'metadata-ignored'
  /** An expression reads a field the data reaching the node cannot have (or its schema does not list). */
  | 'unknown-field';

export interface Diagnostic {
  severity: 'error' | 'warning';
  code: DiagnosticCode;
  message: string;
  nodeId?: string;
  edgeId?: string;
  /** Where in the node (`config.url`), the graph, or the document (`do.2.notify.with`) the problem is. */
  path?: (string | number)[];
}

export function hasErrors(diagnostics: readonly Diagnostic[]): boolean {
  return diagnostics.some((d) => d.severity === 'error');
}

/** One line per diagnostic, for the command line. */
export function formatDiagnostic(d: Diagnostic): string {
  const where = [d.nodeId && `node ${d.nodeId}`, d.edgeId && `edge ${d.edgeId}`, d.path && d.path.length > 0 && d.path.join('.')].filter(Boolean).join(' ');
  return `${d.severity}: ${d.code}${where ? ` (${where})` : ''}: ${d.message}`;
}
