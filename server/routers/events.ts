import { tracked } from '@trpc/server';
import { pool } from '../db';
import { eventRefInput, explainEventByRef, explainInput, getEvent, listEvents, listEventsInput, tailEvents, tailInput } from '../services/events';
import { testFilter, testFilterInput } from '../services/filter-test';
import { router, viewerProcedure } from '../trpc';

export const eventsRouter = router({
  /** A page of events, newest first by sequence number, with `nextCursor`. */
  list: viewerProcedure.input(listEventsInput).query(({ input }) => listEvents(pool(), input)),
  get: viewerProcedure.input(eventRefInput).query(({ input }) => getEvent(pool(), input.seq)),
  /** Why an event did or did not run, per deployment that considered it (`meshflow events explain`). */
  explain: viewerProcedure.input(explainInput).query(({ input }) => explainEventByRef(pool(), input.ref)),
  /** The live tail over SSE; each event is tracked by its seq, so a reconnect resumes after the last one seen. */
  tail: viewerProcedure.input(tailInput).subscription(async function* ({ input, signal }) {
    for await (const event of tailEvents(pool(), input, signal)) yield tracked(event.seq, event);
  }),
  /** Evaluates a filter against a sample event without deploying anything. */
  testFilter: viewerProcedure.input(testFilterInput).mutation(({ input }) => testFilter(input)),
});
