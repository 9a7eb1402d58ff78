import { createConnector, listConnectors, newConnectorInput } from '../services/connectors';
import { editorProcedure, router, viewerProcedure } from '../trpc';

export const connectorsRouter = router({
  list: viewerProcedure.query(({ ctx }) => listConnectors(ctx.db)),
  create: editorProcedure
    .input(newConnectorInput)
    .mutation(({ ctx, input }) => createConnector(ctx.db, ctx.secretKey, input)),
});
