import { pool } from '../db';
import { deadLetterFlows, discard, discardInput, listDeadLettersForStudio, listDeadLettersInput, replay, replayInput } from '../services/dead-letters';
import { editorProcedure, router, viewerProcedure } from '../trpc';

export const deadLettersRouter = router({
  /** A page of letters, newest first, with `nextCursor` and the filter's `total`. */
  list: viewerProcedure.input(listDeadLettersInput).query(({ input }) => listDeadLettersForStudio(pool(), input)),
  flows: viewerProcedure.query(() => deadLetterFlows(pool())),
  /** To the flow's live version unless `to: 'original'`; `every` goes a chunk per call, following `nextCursor`. */
  replay: editorProcedure.input(replayInput).mutation(({ input }) => replay(pool(), input)),
  discard: editorProcedure.input(discardInput).mutation(({ input }) => discard(pool(), input)),
});
