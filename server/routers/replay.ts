/**
 * Trying a change on real traffic: dry-run replays of logged events against a candidate
 * version (services/replay.ts), backfills that replay a selection for real to a version
 * (services/backfill.ts), and how long events stay replayable.
 */
import { z } from 'zod';
import { pool } from '../db';
import { env } from '../env';
import { backfillIdInput, controlBackfill, getBackfill, listBackfills, startBackfill, startBackfillInput, stepBackfill, controlBackfillInput } from '../services/backfill';
import { dryRunReplay, dryRunReplayInput } from '../services/replay';
import { editorProcedure, router, viewerProcedure } from '../trpc';

export const replayRouter = router({
  /** Per event, what the live version and the candidate would send, and the difference; nothing is sent. Editors only, as test runs. */
  dryRun: editorProcedure.input(dryRunReplayInput).mutation(({ ctx, input }) => dryRunReplay({ db: ctx.db, pool: pool(), secretKey: ctx.secretKey }, input)),

  /** How long events stay in the log, and so replayable (MESHFLOW_EVENT_RETENTION_HOURS, read by the worker's retention sweep). */
  retention: viewerProcedure.query(() => {
    const hours = env().MESHFLOW_EVENT_RETENTION_HOURS;
    return { hours, setting: 'MESHFLOW_EVENT_RETENTION_HOURS' };
  }),

  startBackfill: editorProcedure.input(startBackfillInput).mutation(({ ctx, input }) => startBackfill({ db: ctx.db, pool: pool(), userId: ctx.user?.id }, input)),
  /** Works the next chunk (as many events as the rate allows); call again after `waitMs` until the status is not `running`. */
  stepBackfill: editorProcedure.input(backfillIdInput).mutation(({ ctx, input }) => stepBackfill({ db: ctx.db, pool: pool() }, input.id)),
  controlBackfill: editorProcedure.input(controlBackfillInput).mutation(({ ctx, input }) => controlBackfill(ctx.db, input)),
  backfill: viewerProcedure.input(backfillIdInput).query(({ ctx, input }) => getBackfill(ctx.db, input.id)),
  backfills: viewerProcedure.input(z.object({ flowId: z.string().uuid('must be a flow id') })).query(({ ctx, input }) => listBackfills(ctx.db, input.flowId)),
});
