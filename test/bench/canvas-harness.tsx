/**
 * The page the canvas benchmark loads: the designer's real canvas (store, node renderer,
 * React Flow) on a generated 500-node flow, without the studio around it.
 */
import { ReactFlowProvider } from '@xyflow/react';
import { createRoot } from 'react-dom/client';
import { useRef } from 'react';
import { Canvas } from '@/components/designer/canvas';
import { DesignerProvider } from '@/components/designer/designer-provider';
import type { FlowGraph } from '@/runtime/nodes/types';

const SIZE = Number(new URLSearchParams(location.search).get('nodes') ?? 500);
const kinds = ['data-pattern', 'jq-transform', 'field-mapping', 'jq-filter', 'log'];

function grid(size: number): FlowGraph {
  const columns = 25;
  const nodes: FlowGraph['nodes'] = [{ id: 'hook', kind: 'http-webhook', position: { x: 0, y: 0 }, config: {} }];
  const edges: FlowGraph['edges'] = [];
  for (let i = 1; i < size; i++) {
    nodes.push({ id: `n${i}`, kind: kinds[i % kinds.length]!, position: { x: (i % columns) * 260, y: Math.floor(i / columns) * 120 }, config: {} });
    edges.push({ id: `e${i}`, source: i === 1 ? 'hook' : `n${i - 1}`, target: `n${i}` });
  }
  return { document: { namespace: 'bench', name: 'grid', version: '0.1.0' }, nodes, edges };
}

function Bench() {
  const paneRef = useRef<HTMLDivElement | null>(null);
  return (
    <div style={{ width: '100vw', height: '100vh' }}>
      <Canvas paneRef={paneRef} readOnly={false} />
    </div>
  );
}

(window as unknown as { renderStart: number }).renderStart = performance.now();
createRoot(document.getElementById('root')!).render(
  <DesignerProvider initial={grid(SIZE)}>
    <ReactFlowProvider>
      <Bench />
    </ReactFlowProvider>
  </DesignerProvider>,
);
