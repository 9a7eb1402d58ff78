'use client';

import { useMemo, useState } from 'react';
import { useShallow } from 'zustand/react/shallow';
import { fieldsAt, type FieldInfo } from '@/runtime/compiler/data-shapes';
import { getNodeDefinition } from '@/runtime/nodes/index';
import { Button } from '@/components/ui/button';
import { useDesigner, useDesignerStore } from './designer-provider';
import { useNodeDiagnostics } from './diagnostics-context';
import { ExpressionScopeContext, type ExpressionInput, type ExpressionScope } from './expression-field';
import { connectionProblem, portsOf, type FlowNode } from './graph-model';
import { NodeIcon } from './node-icon';
import { SchemaForm } from './schema-form';

const noFields: FieldInfo[] = [];

/** Kinds whose test runs reach outside the engine, so they may be stubbed. */
function makesExternalCalls(kind: string): boolean {
  return getNodeDefinition(kind)?.binding?.direction === 'target';
}

function Json({ value }: { value: unknown }) {
  return <pre tabIndex={0} className="max-h-40 overflow-auto rounded bg-slate-100 p-2 font-mono text-xs dark:bg-slate-900">{JSON.stringify(value, null, 2)}</pre>;
}

/** Wires from this node's outputs, drawn or removed with the keyboard. */
function Wiring({ node, readOnly }: { node: FlowNode; readOnly: boolean }) {
  const store = useDesignerStore();
  const nodes = useDesigner((s) => s.nodes);
  const edges = useDesigner((s) => s.edges);
  const ports = portsOf(node.data);
  const [choice, setChoice] = useState<Record<string, string>>({});
  if (ports.outputs.length === 0) return null;
  return (
    <section aria-labelledby="wiring-heading" className="space-y-2">
      <h3 id="wiring-heading" className="text-xs font-semibold uppercase tracking-wide text-slate-600 dark:text-slate-300">
        Wires
      </h3>
      {ports.outputs.map((port) => {
        const wired = edges.filter((e) => e.source === node.id && (e.sourceHandle ?? 'out') === port.id);
        const candidates = nodes.filter((n) => connectionProblem(nodes, edges, { source: node.id, sourceHandle: port.id, target: n.id }) === undefined);
        const selectId = `connect-${node.id}-${port.id}`;
        const target = choice[port.id] ?? candidates[0]?.id ?? '';
        return (
          <div key={port.id} className="space-y-1">
            {wired.map((e) => (
              <div key={e.id} className="flex items-center justify-between text-xs">
                <span>
                  {port.label} → <span className="font-mono">{e.target}</span>
                </span>
                {readOnly ? null : (
                  <button type="button" className="text-rose-700 underline dark:text-rose-300" onClick={() => store.getState().deleteElements([], [e.id])}>
                    Remove wire {port.label} to {e.target}
                  </button>
                )}
              </div>
            ))}
            {!readOnly && candidates.length > 0 ? (
              <div className="flex items-end gap-2">
                <div className="flex-1">
                  <label htmlFor={selectId} className="block text-xs font-medium text-slate-700 dark:text-slate-200">
                    Connect {port.label} to
                  </label>
                  <select id={selectId} value={target} onChange={(e) => setChoice({ ...choice, [port.id]: e.target.value })} className="block w-full rounded-md border border-slate-300 bg-white px-2 py-1 text-sm dark:border-slate-600 dark:bg-slate-900">
                    {candidates.map((n) => (
                      <option key={n.id} value={n.id}>
                        {n.data.label || n.id}
                      </option>
                    ))}
                  </select>
                </div>
                <Button type="button" variant="secondary" onClick={() => store.getState().connect({ source: node.id, sourceHandle: port.id, target })}>
                  Connect
                </Button>
              </div>
            ) : null}
          </div>
        );
      })}
    </section>
  );
}

/**
 * What `.` is for a node's expressions: what the node receives when the flow as it is now runs on
 * the sample event (the preview run: upstream filters and transforms applied, calls stubbed);
 * until that has run, its input in the last test run, else the sample event itself.
 */
function useExpressionInput(nodeId: string | undefined): ExpressionInput {
  const runInput = useDesigner((s) => (nodeId ? s.runResults[nodeId]?.input : undefined));
  const preview = useDesigner((s) => s.previews);
  const sampleText = useDesigner((s) => s.sampleText);
  const sample = useMemo((): ExpressionInput => {
    try {
      return { value: JSON.parse(sampleText) as unknown, label: 'the sample event' };
    } catch {
      return { problem: 'the sample event in the Test run tab is not valid JSON' };
    }
  }, [sampleText]);
  if (nodeId && preview && preview.sample === sampleText) {
    const reached = preview.nodes[nodeId];
    if (reached?.input !== undefined) return { value: reached.input, label: 'the sample event, as it reaches this node' };
    const stoppedAt = Object.entries(preview.nodes).find(([, r]) => r.status === 'filtered' || r.status === 'faulted');
    const why = preview.stoppedBy ?? (stoppedAt ? `${stoppedAt[0]} ${stoppedAt[1].status === 'filtered' ? 'filters it out' : 'fails on it'}` : 'an earlier node stops it');
    return { problem: `the sample event does not reach this node (${why}); pick a sample that gets through in the Test run tab, or change what stops it` };
  }
  return runInput === undefined ? sample : { value: runInput, label: "this node's input in the last test run" };
}

export function Inspector({ readOnly, fields }: { readOnly: boolean; fields: Record<string, FieldInfo[]> }) {
  const store = useDesignerStore();
  const selected = useDesigner(useShallow((s) => s.nodes.filter((n) => n.selected)));
  const node = selected.length === 1 ? selected[0] : undefined;
  const diagnostics = useNodeDiagnostics(node?.id ?? '');
  const run = useDesigner((s) => (node ? s.runResults[node.id] : undefined));
  const stubbed = useDesigner((s) => (node ? s.stubbed.includes(node.id) : false));
  const expressionInput = useExpressionInput(node?.id);
  const nodeFields = node ? fieldsAt({ fields }, node.id) : noFields;
  const scope = useMemo((): ExpressionScope => ({ fields: nodeFields, input: expressionInput, evaluate: !readOnly }), [nodeFields, expressionInput, readOnly]);

  if (selected.length > 1) {
    return (
      <div className="space-y-3 p-3 text-sm">
        <p>{selected.length} nodes selected.</p>
        {readOnly ? null : (
          <Button type="button" variant="danger" onClick={() => store.getState().deleteSelection()}>
            Delete {selected.length} nodes
          </Button>
        )}
      </div>
    );
  }
  if (!node) return <p className="p-3 text-sm text-slate-600 dark:text-slate-300">Select a node to configure it, or add one from the palette.</p>;
  const def = getNodeDefinition(node.data.kind);
  return (
    <div className="space-y-4 p-3" data-testid="inspector">
      <div className="flex items-center gap-2">
        <NodeIcon name={def?.icon ?? 'box'} />
        <h2 className="text-sm font-semibold">{def?.title ?? node.data.kind}</h2>
        <span className="ml-auto font-mono text-xs text-slate-600 dark:text-slate-300">{node.id}</span>
      </div>
      {def ? <p className="text-xs text-slate-600 dark:text-slate-300">{def.description}</p> : null}
      <div className="space-y-1">
        <label htmlFor={`label-${node.id}`} className="block text-xs font-medium text-slate-700 dark:text-slate-200">
          Label
        </label>
        <input
          id={`label-${node.id}`}
          value={node.data.label ?? ''}
          readOnly={readOnly}
          placeholder={node.id}
          onChange={(e) => store.getState().updateNode(node.id, { label: e.target.value })}
          className="block w-full rounded-md border border-slate-300 bg-white px-2 py-1 text-sm dark:border-slate-600 dark:bg-slate-900"
        />
      </div>
      {def ? (
        <ExpressionScopeContext.Provider value={scope}>
          <SchemaForm key={node.id} def={def} nodeId={node.id} config={node.data.config} readOnly={readOnly} onChange={(config) => store.getState().updateNode(node.id, { config })} />
        </ExpressionScopeContext.Provider>
      ) : (
        <p role="alert" className="text-sm text-rose-700">
          Unknown node kind “{node.data.kind}”.
        </p>
      )}
      {diagnostics && diagnostics.length > 0 ? (
        <ul aria-label="Problems of this node" className="space-y-1 text-xs">
          {diagnostics.map((d, i) => (
            <li key={i} className={d.severity === 'error' ? 'text-rose-700 dark:text-rose-300' : 'text-amber-800 dark:text-amber-200'}>
              {d.path && d.path.length > 0 ? `${d.path.join('.')}: ` : ''}
              {d.message}
            </li>
          ))}
        </ul>
      ) : null}
      <Wiring node={node} readOnly={readOnly} />
      {makesExternalCalls(node.data.kind) ? (
        <div className="flex items-center gap-2 text-sm">
          <input id={`stub-${node.id}`} type="checkbox" checked={stubbed} onChange={() => store.getState().toggleStub(node.id)} />
          <label htmlFor={`stub-${node.id}`}>Stub external calls in test runs</label>
        </div>
      ) : null}
      {run ? (
        <section aria-labelledby="node-run-heading" className="space-y-1 text-xs">
          <h3 id="node-run-heading" className="font-semibold uppercase tracking-wide text-slate-600 dark:text-slate-300">
            Last test run: {run.status}
          </h3>
          {run.input !== undefined ? (
            <>
              <div>Input</div>
              <Json value={run.input} />
            </>
          ) : null}
          {run.output !== undefined ? (
            <>
              <div>Output</div>
              <Json value={run.output} />
            </>
          ) : null}
          {run.error ? <p className="text-rose-700 dark:text-rose-300">{run.error.detail ?? run.error.title}</p> : null}
        </section>
      ) : null}
      {readOnly ? null : (
        <Button type="button" variant="danger" onClick={() => store.getState().deleteElements([node.id])}>
          Delete node
        </Button>
      )}
    </div>
  );
}
