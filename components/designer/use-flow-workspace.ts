'use client';

/**
 * What the designer's workspace knows and does, apart from how it looks: the flow's name, the
 * compiled document and its problems, whether the canvas has unsaved changes, the live
 * deployment, and the actions on them (save, deploy, undeploy, rename, import, export, undo…).
 * The header, the toolbar and the panels only show this and call its actions.
 */
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useReactFlow } from '@xyflow/react';
import { useRouter } from 'next/navigation';
import { useMemo, useState } from 'react';
import { compile, type CompileResult } from '@/runtime/compiler/compile';
import { documentNameFor } from '@/runtime/compiler/document-name';
import type { Diagnostic } from '@/runtime/compiler/diagnostics';
import { getNodeDefinition, isSourceDefinition } from '@/runtime/nodes/index';
import { canEdit, useCurrentUser } from '@/components/layout/current-user';
import { useTRPC } from '@/components/trpc-provider';
import { FIT_VIEW } from './canvas';
import { useDesigner, useDesignerStore } from './designer-provider';
import { diagnosticsByNode } from './diagnostics-context';
import { download, flowFile, readImportedFile } from './flow-file';
import { usePreviewRun } from './preview-run';
import { useUnsavedChangesGuard } from './unsaved-guard';

/** A flow that has been saved at least once (the designer of a new flow has none). */
export interface SavedFlow {
  id: string;
  name: string;
  liveVersion: number | undefined;
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
function useCompiled(title: string): CompileResult {
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

export function useFlowWorkspace(saved: SavedFlow | undefined) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const router = useRouter();
  const editable = canEdit(useCurrentUser());
  const store = useDesignerStore();
  const flow = useReactFlow();
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
  const [saveProblems, setSaveProblems] = useState<Diagnostic[]>([]);
  const [importProblems, setImportProblems] = useState<string[]>([]);
  const dirty = revision !== savedRevision;
  useUnsavedChangesGuard(dirty && editable);
  usePreviewRun(editable);

  const invalidate = () => queryClient.invalidateQueries({ queryKey: trpc.flows.pathKey() });
  const invalidateLive = () => Promise.all([invalidate(), queryClient.invalidateQueries({ queryKey: trpc.designer.pathKey() })]);
  const live = useQuery({ ...trpc.designer.liveStatus.queryOptions({ flowId: saved?.id ?? '00000000-0000-0000-0000-000000000000' }), enabled: saved !== undefined, refetchInterval: 5_000 });
  const create = useMutation(trpc.flows.create.mutationOptions());
  const saveVersion = useMutation(trpc.flows.saveVersion.mutationOptions());
  const renameFlow = useMutation(trpc.flows.rename.mutationOptions({ onSuccess: invalidate }));
  const deployFlow = useMutation(trpc.flows.deploy.mutationOptions());
  const undeployFlow = useMutation(trpc.flows.undeploy.mutationOptions());

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

  /** Saves first when there are unsaved changes, then makes the newest version live. */
  const deploy = async () => {
    if (!saved) return;
    if (dirty && !(await save())) return;
    await deployFlow.mutateAsync({ flowId: saved.id });
    await invalidateLive();
  };

  const undeploy = () => {
    if (saved) undeployFlow.mutate({ flowId: saved.id }, { onSuccess: () => invalidateLive() });
  };

  const canRename = saved !== undefined && name.trim() !== '' && name !== saved.name;
  const rename = () => {
    if (saved && canRename) renameFlow.mutate({ flowId: saved.id, name });
  };

  const fitView = () => void flow.fitView(FIT_VIEW);
  const fitViewNextFrame = () => window.requestAnimationFrame(fitView);

  const importFile = async (file: File) => {
    const reading = readImportedFile(await file.text());
    setImportProblems(reading.problems.filter((p) => p.severity === 'error').map((p) => `${file.name}, line ${p.line}: ${p.message}`));
    if (!reading.graph) return;
    store.getState().replaceGraph(reading.graph, 'load');
    // A new flow takes the imported document's name (the DSL name follows the flow's title).
    if (!saved) setName(reading.name ?? reading.graph.document.title ?? reading.graph.document.name);
    fitViewNextFrame();
  };

  const fileBase = documentNameFor(saved?.name ?? name);
  const liveData = live.data;

  return {
    saved,
    editable,
    name,
    setName,
    compiled,
    diagnostics,
    byNode,
    /** The last refused action's message, for the live region. */
    notice,
    dirty,
    canUndo,
    canRedo,
    liveVersion: liveData ? (liveData.live ? liveData.version : undefined) : saved?.liveVersion,
    liveCounts: liveData?.live ? { eventsIn: liveData.eventsIn, failures: liveData.failures } : undefined,
    webhooks: liveData?.live ? liveData.webhooks : (deployFlow.data?.webhooks ?? []),
    /** A save or a deploy is under way. */
    busy: create.isPending || saveVersion.isPending || deployFlow.isPending,
    deploying: deployFlow.isPending,
    undeploying: undeployFlow.isPending,
    renaming: renameFlow.isPending,
    canRename,
    error: create.error ?? saveVersion.error ?? renameFlow.error ?? deployFlow.error ?? undeployFlow.error,
    saveProblems,
    importProblems,
    /** The flow's files are named after it: `<fileBase>.sw.yaml`, `<fileBase>.flow.json`. */
    fileBase,
    save,
    deploy,
    undeploy,
    rename,
    importFile,
    undo: () => store.getState().undo(),
    redo: () => store.getState().redo(),
    autoLayout: () => {
      store.getState().layout();
      fitViewNextFrame();
    },
    fitView,
    exportDsl: () => download(`${fileBase}.sw.yaml`, compiled.yaml, 'application/yaml'),
    exportFlowFile: () => download(`${fileBase}.flow.json`, flowFile(saved?.name ?? name, store.getState().graph()), 'application/json'),
  };
}

export type FlowWorkspace = ReturnType<typeof useFlowWorkspace>;
