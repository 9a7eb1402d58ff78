import { pool } from '../db';
import { deadLetterFilterInput, discard, discardInput, listDeadLettersForStudio, replay, replayInput } from '../services/dead-letters';
import { editorProcedure, router, viewerProcedure } from '../trpc';

export const deadLettersRouter = router({
  list: viewerProcedure.input(deadLetterFilterInput).query(({ input }) => listDeadLettersForStudio(pool(), input)),
  replay: editorProcedure.input(replayInput).mutation(({ input }) => replay(pool(), input)),
  discard: editorProcedure.input(discardInput).mutation(({ input }) => discard(pool(), input)),
});
