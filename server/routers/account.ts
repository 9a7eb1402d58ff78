import { z } from 'zod';
import {
  createAccount,
  createOwner,
  listUsers,
  needsOwner,
  newAccountInput,
  setRole,
  setRoleInput,
} from '../services/accounts';
import { createToken, createTokenInput, listTokens, revokeToken } from '../services/api-tokens';
import { roles } from '../services/roles';
import { adminProcedure, publicProcedure, router, viewerProcedure } from '../trpc';

export const accountRouter = router({
  /** Whether the studio still waits for its owner; readable before anyone signs in. */
  needsOwner: publicProcedure.query(({ ctx }) => needsOwner(ctx.db)),
  createOwner: publicProcedure.input(newAccountInput).mutation(({ ctx, input }) => createOwner(ctx.db, input)),
  me: publicProcedure.query(({ ctx }) => ctx.user),
  users: adminProcedure.query(({ ctx }) => listUsers(ctx.db)),
  createUser: adminProcedure
    .input(newAccountInput.extend({ role: z.enum(roles) }))
    .mutation(({ ctx, input }) => createAccount(ctx.db, input, input.role)),
  setRole: adminProcedure.input(setRoleInput).mutation(({ ctx, input }) => setRole(ctx.db, ctx.user.id, input)),
  tokens: viewerProcedure.query(({ ctx }) => listTokens(ctx.db, ctx.user.id)),
  createToken: viewerProcedure
    .input(createTokenInput)
    .mutation(({ ctx, input }) => createToken(ctx.db, ctx.user.id, input)),
  revokeToken: viewerProcedure
    .input(z.object({ id: z.string().uuid() }))
    .mutation(({ ctx, input }) => revokeToken(ctx.db, ctx.user.id, input.id)),
});
