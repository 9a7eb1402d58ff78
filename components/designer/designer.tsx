'use client';

import '@xyflow/react/dist/style.css';
import { useQuery } from '@tanstack/react-query';
import { ReactFlowProvider } from '@xyflow/react';
import { useRef, useState } from 'react';
import { flowGraphSchema } from '@/runtime/nodes/index';
import { useTRPC } from '@/components/trpc-provider';
import { ErrorState, LoadingRows } from '@/components/ui/states';
import { Canvas, useAddAtCentre } from './canvas';
import { DesignerHeader, WebhookBar } from './designer-header';
import { DesignerPanels } from './designer-panels';
import { DesignerProvider } from './designer-provider';
import { DesignerToolbar } from './designer-toolbar';
import { NodeDiagnosticsContext } from './diagnostics-context';
import { Palette } from './palette';
import { emptyGraph } from './store';
import { useFlowWorkspace, type SavedFlow } from './use-flow-workspace';

/** The designer for a saved flow: opens its newest version. */
export function FlowDesigner({ flowId }: { flowId: string }) {
  const trpc = useTRPC();
  const flow = useQuery(trpc.flows.get.queryOptions({ flowId }));
  if (flow.isPending) return <LoadingRows label="flow" />;
  if (flow.isError) return <ErrorState message={flow.error.message} />;
  const live = flow.data.deployments[0];
  return (
    <SavedFlowDesigner
      graph={flow.data.versions[0]?.graph}
      saved={{ id: flow.data.id, name: flow.data.name, liveVersion: live?.flowVersion.version }}
    />
  );
}

function SavedFlowDesigner({ graph, saved }: { graph: unknown; saved: SavedFlow }) {
  // The canvas opens on the version there was when the page loaded; later saves come from it.
  const [initial] = useState(() => {
    const parsed = flowGraphSchema.safeParse(graph);
    return parsed.success ? parsed.data : emptyGraph();
  });
  return (
    <DesignerProvider initial={initial}>
      <ReactFlowProvider>
        <Workspace saved={saved} />
      </ReactFlowProvider>
    </DesignerProvider>
  );
}

/** The designer on an empty canvas; the first save creates the flow. */
export function NewFlowDesigner() {
  const [initial] = useState(() => emptyGraph());
  return (
    <DesignerProvider initial={initial}>
      <ReactFlowProvider>
        <Workspace saved={undefined} />
      </ReactFlowProvider>
    </DesignerProvider>
  );
}

function Workspace({ saved }: { saved: SavedFlow | undefined }) {
  const workspace = useFlowWorkspace(saved);
  const paneRef = useRef<HTMLDivElement | null>(null);
  const addAtCentre = useAddAtCentre(paneRef);
  const { editable, error, saveProblems, importProblems, webhooks } = workspace;
  return (
    <NodeDiagnosticsContext.Provider value={workspace.byNode}>
      <div className="-mx-8 -my-6 flex h-[calc(100vh-49px)] flex-col bg-white text-slate-900 dark:bg-slate-950 dark:text-slate-100">
        <DesignerHeader workspace={workspace} />
        {webhooks[0] !== undefined ? <WebhookBar url={webhooks[0]} /> : null}
        {error ? <ErrorState message={error.message} /> : null}
        {saveProblems.length > 0 ? <ErrorState message={`Not saved: ${saveProblems.map((d) => `${d.nodeId ? `${d.nodeId}: ` : ''}${d.message}`).join('; ')}`} /> : null}
        {importProblems.length > 0 ? <ErrorState message={`Not imported: ${importProblems.join('; ')}`} /> : null}
        <div role="status" aria-live="polite" className="sr-only">
          {workspace.notice}
        </div>
        <div className="flex min-h-0 flex-1">
          <aside aria-label="Palette" className="w-48 shrink-0 border-r border-slate-200 bg-slate-50 dark:border-slate-800 dark:bg-slate-900">
            <Palette onAdd={addAtCentre} disabled={!editable} />
          </aside>
          <section aria-label="Flow canvas" className="flex min-w-0 flex-1 flex-col">
            <DesignerToolbar workspace={workspace} />
            <div className="min-h-0 flex-1">
              <Canvas paneRef={paneRef} readOnly={!editable} />
            </div>
          </section>
          <aside aria-label="Inspector and YAML" className="flex w-96 shrink-0 flex-col border-l border-slate-200 2xl:w-[26rem] dark:border-slate-800">
            <DesignerPanels workspace={workspace} />
          </aside>
        </div>
      </div>
    </NodeDiagnosticsContext.Provider>
  );
}
