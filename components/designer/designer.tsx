'use client';

import '@xyflow/react/dist/style.css';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { ReactFlowProvider, useReactFlow } from '@xyflow/react';
import { useRouter } from 'next/navigation';
import { Download, Maximize, Redo2, Undo2, Upload, Workflow } from 'lucide-react';
import { useMemo, useRef, useState, type ReactNode } from 'react';
import { compile } from '@/runtime/compiler/compile';
import { documentNameFor } from '@/runtime/compiler/document-name';
import type { Diagnostic } from '@/runtime/compiler/diagnostics';
import { flowGraphSchema, getNodeDefinition, isSourceDefinition } from '@/runtime/nodes/index';
import { canEdit, useCurrentUser } from '@/components/layout/current-user';
import { useTRPC } from '@/components/trpc-provider';
import { Button } from '@/components/ui/button';
import { ErrorState, LoadingRows } from '@/components/ui/states';
import { Canvas, FIT_VIEW, useAddAtCentre } from './canvas';
import { DesignerProvider, useDesigner, useDesignerStore } from './designer-provider';
import { diagnosticsByNode, NodeDiagnosticsContext } from './diagnostics-context';
import { download, flowFile, readImportedFile } from './flow-file';
import { Inspector } from './inspector';
import { Palette } from './palette';
import { ProblemsList } from './problems-list';
import { emptyGraph } from './store';
import { ReplayPanel } from './replay-panel';
import { TestPanel } from './test-panel';
import { usePreviewRun } from './preview-run';
import { useUnsavedChangesGuard } from './unsaved-guard';
import { VersionsPanel } from './versions-panel';
import { YamlPanel } from './yaml-panel';

interface SavedFlow {
  id: string;
  name: string;
  liveVersion: number | undefined;
}

type Tab = 'inspector' | 'test' | 'replay' | 'versions' | 'problems';

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

/** The event types the canvas's sources consume, as a stable string key (order of the canvas). */
function useSourceEventTypes(): { kind: string; eventType: string }[] {
  const key = useDesigner((s) =>
    JSON.stringify(
      s.nodes.flatMap((n) => {
        const def = getNodeDefinition(n.data.kind);
        const eventType = n.data.config.eventType;
        return def && isSourceDefinition(def) && typeof eventType === 'string' && eventType !== '' ? [{ kind: n.data.kind, eventType }] : [];
      }),
    ),
  );
  return useMemo(() => JSON.parse(key) as { kind: string; eventType: string }[], [key]);
}

/** `title`: the flow's; the document is named after it, as a save names it. */
function useCompiled(title: string) {
  const trpc = useTRPC();
  const store = useDesignerStore();
  const revision = useDesigner((s) => s.revision);
  const sources = useSourceEventTypes();
  // The catalog's schemas type the wires (as on save): field completion and unknown-field checks come from them.
  const schemas = useQuery({ ...trpc.designer.eventSchemas.queryOptions({ sources }), enabled: sources.length > 0, staleTime: 60_000 });
  const schemaData = sources.length > 0 ? schemas.data : undefined;
  // Positions land in the YAML's metadata, but compiling on every drag frame would be waste: a drag ends in one revision.
  return useMemo(
    () => compile(store.getState().graph(), { name: documentNameFor(title), ...(schemaData ? { schemas: schemaData } : {}) }),
    // eslint-disable-next-line react-hooks/exhaustive-deps
    [store, revision, schemaData, title],
  );
}

function TabButton({ id, active, onSelect, children }: { id: Tab; active: boolean; onSelect: (t: Tab) => void; children: ReactNode }) {
  return (
    <button
      type="button"
      role="tab"
      id={`tab-${id}`}
      aria-selected={active}
      aria-controls={`panel-${id}`}
      onClick={() => onSelect(id)}
      className={`shrink-0 whitespace-nowrap border-b-2 px-1.5 py-2 text-xs 2xl:px-3 2xl:text-sm ${active ? 'border-indigo-600 font-medium text-indigo-800 dark:text-indigo-200' : 'border-transparent text-slate-700 hover:text-slate-900 dark:text-slate-300'}`}
    >
      {children}
    </button>
  );
}

/** A square toolbar button named by its label (its accessible name) with the shortcut as a tooltip. */
function ToolButton({ label, shortcut, children, ...props }: { label: string; shortcut?: string; children: ReactNode } & Omit<React.ButtonHTMLAttributes<HTMLButtonElement>, 'children'>) {
  return (
    <Button type="button" variant="secondary" aria-label={label} title={shortcut ? `${label} (${shortcut})` : label} className="shrink-0 px-2 py-1.5" {...props}>
      {children}
    </Button>
  );
}

function Workspace({ saved }: { saved: SavedFlow | undefined }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const router = useRouter();
  const user = useCurrentUser();
  const editable = canEdit(user);
  const store = useDesignerStore();
  const flow = useReactFlow();
  const paneRef = useRef<HTMLDivElement | null>(null);
  const addAtCentre = useAddAtCentre(paneRef);
  const [name, setName] = useState(saved?.name ?? 'Untitled flow');
  const compiled = useCompiled(saved?.name ?? name);
  const notices = useDesigner((s) => s.notices);
  // The compiler's findings, and what the last YAML reading said about nodes (a node that changed kind).
  const diagnostics = useMemo(() => [...notices, ...compiled.diagnostics], [notices, compiled.diagnostics]);
  const byNode = useMemo(() => diagnosticsByNode(diagnostics), [diagnostics]);
  const revision = useDesigner((s) => s.revision);
  const notice = useDesigner((s) => s.notice);
  const canUndo = useDesigner((s) => s.past.length > 0);
  const canRedo = useDesigner((s) => s.future.length > 0);
  const [savedRevision, setSavedRevision] = useState(0);
  const [tab, setTab] = useState<Tab>('inspector');
  const [saveProblems, setSaveProblems] = useState<Diagnostic[]>([]);
  const [importProblems, setImportProblems] = useState<string[]>([]);
  const [copied, setCopied] = useState(false);
  const dirty = revision !== savedRevision;
  useUnsavedChangesGuard(dirty && editable);
  usePreviewRun(editable);

  const invalidate = () => queryClient.invalidateQueries({ queryKey: trpc.flows.pathKey() });
  const live = useQuery({ ...trpc.designer.liveStatus.queryOptions({ flowId: saved?.id ?? '00000000-0000-0000-0000-000000000000' }), enabled: saved !== undefined, refetchInterval: 5_000 });
  const create = useMutation(trpc.flows.create.mutationOptions());
  const saveVersion = useMutation(trpc.flows.saveVersion.mutationOptions());
  const rename = useMutation(trpc.flows.rename.mutationOptions({ onSuccess: invalidate }));
  const deploy = useMutation(trpc.flows.deploy.mutationOptions());
  const undeploy = useMutation(trpc.flows.undeploy.mutationOptions());

  /** Stores the canvas as a new version (or a new flow); false when the compiler refused it. */
  const save = async (): Promise<boolean> => {
    const graph = store.getState().graph();
    const at = store.getState().revision;
    if (!saved) {
      const result = await create.mutateAsync({ name, graph });
      if (!result.ok) return (setSaveProblems(result.diagnostics), false);
      await invalidate();
      router.push(`/flows/${result.flowId}`);
      return true;
    }
    const result = await saveVersion.mutateAsync({ flowId: saved.id, graph });
    if (!result.ok) return (setSaveProblems(result.diagnostics), false);
    setSaveProblems([]);
    setSavedRevision(at);
    await invalidate();
    return true;
  };

  const deployNow = async () => {
    if (!saved) return;
    if (dirty && !(await save())) return;
    await deploy.mutateAsync({ flowId: saved.id });
    await Promise.all([invalidate(), queryClient.invalidateQueries({ queryKey: trpc.designer.pathKey() })]);
  };

  const importFile = async (file: File) => {
    const reading = readImportedFile(await file.text());
    setImportProblems(reading.problems.filter((p) => p.severity === 'error').map((p) => `${file.name}, line ${p.line}: ${p.message}`));
    if (!reading.graph) return;
    store.getState().replaceGraph(reading.graph, 'load');
    // A new flow takes the imported document's name (the DSL name follows the flow's title).
    if (!saved) setName(reading.name ?? reading.graph.document.title ?? reading.graph.document.name);
    window.requestAnimationFrame(() => void flow.fitView(FIT_VIEW));
  };

  const liveData = live.data;
  const liveVersion = liveData ? (liveData.live ? liveData.version : undefined) : saved?.liveVersion;
  const webhooks = liveData?.live ? liveData.webhooks : (deploy.data?.webhooks ?? []);
  const busy = create.isPending || saveVersion.isPending || deploy.isPending;
  const mutationError = create.error ?? saveVersion.error ?? rename.error ?? deploy.error ?? undeploy.error;
  const fileBase = documentNameFor(saved?.name ?? name);

  return (
    <NodeDiagnosticsContext.Provider value={byNode}>
      <div className="-mx-8 -my-6 flex h-[calc(100vh-49px)] flex-col bg-white text-slate-900 dark:bg-slate-950 dark:text-slate-100">
        <header className="flex flex-nowrap items-center gap-3 border-b border-slate-200 px-4 py-2 dark:border-slate-800">
          <h1 className="min-w-0 truncate text-lg font-semibold" title={saved ? saved.name : 'New flow'}>
            {saved ? saved.name : 'New flow'}
          </h1>
          <span className="shrink-0 whitespace-nowrap rounded-full bg-slate-100 px-2 py-0.5 text-xs font-medium dark:bg-slate-800" data-testid="deploy-status">
            {liveVersion !== undefined ? `Live · v${liveVersion}` : 'Not deployed'}
          </span>
          {liveData?.live ? (
            <span className="shrink-0 whitespace-nowrap text-xs text-slate-700 dark:text-slate-300" data-testid="live-counts">
              {liveData.eventsIn} events in · {liveData.failures} failures
            </span>
          ) : null}
          {dirty && editable ? <span className="shrink-0 whitespace-nowrap text-xs text-amber-800 dark:text-amber-200">Unsaved changes</span> : null}
          <div className="ml-auto flex shrink-0 flex-nowrap items-center gap-2">
            {editable ? (
              <form
                className="flex items-center gap-2"
                onSubmit={(e) => {
                  e.preventDefault();
                  if (saved && name.trim() && name !== saved.name) rename.mutate({ flowId: saved.id, name });
                }}
              >
                <label htmlFor="flow-name" className="sr-only">
                  Flow name
                </label>
                <input id="flow-name" value={name} placeholder="Flow name" onChange={(e) => setName(e.target.value)} className="w-44 rounded-md border border-slate-300 bg-white px-2 py-1 text-sm dark:border-slate-600 dark:bg-slate-900" />
                {saved ? (
                  <Button type="submit" variant="secondary" disabled={!name.trim() || name === saved.name || rename.isPending}>
                    Rename
                  </Button>
                ) : null}
              </form>
            ) : null}
            {editable ? (
              <Button type="button" variant="secondary" disabled={busy || (saved !== undefined && !dirty)} onClick={() => void save()}>
                {saved ? 'Save version' : 'Save flow'}
              </Button>
            ) : null}
            {editable && saved ? (
              <>
                {liveVersion !== undefined ? (
                  <Button type="button" variant="secondary" disabled={undeploy.isPending} onClick={() => undeploy.mutate({ flowId: saved.id }, { onSuccess: () => Promise.all([invalidate(), queryClient.invalidateQueries({ queryKey: trpc.designer.pathKey() })]) })}>
                    Undeploy
                  </Button>
                ) : null}
                <Button type="button" disabled={busy} onClick={() => void deployNow()}>
                  {deploy.isPending ? 'Deploying…' : 'Deploy'}
                </Button>
              </>
            ) : null}
          </div>
        </header>
        {webhooks.length > 0 ? (
          <div className="flex flex-wrap items-center gap-2 border-b border-emerald-200 bg-emerald-50 px-4 py-1.5 text-sm dark:border-emerald-900 dark:bg-emerald-950">
            <label htmlFor="webhook-url" className="font-medium">
              Webhook URL
            </label>
            <input id="webhook-url" readOnly value={webhooks[0]} className="w-[28rem] rounded border border-emerald-300 bg-white px-2 py-0.5 font-mono text-xs dark:border-emerald-800 dark:bg-slate-900" />
            <Button
              type="button"
              variant="secondary"
              onClick={() => {
                void navigator.clipboard?.writeText(webhooks[0] ?? '').then(() => setCopied(true));
              }}
            >
              {copied ? 'Copied' : 'Copy webhook URL'}
            </Button>
          </div>
        ) : null}
        {mutationError ? <ErrorState message={mutationError.message} /> : null}
        {saveProblems.length > 0 ? <ErrorState message={`Not saved: ${saveProblems.map((d) => `${d.nodeId ? `${d.nodeId}: ` : ''}${d.message}`).join('; ')}`} /> : null}
        {importProblems.length > 0 ? <ErrorState message={`Not imported: ${importProblems.join('; ')}`} /> : null}
        <div role="status" aria-live="polite" className="sr-only">
          {notice}
        </div>
        <div className="flex min-h-0 flex-1">
          <aside aria-label="Palette" className="w-48 shrink-0 border-r border-slate-200 bg-slate-50 dark:border-slate-800 dark:bg-slate-900">
            <Palette onAdd={addAtCentre} disabled={!editable} />
          </aside>
          <section aria-label="Flow canvas" className="flex min-w-0 flex-1 flex-col">
            <div role="toolbar" aria-label="Canvas tools" className="flex flex-nowrap items-center gap-1 overflow-x-auto border-b border-slate-200 px-2 py-1 dark:border-slate-800">
              {editable ? (
                <>
                  <ToolButton label="Undo" shortcut="Ctrl+Z" disabled={!canUndo} onClick={() => store.getState().undo()}>
                    <Undo2 aria-hidden className="h-4 w-4" />
                  </ToolButton>
                  <ToolButton label="Redo" shortcut="Ctrl+Shift+Z" disabled={!canRedo} onClick={() => store.getState().redo()}>
                    <Redo2 aria-hidden className="h-4 w-4" />
                  </ToolButton>
                  <ToolButton
                    label="Auto-layout"
                    onClick={() => {
                      store.getState().layout();
                      window.requestAnimationFrame(() => void flow.fitView(FIT_VIEW));
                    }}
                  >
                    <Workflow aria-hidden className="h-4 w-4" />
                  </ToolButton>
                </>
              ) : null}
              <ToolButton label="Fit view" onClick={() => void flow.fitView(FIT_VIEW)}>
                <Maximize aria-hidden className="h-4 w-4" />
              </ToolButton>
              <span aria-hidden className="mx-1 h-5 w-px bg-slate-200 dark:bg-slate-700" />
              {editable ? (
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
                      if (file) void importFile(file);
                      e.target.value = '';
                    }}
                  />
                </label>
              ) : null}
              <Button type="button" variant="secondary" className="shrink-0 px-2 py-1 text-xs" aria-label="Export DSL" title="Export the DSL document (.sw.yaml)" disabled={!compiled.yaml} onClick={() => download(`${fileBase}.sw.yaml`, compiled.yaml, 'application/yaml')}>
                <Download aria-hidden className="h-3.5 w-3.5" />
                DSL
              </Button>
              <Button type="button" variant="secondary" className="shrink-0 px-2 py-1 text-xs" aria-label="Export flow file" title="Export the flow file (.flow.json)" onClick={() => download(`${fileBase}.flow.json`, flowFile(saved?.name ?? name, store.getState().graph()), 'application/json')}>
                <Download aria-hidden className="h-3.5 w-3.5" />
                Flow file
              </Button>
            </div>
            <div className="min-h-0 flex-1">
              <Canvas paneRef={paneRef} readOnly={!editable} />
            </div>
          </section>
          <aside aria-label="Inspector and YAML" className="flex w-96 shrink-0 flex-col border-l border-slate-200 2xl:w-[26rem] dark:border-slate-800">
            <div role="tablist" aria-label="Designer panels" className="flex overflow-x-auto border-b border-slate-200 dark:border-slate-800">
              <TabButton id="inspector" active={tab === 'inspector'} onSelect={setTab}>
                Inspector
              </TabButton>
              <TabButton id="test" active={tab === 'test'} onSelect={setTab}>
                Test run
              </TabButton>
              {saved ? (
                <TabButton id="replay" active={tab === 'replay'} onSelect={setTab}>
                  Past events
                </TabButton>
              ) : null}
              {saved ? (
                <TabButton id="versions" active={tab === 'versions'} onSelect={setTab}>
                  Versions
                </TabButton>
              ) : null}
              <TabButton id="problems" active={tab === 'problems'} onSelect={setTab}>
                Problems ({diagnostics.length})
              </TabButton>
            </div>
            <div role="tabpanel" id={`panel-${tab}`} aria-labelledby={`tab-${tab}`} className="min-h-0 flex-[3] overflow-y-auto">
              {tab === 'inspector' ? <Inspector readOnly={!editable} fields={compiled.fields} /> : null}
              {tab === 'test' ? <TestPanel canRun={editable} flowFileName={fileBase} /> : null}
              {tab === 'replay' && saved ? <ReplayPanel flowId={saved.id} flowFileName={fileBase} canRun={editable} /> : null}
              {tab === 'versions' && saved ? <VersionsPanel flowId={saved.id} editable={editable} /> : null}
              {tab === 'problems' ? <ProblemsList diagnostics={diagnostics} /> : null}
            </div>
            <section aria-labelledby="yaml-heading" className="flex min-h-0 flex-[2] flex-col border-t border-slate-200 dark:border-slate-800">
              <h2 id="yaml-heading" className="px-3 py-1 text-xs font-semibold uppercase tracking-wide text-slate-600 dark:text-slate-300">
                Serverless Workflow DSL (YAML)
              </h2>
              <div className="min-h-0 flex-1">
                <YamlPanel yaml={compiled.yaml} readOnly={!editable} />
              </div>
            </section>
          </aside>
        </div>
      </div>
    </NodeDiagnosticsContext.Provider>
  );
}
