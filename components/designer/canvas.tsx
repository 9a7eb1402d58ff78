'use client';

import { Background, Controls, MiniMap, ReactFlow, useReactFlow, type Connection, type Edge, type IsValidConnection } from '@xyflow/react';
import { useCallback, useMemo, type DragEvent, type KeyboardEvent } from 'react';
import { NODE_HEIGHT, NODE_WIDTH } from '@/runtime/compiler/layout';
import { useDesigner, useDesignerStore } from './designer-provider';
import { FlowNodeView, nodeName } from './flow-node-view';
import { connectionProblem } from './graph-model';
import { DRAG_MIME } from './palette';

const nodeTypes = { meshflow: FlowNodeView };

/** Fit the flow in view, leaving the bottom strip to the minimap and controls so they never cover a node. */
export const FIT_VIEW = { maxZoom: 1, padding: { top: '24px', left: '56px', right: '24px', bottom: '176px' } } as const;

/** True when the key press belongs to a text field, not to the canvas. */
function typingInField(target: EventTarget | null): boolean {
  return target instanceof HTMLElement && (target.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(target.tagName));
}

/** Adds a node at the centre of the visible canvas, a step below anything already there. */
export function useAddAtCentre(paneRef: React.RefObject<HTMLDivElement | null>) {
  const flow = useReactFlow();
  const store = useDesignerStore();
  return useCallback(
    (kind: string) => {
      const rect = paneRef.current?.getBoundingClientRect();
      const centre = rect ? flow.screenToFlowPosition({ x: rect.left + rect.width / 2, y: rect.top + rect.height / 2 }) : { x: 0, y: 0 };
      // The store moves it down from there until it overlaps nothing.
      store.getState().addNode(kind, { x: Math.round(centre.x - NODE_WIDTH / 2), y: Math.round(centre.y - NODE_HEIGHT / 2) });
    },
    [flow, paneRef, store],
  );
}

export function Canvas({ paneRef, readOnly }: { paneRef: React.RefObject<HTMLDivElement | null>; readOnly: boolean }) {
  const store = useDesignerStore();
  const flowNodes = useDesigner((s) => s.nodes);
  // Each node is named for assistive technology by its kind and label ("HTTP request: notify shop").
  const nodes = useMemo(() => flowNodes.map((n) => ({ ...n, ariaLabel: nodeName(n.data, n.id) })), [flowNodes]);
  const edges = useDesigner((s) => s.edges);
  const onNodesChange = useDesigner((s) => s.onNodesChange);
  const onEdgesChange = useDesigner((s) => s.onEdgesChange);
  const flow = useReactFlow();

  const onConnect = useCallback((c: Connection) => store.getState().connect(c), [store]);
  const isValidConnection: IsValidConnection = useCallback(
    (c: Connection | Edge) => {
      const { nodes: n, edges: e } = store.getState();
      return connectionProblem(n, e, c) === undefined;
    },
    [store],
  );

  const onDrop = useCallback(
    (event: DragEvent) => {
      const kind = event.dataTransfer.getData(DRAG_MIME);
      if (!kind || readOnly) return;
      event.preventDefault();
      const at = flow.screenToFlowPosition({ x: event.clientX, y: event.clientY });
      store.getState().addNode(kind, { x: Math.round(at.x - NODE_WIDTH / 2), y: Math.round(at.y - NODE_HEIGHT / 2) });
    },
    [flow, readOnly, store],
  );

  const onKeyDown = useCallback(
    (event: KeyboardEvent) => {
      if (typingInField(event.target) || readOnly) return;
      const s = store.getState();
      const mod = event.ctrlKey || event.metaKey;
      const key = event.key.toLowerCase();
      if (event.key === 'Escape' && s.pendingWire) s.cancelWire();
      else if (event.key === 'Delete' || event.key === 'Backspace') {
        s.deleteSelection();
        // The focused node is gone; keep focus on the canvas so the next shortcut (undo) still lands here.
        paneRef.current?.focus();
      }
      else if (mod && key === 'z' && event.shiftKey) s.redo();
      else if (mod && key === 'z') s.undo();
      else if (mod && key === 'y') s.redo();
      else if (mod && key === 'c') s.copy();
      else if (mod && key === 'v') s.paste();
      else if (mod && key === 'a') s.selectAll();
      else return;
      event.preventDefault();
    },
    [paneRef, readOnly, store],
  );

  return (
    <div
      ref={paneRef}
      tabIndex={-1}
      className="h-full w-full outline-none"
      onKeyDown={onKeyDown}
      onDragOver={(e) => {
        if (e.dataTransfer.types.includes(DRAG_MIME)) {
          e.preventDefault();
          e.dataTransfer.dropEffect = 'move';
        }
      }}
      onDrop={onDrop}
      data-testid="canvas"
    >
      <ReactFlow
        nodes={nodes}
        edges={edges}
        nodeTypes={nodeTypes}
        onNodesChange={onNodesChange}
        onEdgesChange={onEdgesChange}
        onConnect={onConnect}
        isValidConnection={isValidConnection}
        nodesDraggable={!readOnly}
        nodesConnectable={!readOnly}
        deleteKeyCode={null}
        selectionKeyCode="Shift"
        multiSelectionKeyCode={['Meta', 'Control', 'Shift']}
        colorMode="system"
        onlyRenderVisibleElements
        fitView
        fitViewOptions={FIT_VIEW}
        minZoom={0.1}
        ariaLabelConfig={{ 'node.a11yDescription.default': 'Press Enter or Space to select the node, arrow keys to move it, Delete to remove it.' }}
        proOptions={{ hideAttribution: true }}
      >
        <Background />
        <Controls aria-label="Canvas zoom controls" showInteractive={false} />
        <MiniMap pannable zoomable ariaLabel="Minimap" />
      </ReactFlow>
    </div>
  );
}
