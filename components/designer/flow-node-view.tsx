'use client';

import { Handle, Position, type NodeProps } from '@xyflow/react';
import { memo, type KeyboardEvent } from 'react';
import { getNodeDefinition } from '@/runtime/nodes/index';
import { useDesigner, useDesignerStore } from './designer-provider';
import { useNodeDiagnostics } from './diagnostics-context';
import { INPUT_HANDLE, portsOf, type FlowNode } from './graph-model';
import { NodeIcon } from './node-icon';

const categoryAccent: Record<string, string> = {
  source: 'border-l-emerald-500',
  filter: 'border-l-amber-500',
  transform: 'border-l-sky-500',
  control: 'border-l-violet-500',
  target: 'border-l-rose-500',
};

const runBadge: Record<string, string> = {
  completed: 'bg-emerald-100 text-emerald-800 dark:bg-emerald-900 dark:text-emerald-100',
  stubbed: 'bg-sky-100 text-sky-800 dark:bg-sky-900 dark:text-sky-100',
  skipped: 'bg-slate-200 text-slate-700 dark:bg-slate-700 dark:text-slate-100',
  filtered: 'bg-amber-100 text-amber-800 dark:bg-amber-900 dark:text-amber-100',
  faulted: 'bg-rose-100 text-rose-800 dark:bg-rose-900 dark:text-rose-100',
};

/** The accessible name of a node: its kind and its label (or id), as the canvas shows them. */
export function nodeName(data: Pick<FlowNode['data'], 'kind' | 'label'>, id: string): string {
  return `${getNodeDefinition(data.kind)?.title ?? data.kind}: ${data.label || id}`;
}

/**
 * One node on the canvas: icon, title, label, diagnostics and the last test run's outcome.
 * Its handles are buttons too: Enter on an output starts a wire, Enter on an input ends it.
 */
function FlowNodeViewImpl({ id, data, selected }: NodeProps<FlowNode>) {
  const def = getNodeDefinition(data.kind);
  const ports = portsOf(data);
  const diagnostics = useNodeDiagnostics(id);
  const run = useDesigner((s) => s.runResults[id]);
  const wiringFrom = useDesigner((s) => s.pendingWire);
  const store = useDesignerStore();
  const errors = diagnostics?.filter((d) => d.severity === 'error').length ?? 0;
  const warnings = (diagnostics?.length ?? 0) - errors;
  const name = nodeName(data, id);
  const onHandleKey = (event: KeyboardEvent, action: () => void) => {
    if (event.key !== 'Enter' && event.key !== ' ') return;
    event.preventDefault();
    event.stopPropagation();
    action();
  };
  return (
    <div
      data-testid={`node-${id}`}
      className={`relative w-[220px] rounded-md border border-l-4 bg-white text-left shadow-sm dark:bg-slate-800 dark:text-slate-100 ${categoryAccent[def?.category ?? ''] ?? 'border-l-slate-400'} ${selected ? 'border-indigo-500 ring-2 ring-indigo-400' : 'border-slate-300 dark:border-slate-600'}`}
    >
      {ports.input ? (
        <Handle
          type="target"
          position={Position.Left}
          id={INPUT_HANDLE}
          tabIndex={0}
          role="button"
          aria-label={`${name}, input`}
          className={wiringFrom && wiringFrom.source !== id ? '!h-3 !w-3 !bg-indigo-500' : undefined}
          onKeyDown={(e) => onHandleKey(e, () => store.getState().finishWire(id))}
        />
      ) : null}
      {errors > 0 ? (
        <span
          className="absolute -right-2 -top-2.5 rounded-full bg-rose-600 px-1.5 text-[11px] font-semibold leading-5 text-white shadow"
          title={diagnostics?.map((d) => d.message).join('\n')}
          data-testid="node-errors"
        >
          {errors} {errors === 1 ? 'error' : 'errors'}
        </span>
      ) : warnings > 0 ? (
        <span className="absolute -right-2 -top-2.5 rounded-full bg-amber-200 px-1.5 text-[11px] font-semibold leading-5 text-amber-900 shadow" title={diagnostics?.map((d) => d.message).join('\n')} data-testid="node-warnings">
          {warnings} {warnings === 1 ? 'warning' : 'warnings'}
        </span>
      ) : null}
      <div className="flex items-center gap-2 px-3 pt-2">
        <NodeIcon name={def?.icon ?? 'box'} className="h-4 w-4 shrink-0 text-slate-600 dark:text-slate-300" />
        <span className="truncate text-sm font-medium" title={def?.title ?? data.kind}>
          {def?.title ?? data.kind}
        </span>
      </div>
      <div className="truncate px-3 pb-2 font-mono text-xs text-slate-600 dark:text-slate-300">{data.label || id}</div>
      {run ? (
        <div className={`mx-2 mb-2 truncate rounded px-2 py-0.5 text-xs ${runBadge[run.status]}`} data-testid={`run-${id}`}>
          {run.status}
          {run.status === 'faulted' ? `: ${run.error?.detail ?? run.error?.title ?? ''}` : run.output !== undefined ? `: ${JSON.stringify(run.output)}` : ''}
        </div>
      ) : null}
      {ports.outputs.map((port, i) => (
        <Handle
          key={port.id}
          type="source"
          position={Position.Right}
          id={port.id}
          tabIndex={0}
          role="button"
          aria-label={`${name}, output ${port.label}`}
          aria-pressed={wiringFrom?.source === id && wiringFrom.port === port.id}
          onKeyDown={(e) => onHandleKey(e, () => store.getState().startWire(id, port.id))}
          style={{ top: `${((i + 1) / (ports.outputs.length + 1)) * 100}%` }}
        >
          {ports.outputs.length > 1 ? <span className="pointer-events-none absolute left-3 -top-2 text-[10px] text-slate-500">{port.label}</span> : null}
        </Handle>
      ))}
    </div>
  );
}

export const FlowNodeView = memo(FlowNodeViewImpl);
