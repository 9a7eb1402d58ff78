import { env } from '../env';
import {
  compileFlowGraph,
  compileGraphInput,
  createFlow,
  createFlowInput,
  deleteFlow,
  deployFlow,
  deployInput,
  diffInput,
  diffVersions,
  flowDeletionImpact,
  flowIdInput,
  getFlow,
  getVersion,
  importDsl,
  importDslInput,
  listFlows,
  listVersions,
  listVersionsInput,
  renameFlow,
  renameFlowInput,
  rollbackFlow,
  rollbackInput,
  saveByName,
  saveByNameInput,
  saveVersion,
  saveVersionInput,
  undeployFlow,
  versionInput,
  webhookUrls,
} from '../services/flows';
import { editorProcedure, router, viewerProcedure } from '../trpc';

export const flowsRouter = router({
  list: viewerProcedure.query(({ ctx }) => listFlows(ctx.db)),
  get: viewerProcedure.input(flowIdInput).query(({ ctx, input }) => getFlow(ctx.db, input.flowId)),
  rename: editorProcedure.input(renameFlowInput).mutation(({ ctx, input }) => renameFlow(ctx.db, input)),
  /** Saves return `{ ok: false, diagnostics }` instead of storing a graph with errors. */
  create: editorProcedure.input(createFlowInput).mutation(({ ctx, input }) => createFlow(ctx.db, input)),
  saveVersion: editorProcedure.input(saveVersionInput).mutation(({ ctx, input }) => saveVersion(ctx.db, input)),
  /** For `meshflow deploy`: a new version of the flow of the graph's document name, or a new flow. */
  saveByName: editorProcedure.input(saveByNameInput).mutation(({ ctx, input }) => saveByName(ctx.db, input)),
  importDsl: editorProcedure.input(importDslInput).mutation(({ ctx, input }) => importDsl(ctx.db, input)),
  rollback: editorProcedure.input(rollbackInput).mutation(({ ctx, input }) => rollbackFlow(ctx.db, input)),
  /** A mutation although it stores nothing: a graph is too large for a GET request's URL. */
  compile: viewerProcedure.input(compileGraphInput).mutation(({ ctx, input }) => compileFlowGraph(ctx.db, input)),
  versions: viewerProcedure.input(listVersionsInput).query(({ ctx, input }) => listVersions(ctx.db, input)),
  version: viewerProcedure.input(versionInput).query(({ ctx, input }) => getVersion(ctx.db, input)),
  diff: viewerProcedure.input(diffInput).query(({ ctx, input }) => diffVersions(ctx.db, input)),
  deploy: editorProcedure.input(deployInput).mutation(async ({ ctx, input }) => {
    const d = await deployFlow(ctx.db, input);
    const e = env();
    return {
      deploymentId: d.id,
      status: d.status,
      version: d.version,
      webhooks: webhookUrls(d.dslYaml, e.MESHFLOW_WORKER_PUBLIC_URL ?? e.MESHFLOW_WORKER_URL),
    };
  }),
  undeploy: editorProcedure.input(flowIdInput).mutation(({ ctx, input }) => undeployFlow(ctx.db, input.flowId)),
  /** What deleting the flow stops and removes, for the confirmation shown first. */
  deletion: viewerProcedure.input(flowIdInput).query(({ ctx, input }) => {
    const e = env();
    return flowDeletionImpact(ctx.db, input.flowId, e.MESHFLOW_WORKER_PUBLIC_URL ?? e.MESHFLOW_WORKER_URL);
  }),
  /** Undeploys, then deletes the flow with its versions and runs; events stay in the log. */
  delete: editorProcedure.input(flowIdInput).mutation(({ ctx, input }) => deleteFlow(ctx.db, input.flowId)),
});
