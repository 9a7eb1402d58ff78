import { z } from 'zod';
import { publicProcedure, router } from '../trpc';

const workerHealth = z.object({ status: z.string(), deployments: z.number().optional() }).passthrough();

export const systemRouter = router({
  /** Whether the runtime worker answers; the studio's header shows it. */
  workerHealth: publicProcedure.query(async ({ ctx }) => {
    try {
      const res = await fetch(new URL('/health', ctx.workerUrl), { signal: AbortSignal.timeout(2000) });
      if (!res.ok) return { up: false as const, detail: `worker answered ${res.status}` };
      const body = workerHealth.parse(await res.json());
      return { up: true as const, detail: `${body.deployments ?? 0} deployment(s) loaded` };
    } catch (error) {
      return { up: false as const, detail: `worker unreachable at ${ctx.workerUrl}: ${(error as Error).message}` };
    }
  }),
});
