'use client';

import { Download, Maximize, Redo2, Undo2, Upload, Workflow } from 'lucide-react';
import type { ReactNode } from 'react';
import { Button } from '@/components/ui/button';
import type { FlowWorkspace } from './use-flow-workspace';

/** A square toolbar button named by its label (its accessible name) with the shortcut as a tooltip. */
function ToolButton({ label, shortcut, children, ...props }: { label: string; shortcut?: string; children: ReactNode } & Omit<React.ButtonHTMLAttributes<HTMLButtonElement>, 'children'>) {
  return (
    <Button type="button" variant="secondary" aria-label={label} title={shortcut ? `${label} (${shortcut})` : label} className="shrink-0 px-2 py-1.5" {...props}>
      {children}
    </Button>
  );
}

/** The tools above the canvas: undo, redo, layout and view, then import and export. */
export function DesignerToolbar({ workspace: w }: { workspace: FlowWorkspace }) {
  return (
    <div role="toolbar" aria-label="Canvas tools" className="flex flex-nowrap items-center gap-1 overflow-x-auto border-b border-slate-200 px-2 py-1 dark:border-slate-800">
      {w.editable ? (
        <>
          <ToolButton label="Undo" shortcut="Ctrl+Z" disabled={!w.canUndo} onClick={w.undo}>
            <Undo2 aria-hidden className="h-4 w-4" />
          </ToolButton>
          <ToolButton label="Redo" shortcut="Ctrl+Shift+Z" disabled={!w.canRedo} onClick={w.redo}>
            <Redo2 aria-hidden className="h-4 w-4" />
          </ToolButton>
          <ToolButton label="Auto-layout" onClick={w.autoLayout}>
            <Workflow aria-hidden className="h-4 w-4" />
          </ToolButton>
        </>
      ) : null}
      <ToolButton label="Fit view" onClick={w.fitView}>
        <Maximize aria-hidden className="h-4 w-4" />
      </ToolButton>
      <span aria-hidden className="mx-1 h-5 w-px bg-slate-200 dark:bg-slate-700" />
      {w.editable ? (
        <label className="inline-flex shrink-0 cursor-pointer items-center gap-1 rounded-md px-2 py-1 text-xs font-medium ring-1 ring-slate-300 focus-within:outline-2 focus-within:outline-indigo-600 hover:bg-slate-50 dark:hover:bg-slate-800">
          <Upload aria-hidden className="h-3.5 w-3.5" />
          <span aria-hidden>Import</span>
          <span className="sr-only">Import DSL or flow file</span>
          <input
            type="file"
            accept=".yaml,.yml,.json"
            className="sr-only"
            onChange={(e) => {
              const file = e.target.files?.[0];
              if (file) void w.importFile(file);
              e.target.value = '';
            }}
          />
        </label>
      ) : null}
      <Button type="button" variant="secondary" className="shrink-0 px-2 py-1 text-xs" aria-label="Export DSL" title="Export the DSL document (.sw.yaml)" disabled={!w.compiled.yaml} onClick={w.exportDsl}>
        <Download aria-hidden className="h-3.5 w-3.5" />
        DSL
      </Button>
      <Button type="button" variant="secondary" className="shrink-0 px-2 py-1 text-xs" aria-label="Export flow file" title="Export the flow file (.flow.json)" onClick={w.exportFlowFile}>
        <Download aria-hidden className="h-3.5 w-3.5" />
        Flow file
      </Button>
    </div>
  );
}
