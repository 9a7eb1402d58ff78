import { listEvents, listEventsInput } from '../services/events';
import { testFilter, testFilterInput } from '../services/filter-test';
import { router, viewerProcedure } from '../trpc';

export const eventsRouter = router({
  list: viewerProcedure.input(listEventsInput).query(({ ctx, input }) => listEvents(ctx.db, input)),
  /** Evaluates a filter against a sample event without deploying anything. */
  testFilter: viewerProcedure.input(testFilterInput).mutation(({ input }) => testFilter(input)),
});
