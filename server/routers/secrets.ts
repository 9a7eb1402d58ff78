import { createSecret, deleteSecret, listSecrets, newSecretInput, secretNameInput, updateSecret, updateSecretInput } from '../services/secrets';
import { editorProcedure, router, viewerProcedure } from '../trpc';

export const secretsRouter = router({
  /** Names and descriptions; values are write-only. */
  list: viewerProcedure.query(({ ctx }) => listSecrets(ctx.db)),
  create: editorProcedure.input(newSecretInput).mutation(({ ctx, input }) => createSecret(ctx.db, ctx.secretKey, input, ctx.user.email)),
  update: editorProcedure.input(updateSecretInput).mutation(({ ctx, input }) => updateSecret(ctx.db, ctx.secretKey, input, ctx.user.email)),
  delete: editorProcedure.input(secretNameInput).mutation(({ ctx, input }) => deleteSecret(ctx.db, input)),
});
