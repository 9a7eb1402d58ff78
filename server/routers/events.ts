import { listEvents, listEventsInput } from '../services/events';
import { router, viewerProcedure } from '../trpc';

export const eventsRouter = router({
  list: viewerProcedure.input(listEventsInput).query(({ ctx, input }) => listEvents(ctx.db, input)),
});
