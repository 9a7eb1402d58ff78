import { z } from 'zod';
import {
  deployFlow,
  deployInput,
  flowIdInput,
  getFlow,
  listFlows,
  renameFlow,
  renameFlowInput,
  undeployFlow,
} from '../services/flows';
import { editorProcedure, router, viewerProcedure } from '../trpc';

export const flowsRouter = router({
  list: viewerProcedure.query(({ ctx }) => listFlows(ctx.db)),
  get: viewerProcedure.input(flowIdInput).query(({ ctx, input }) => getFlow(ctx.db, input.flowId)),
  rename: editorProcedure.input(renameFlowInput).mutation(({ ctx, input }) => renameFlow(ctx.db, input)),
  deploy: editorProcedure.input(deployInput).mutation(async ({ ctx, input }) => {
    const d = await deployFlow(ctx.db, input);
    return { deploymentId: d.id, status: d.status };
  }),
  undeploy: editorProcedure
    .input(z.object({ flowId: z.string().uuid() }))
    .mutation(({ ctx, input }) => undeployFlow(ctx.db, input.flowId)),
});
