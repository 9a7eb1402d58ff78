import {
  catalogSearchInput,
  diffInput,
  diffVersions,
  exportAsyncApi,
  exportInput,
  getEventType,
  importAsyncApi,
  importInput,
  listEventTypes,
  registerEventType,
  registerTypeInput,
  typeNameInput,
  updateEventType,
  updateTypeInput,
} from '../services/catalog';
import { editorProcedure, router, viewerProcedure } from '../trpc';

export const catalogRouter = router({
  eventTypes: viewerProcedure.input(catalogSearchInput).query(({ ctx, input }) => listEventTypes(ctx.db, input)),
  eventType: viewerProcedure.input(typeNameInput).query(({ ctx, input }) => getEventType(ctx.db, input)),
  diff: viewerProcedure.input(diffInput).query(({ ctx, input }) => diffVersions(ctx.db, input)),
  register: editorProcedure.input(registerTypeInput).mutation(({ ctx, input }) => registerEventType(ctx.db, input)),
  update: editorProcedure.input(updateTypeInput).mutation(({ ctx, input }) => updateEventType(ctx.db, input)),
  exportAsyncApi: viewerProcedure.input(exportInput).query(({ ctx, input }) => exportAsyncApi(ctx.db, input)),
  importAsyncApi: editorProcedure.input(importInput).mutation(({ ctx, input }) => importAsyncApi(ctx.db, input)),
});
