import { catalogSearchInput, listEventTypes } from '../services/catalog';
import { router, viewerProcedure } from '../trpc';

export const catalogRouter = router({
  eventTypes: viewerProcedure.input(catalogSearchInput).query(({ ctx, input }) => listEventTypes(ctx.db, input)),
});
