'use client';

import { createContext, useContext } from 'react';
import type { Diagnostic } from '@/runtime/compiler/diagnostics';

/** The compiler's diagnostics by node id, so each node renders its own badge. */
export const NodeDiagnosticsContext = createContext<ReadonlyMap<string, Diagnostic[]>>(new Map());

export function useNodeDiagnostics(nodeId: string): Diagnostic[] | undefined {
  return useContext(NodeDiagnosticsContext).get(nodeId);
}

export function diagnosticsByNode(diagnostics: readonly Diagnostic[]): Map<string, Diagnostic[]> {
  const map = new Map<string, Diagnostic[]>();
  for (const d of diagnostics) if (d.nodeId) map.set(d.nodeId, [...(map.get(d.nodeId) ?? []), d]);
  return map;
}
