import { listRuns, listRunsInput } from '../services/runs';
import { router, viewerProcedure } from '../trpc';

export const runsRouter = router({
  list: viewerProcedure.input(listRunsInput).query(({ ctx, input }) => listRuns(ctx.db, input)),
});
