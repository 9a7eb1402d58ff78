import {
  connectorIdInput,
  createConnector,
  deleteConnector,
  listConnectorKinds,
  listConnectors,
  newConnectorInput,
  setDeployed,
  testConnection,
  testConnectionInput,
  updateConnector,
  updateConnectorInput,
} from '../services/connectors';
import { editorProcedure, router, viewerProcedure } from '../trpc';

export const connectorsRouter = router({
  kinds: viewerProcedure.query(() => listConnectorKinds()),
  list: viewerProcedure.query(({ ctx }) => listConnectors(ctx.db)),
  create: editorProcedure.input(newConnectorInput).mutation(({ ctx, input }) => createConnector(ctx.db, ctx.secretKey, input)),
  update: editorProcedure.input(updateConnectorInput).mutation(({ ctx, input }) => updateConnector(ctx.db, ctx.secretKey, input)),
  test: editorProcedure.input(testConnectionInput).mutation(({ ctx, input }) => testConnection(ctx.db, ctx.secretKey, input)),
  deploy: editorProcedure.input(connectorIdInput).mutation(({ ctx, input }) => setDeployed(ctx.db, input.id, true)),
  undeploy: editorProcedure.input(connectorIdInput).mutation(({ ctx, input }) => setDeployed(ctx.db, input.id, false)),
  delete: editorProcedure.input(connectorIdInput).mutation(({ ctx, input }) => deleteConnector(ctx.db, input.id)),
});
