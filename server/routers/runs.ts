import { pool } from '../db';
import {
  controlRun,
  getRun,
  listRuns,
  listRunsInput,
  rerunWithEditedEvent,
  rerunWithEventInput,
  rerunWithSameEvent,
  runControlInput,
  runFilterOptions,
  runIdInput,
} from '../services/runs';
import { secretsMasker } from '../services/secrets';
import { getPipelineRun } from '../services/pipeline-runs';
import { editorProcedure, router, viewerProcedure } from '../trpc';

export const runsRouter = router({
  /** A page of runs, newest first, with `nextCursor`. */
  list: viewerProcedure.input(listRunsInput).query(({ input }) => listRuns(pool(), input)),
  filters: viewerProcedure.query(() => runFilterOptions(pool())),
  // The worker masks what it records; this also covers rows written before a secret was defined.
  get: viewerProcedure.input(runIdInput).query(async ({ ctx, input }) => (await secretsMasker(ctx.db, ctx.secretKey))(await getRun(pool(), input.id))),
  /** One event through one pipeline deployment, as a run with a per-node timeline. */
  pipeline: viewerProcedure.input(runIdInput).query(async ({ ctx, input }) => (await secretsMasker(ctx.db, ctx.secretKey))(await getPipelineRun(pool(), input.id))),
  rerun: editorProcedure.input(runIdInput).mutation(({ input }) => rerunWithSameEvent(pool(), input.id)),
  rerunWithEvent: editorProcedure.input(rerunWithEventInput).mutation(({ input }) => rerunWithEditedEvent(pool(), input.id, input.event)),
  control: editorProcedure.input(runControlInput).mutation(({ input }) => controlRun(pool(), input.id, input.action)),
});
