/** The API's manifest: one sub-router per domain. */
import { createCallerFactory, router } from '../trpc';
import { accountRouter } from './account';
import { catalogRouter } from './catalog';
import { connectorsRouter } from './connectors';
import { deadLettersRouter } from './dead-letters';
import { designerRouter } from './designer';
import { eventsRouter } from './events';
import { flowsRouter } from './flows';
import { overviewRouter } from './overview';
import { replayRouter } from './replay';
import { runsRouter } from './runs';
import { secretsRouter } from './secrets';
import { systemRouter } from './system';

export const appRouter = router({
  account: accountRouter,
  flows: flowsRouter,
  designer: designerRouter,
  catalog: catalogRouter,
  connectors: connectorsRouter,
  secrets: secretsRouter,
  runs: runsRouter,
  events: eventsRouter,
  deadLetters: deadLettersRouter,
  replay: replayRouter,
  overview: overviewRouter,
  system: systemRouter,
});

export type AppRouter = typeof appRouter;
export const createCaller = createCallerFactory(appRouter);
