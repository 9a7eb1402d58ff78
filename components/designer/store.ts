/**
 * The designer's state: one zustand store per canvas, made by `createDesignerStore` and
 * handed down by DesignerProvider (never a module singleton), so two canvases or a test each
 * have their own. Every edit that changes the flow goes through `commit`, which keeps the
 * undo history; selection and in-flight drags do not.
 */
import { applyEdgeChanges, applyNodeChanges, type EdgeChange, type NodeChange, type XYPosition } from '@xyflow/react';
import { createStore } from 'zustand/vanilla';
import type { Diagnostic } from '@/runtime/compiler/diagnostics';
import { autoLayout, NODE_HEIGHT, NODE_WIDTH } from '@/runtime/compiler/layout';
import { defaultConfig, type FlowGraph, type FlowGraphInput } from '@/runtime/nodes/index';
import {
  connectionProblem,
  freshNodeId,
  INPUT_HANDLE,
  toFlowEdges,
  toFlowNodes,
  toGraph,
  type ConnectionRequest,
  type FlowEdge,
  type FlowNode,
  type GraphFrame,
} from './graph-model';

const HISTORY_LIMIT = 100;
const PASTE_OFFSET = 40;
/** Space kept between a dropped node and its neighbours. */
const DROP_GAP = 24;
/** The undo key of a run of YAML edits: the whole run is one step, as typing in one field is. */
const YAML_EDIT = 'yaml';

/** The nearest place at or below `wanted` where a node's box overlaps no other node. */
export function freePosition(nodes: readonly { position: XYPosition }[], wanted: XYPosition): XYPosition {
  const clashes = (at: XYPosition) =>
    nodes.some((n) => Math.abs(n.position.x - at.x) < NODE_WIDTH + DROP_GAP && Math.abs(n.position.y - at.y) < NODE_HEIGHT + DROP_GAP);
  let at = { x: Math.round(wanted.x), y: Math.round(wanted.y) };
  while (clashes(at)) at = { x: at.x, y: at.y + NODE_HEIGHT + DROP_GAP };
  return at;
}

/** The sample event a new designer starts with, until one is picked from the catalog or typed. */
const handTypedSample = {
  specversion: '1.0',
  id: 'test-1',
  source: '/studio/test',
  type: 'com.example.order.created',
  datacontenttype: 'application/json',
  data: { id: 'o-1', amount: 250 },
};

interface Snapshot {
  frame: GraphFrame;
  nodes: FlowNode[];
  edges: FlowEdge[];
  /** Warnings the last YAML reading left on nodes (a node that changed kind); they stay until the node goes. */
  notices: Diagnostic[];
}

/** What a test run reported for one node. */
export interface NodeRunResult {
  status: 'completed' | 'skipped' | 'faulted' | 'stubbed' | 'filtered';
  input?: unknown;
  output?: unknown;
  error?: { title?: string; detail?: string; type?: string };
  /** What a stubbed node would have sent (method `PUBLISH` for a broker). */
  requests?: { method: string; url: string; headers: Record<string, string>; body: unknown }[];
}

/** Who made the last change: the YAML panel must not overwrite text the user is typing. */
export type ChangeOrigin = 'canvas' | 'yaml' | 'load';

export interface DesignerState extends Snapshot {
  past: Snapshot[];
  future: Snapshot[];
  /** Coalesces consecutive edits of one field into one undo step. */
  lastEditKey: string | undefined;
  dragStart: Snapshot | undefined;
  clipboard: { nodes: FlowNode[]; edges: FlowEdge[] } | undefined;
  origin: ChangeOrigin;
  /** Bumped on every change to the flow (not selection), so savers can tell it is dirty. */
  revision: number;
  /** Message of the last refused action (a wire the rules forbid), for the live region. */
  notice: string | undefined;
  runResults: Record<string, NodeRunResult>;
  /**
   * What each node received when the current flow ran on the sample event with every external
   * call stubbed (refreshed after each change): the inspector's previews evaluate on it.
   */
  previews: { revision: number; sample: string; nodes: Record<string, NodeRunResult>; stoppedBy?: string } | undefined;
  /** Node ids whose external calls a test run stubs instead of letting through. */
  stubbed: string[];
  /** The test panel's sample event as typed (JSON text); expression fields evaluate against it too. */
  sampleText: string;
  /** An output chosen from the keyboard (Enter on its handle), waiting for an input to wire to. */
  pendingWire: { source: string; port: string } | undefined;

  graph(): FlowGraph;
  replaceGraph(graph: FlowGraph, origin: ChangeOrigin, notices?: Diagnostic[]): void;
  onNodesChange(changes: NodeChange<FlowNode>[]): void;
  onEdgesChange(changes: EdgeChange<FlowEdge>[]): void;
  addNode(kind: string, position: XYPosition): string | undefined;
  connect(connection: ConnectionRequest): boolean;
  startWire(source: string, port: string): void;
  finishWire(target: string): boolean;
  cancelWire(): void;
  updateNode(id: string, patch: { config?: Record<string, unknown>; label?: string }): void;
  deleteSelection(): void;
  deleteElements(nodeIds: readonly string[], edgeIds?: readonly string[]): void;
  select(nodeIds: readonly string[]): void;
  selectAll(): void;
  copy(): void;
  paste(): void;
  undo(): void;
  redo(): void;
  layout(): void;
  setRunResults(results: Record<string, NodeRunResult>): void;
  setPreviews(previews: DesignerState['previews']): void;
  toggleStub(nodeId: string): void;
  setSampleText(text: string): void;
  setNotice(message: string | undefined): void;
}

export type DesignerStore = ReturnType<typeof createDesignerStore>;

export function emptyGraph(name = 'flow'): FlowGraph {
  return { document: { namespace: 'default', name, version: '0.1.0' }, nodes: [], edges: [] };
}

function frameOf(graph: FlowGraphInput | FlowGraph): GraphFrame {
  const document = { namespace: 'default', name: 'flow', version: '0.1.0', ...graph.document };
  return { document, ...(graph.workflow !== undefined ? { workflow: graph.workflow } : {}) };
}

export function createDesignerStore(initial: FlowGraph = emptyGraph()) {
  return createStore<DesignerState>()((set, get) => {
    const snapshot = (): Snapshot => {
      const { frame, nodes, edges, notices } = get();
      return { frame, nodes, edges, notices };
    };
    /** Applies a change to the flow as one undo step (or folds it into the last one, by key). */
    const commit = (next: Partial<Snapshot>, editKey?: string) => {
      const state = get();
      const fold = editKey !== undefined && editKey === state.lastEditKey;
      const nodes = next.nodes ?? state.nodes;
      const notices = nodes === state.nodes ? state.notices : state.notices.filter((d) => nodes.some((n) => n.id === d.nodeId));
      set({
        notices,
        ...next,
        past: fold ? state.past : [...state.past, snapshot()].slice(-HISTORY_LIMIT),
        future: [],
        lastEditKey: editKey,
        origin: 'canvas',
        revision: state.revision + 1,
        notice: undefined,
      });
    };
    const withSelection = (nodes: FlowNode[], ids: ReadonlySet<string>) =>
      nodes.map((n) => (Boolean(n.selected) === ids.has(n.id) ? n : { ...n, selected: ids.has(n.id) }));

    return {
      frame: frameOf(initial),
      nodes: toFlowNodes(initial),
      edges: toFlowEdges(initial),
      notices: [],
      past: [],
      future: [],
      lastEditKey: undefined,
      dragStart: undefined,
      clipboard: undefined,
      origin: 'load',
      revision: 0,
      notice: undefined,
      runResults: {},
      previews: undefined,
      stubbed: [],
      sampleText: JSON.stringify(handTypedSample, null, 2),
      pendingWire: undefined,

      graph: () => {
        const { frame, nodes, edges } = get();
        return toGraph(frame, nodes, edges);
      },

      replaceGraph(graph, origin, notices = []) {
        const state = get();
        // Each keystroke in the YAML panel is a reading of its own; undo goes back to before the run of them.
        const fold = origin === 'yaml' && state.lastEditKey === YAML_EDIT;
        set({
          frame: frameOf(graph),
          nodes: toFlowNodes(graph),
          edges: toFlowEdges(graph),
          notices,
          past: fold ? state.past : [...state.past, snapshot()].slice(-HISTORY_LIMIT),
          future: [],
          lastEditKey: origin === 'yaml' ? YAML_EDIT : undefined,
          origin,
          revision: state.revision + 1,
          runResults: {},
        });
      },

      onNodesChange(changes) {
        const state = get();
        const moving = changes.filter((c) => c.type === 'position');
        const structural = changes.some((c) => c.type === 'remove' || c.type === 'add' || c.type === 'replace');
        if (structural) {
          commit({ nodes: applyNodeChanges(changes, state.nodes) });
          return;
        }
        const nodes = applyNodeChanges(changes, state.nodes);
        if (moving.length === 0) {
          set({ nodes });
          return;
        }
        // A drag is one undo step: remember where it started, record it when it ends.
        const dragging = moving.some((c) => c.type === 'position' && c.dragging);
        if (dragging) {
          set({ nodes, dragStart: state.dragStart ?? snapshot() });
          return;
        }
        const start = state.dragStart ?? snapshot();
        set({
          nodes,
          dragStart: undefined,
          past: [...state.past, start].slice(-HISTORY_LIMIT),
          future: [],
          lastEditKey: undefined,
          origin: 'canvas',
          revision: state.revision + 1,
        });
      },

      onEdgesChange(changes) {
        const edges = applyEdgeChanges(changes.filter((c) => c.type === 'select'), get().edges);
        set({ edges });
      },

      addNode(kind, position) {
        const config = defaultConfig(kind);
        if (!config) return undefined;
        const state = get();
        const id = freshNodeId(kind, new Set(state.nodes.map((n) => n.id)));
        const node: FlowNode = { id, type: 'meshflow', position: freePosition(state.nodes, position), data: { kind, config }, selected: true };
        commit({ nodes: [...withSelection(state.nodes, new Set()), node] });
        return id;
      },

      connect(connection) {
        const state = get();
        const problem = connectionProblem(state.nodes, state.edges, connection);
        if (problem) {
          set({ notice: `Cannot connect: ${problem}` });
          return false;
        }
        const port = connection.sourceHandle ?? 'out';
        const edge: FlowEdge = {
          id: `${connection.source}.${port}->${connection.target}`,
          source: connection.source,
          sourceHandle: port,
          target: connection.target,
          targetHandle: INPUT_HANDLE,
        };
        commit({ edges: [...state.edges, edge] });
        set({ notice: `Connected ${connection.source} to ${connection.target}` });
        return true;
      },

      startWire(source, port) {
        set({ pendingWire: { source, port }, notice: `Wiring from ${source}, output ${port}: move to a node's input and press Enter; Escape cancels` });
      },

      finishWire(target) {
        const pending = get().pendingWire;
        if (!pending) {
          set({ notice: 'Choose an output first: press Enter on an output handle, then on this input' });
          return false;
        }
        set({ pendingWire: undefined });
        return get().connect({ source: pending.source, sourceHandle: pending.port, target });
      },

      cancelWire() {
        if (get().pendingWire) set({ pendingWire: undefined, notice: 'Wiring cancelled' });
      },

      updateNode(id, patch) {
        const state = get();
        const nodes = state.nodes.map((n) =>
          n.id === id
            ? {
                ...n,
                data: {
                  ...n.data,
                  ...(patch.config !== undefined ? { config: patch.config } : {}),
                  ...(patch.label !== undefined ? { label: patch.label } : {}),
                },
              }
            : n,
        );
        commit({ nodes }, `${id}:${patch.config !== undefined ? 'config' : 'label'}`);
      },

      deleteSelection() {
        const { nodes, edges } = get();
        get().deleteElements(
          nodes.filter((n) => n.selected).map((n) => n.id),
          edges.filter((e) => e.selected).map((e) => e.id),
        );
      },

      deleteElements(nodeIds, edgeIds = []) {
        if (nodeIds.length === 0 && edgeIds.length === 0) return;
        const state = get();
        const gone = new Set(nodeIds);
        const goneEdges = new Set(edgeIds);
        commit({
          nodes: state.nodes.filter((n) => !gone.has(n.id)),
          edges: state.edges.filter((e) => !goneEdges.has(e.id) && !gone.has(e.source) && !gone.has(e.target)),
        });
      },

      select(nodeIds) {
        const ids = new Set(nodeIds);
        const state = get();
        set({ nodes: withSelection(state.nodes, ids), edges: state.edges.map((e) => (e.selected ? { ...e, selected: false } : e)) });
      },

      selectAll() {
        get().select(get().nodes.map((n) => n.id));
      },

      copy() {
        const { nodes, edges } = get();
        const picked = nodes.filter((n) => n.selected);
        if (picked.length === 0) return;
        const ids = new Set(picked.map((n) => n.id));
        set({ clipboard: { nodes: picked, edges: edges.filter((e) => ids.has(e.source) && ids.has(e.target)) } });
      },

      paste() {
        const state = get();
        if (!state.clipboard) return;
        const taken = new Set(state.nodes.map((n) => n.id));
        const renamed = new Map<string, string>();
        const pasted = state.clipboard.nodes.map((n): FlowNode => {
          const id = freshNodeId(n.data.kind, taken);
          taken.add(id);
          renamed.set(n.id, id);
          return { ...n, id, selected: true, position: { x: n.position.x + PASTE_OFFSET, y: n.position.y + PASTE_OFFSET }, data: structuredClone(n.data) };
        });
        const pastedEdges = state.clipboard.edges.map((e): FlowEdge => {
          const source = renamed.get(e.source)!;
          const target = renamed.get(e.target)!;
          return { ...e, id: `${source}.${e.sourceHandle ?? 'out'}->${target}`, source, target, selected: false };
        });
        commit({ nodes: [...withSelection(state.nodes, new Set()), ...pasted], edges: [...state.edges, ...pastedEdges] });
        // A second paste lands one step further, not on top of the first.
        set({ clipboard: { nodes: pasted.map((n) => ({ ...n, selected: false })), edges: pastedEdges } });
      },

      undo() {
        const state = get();
        const previous = state.past.at(-1);
        if (!previous) return;
        set({ ...previous, past: state.past.slice(0, -1), future: [snapshot(), ...state.future], lastEditKey: undefined, origin: 'canvas', revision: state.revision + 1 });
      },

      redo() {
        const state = get();
        const next = state.future[0];
        if (!next) return;
        set({ ...next, past: [...state.past, snapshot()], future: state.future.slice(1), lastEditKey: undefined, origin: 'canvas', revision: state.revision + 1 });
      },

      layout() {
        const state = get();
        const placed = new Map(autoLayout(state.graph()).nodes.map((n) => [n.id, n.position]));
        commit({ nodes: state.nodes.map((n) => ({ ...n, position: placed.get(n.id) ?? n.position })) });
      },

      setRunResults(runResults) {
        set({ runResults });
      },

      setPreviews(previews) {
        set({ previews });
      },

      toggleStub(nodeId) {
        const { stubbed } = get();
        set({ stubbed: stubbed.includes(nodeId) ? stubbed.filter((id) => id !== nodeId) : [...stubbed, nodeId] });
      },

      setSampleText(sampleText) {
        set({ sampleText });
      },

      setNotice(notice) {
        set({ notice });
      },
    };
  });
}
