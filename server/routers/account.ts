import { z } from 'zod';
import {
  createAccount,
  createOwner,
  endSessions,
  listUsers,
  needsOwner,
  newAccountInput,
  setDisabled,
  setDisabledInput,
  setRole,
  setRoleInput,
  userIdInput,
} from '../services/accounts';
import { createToken, createTokenInput, listTokens, revokeToken, revokeUserTokens } from '../services/api-tokens';
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
  /** Disable (ends sessions, revokes tokens, refuses sign-in) or re-enable a person. */
  setDisabled: adminProcedure
    .input(setDisabledInput)
    .mutation(({ ctx, input }) => setDisabled(ctx.db, ctx.user.id, input)),
  /** Sign a person out everywhere. */
  endSessions: adminProcedure.input(userIdInput).mutation(({ ctx, input }) => endSessions(ctx.db, input)),
  /** Revoke every API token of a person. */
  revokeUserTokens: adminProcedure
    .input(userIdInput)
    .mutation(({ ctx, input }) => revokeUserTokens(ctx.db, input.userId)),
  tokens: viewerProcedure.query(({ ctx }) => listTokens(ctx.db, ctx.user.id)),
  createToken: viewerProcedure
    .input(createTokenInput)
    .mutation(({ ctx, input }) => createToken(ctx.db, ctx.user.id, input)),
  revokeToken: viewerProcedure
    .input(z.object({ id: z.string().uuid() }))
    .mutation(({ ctx, input }) => revokeToken(ctx.db, ctx.user.id, input.id)),
});
