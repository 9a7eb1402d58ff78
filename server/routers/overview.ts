import { pool } from '../db';
import { env } from '../env';
import { lastHour, workerOverview } from '../services/overview';
import { router, viewerProcedure } from '../trpc';

export const overviewRouter = router({
  lastHour: viewerProcedure.query(() => lastHour(pool())),
  worker: viewerProcedure.query(({ ctx }) => workerOverview(pool(), ctx.workerUrl, env().MESHFLOW_METRICS_TOKEN)),
});
