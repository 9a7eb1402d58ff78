'use client';

import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { useCurrentUser } from '@/components/layout/current-user';
import { useTRPC } from '@/components/trpc-provider';
import { Button } from '@/components/ui/button';
import { Field } from '@/components/ui/field';
import { formatTime } from '@/components/ui/format';
import { EmptyState, ErrorState, LoadingRows } from '@/components/ui/states';
import { PageHeader, Table, Td } from '@/components/ui/table';

export function SettingsPage() {
  const user = useCurrentUser();
  return (
    <>
      <PageHeader title="Settings" description="API tokens for the CLI and scripts; people, their roles and their access." />
      <ApiTokens />
      <EventRetention />
      {user.role === 'admin' ? <Users /> : null}
    </>
  );
}

/** How long events stay in the log, and so replayable and backfillable: the worker's retention sweep setting. */
function EventRetention() {
  const trpc = useTRPC();
  const retention = useQuery(trpc.replay.retention.queryOptions());
  return (
    <section aria-labelledby="retention-heading" className="mb-10">
      <h2 id="retention-heading" className="mb-3 text-lg font-semibold">
        Event retention
      </h2>
      {retention.error ? <ErrorState message={retention.error.message} /> : null}
      {retention.data ? (
        <p className="text-sm" data-testid="settings-retention">
          Accepted events are kept for {retention.data.hours} hours ({Math.round((retention.data.hours / 24) * 10) / 10} days), then the worker removes them; until then they can be
          replayed in the designer (“Past events”), with <code>meshflow replay</code>, and backfilled. Set <code>{retention.data.setting}</code> for the studio and the worker to change it.
        </p>
      ) : null}
    </section>
  );
}

function ApiTokens() {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const tokens = useQuery(trpc.account.tokens.queryOptions());
  const [name, setName] = useState('');
  const [created, setCreated] = useState<string | null>(null);
  const invalidate = () => queryClient.invalidateQueries({ queryKey: trpc.account.tokens.queryKey() });
  const create = useMutation(
    trpc.account.createToken.mutationOptions({
      onSuccess: (t) => {
        setCreated(t.token);
        setName('');
        return invalidate();
      },
    }),
  );
  const revoke = useMutation(trpc.account.revokeToken.mutationOptions({ onSuccess: invalidate }));
  return (
    <section aria-labelledby="tokens-heading" className="mb-10">
      <h2 id="tokens-heading" className="mb-3 text-lg font-semibold">
        API tokens
      </h2>
      <form
        className="mb-4 flex items-end gap-2"
        onSubmit={(e) => {
          e.preventDefault();
          create.mutate({ name });
        }}
      >
        <Field id="token-name" label="Token name" value={name} onChange={(e) => setName(e.target.value)} placeholder="ci-deploy" />
        <Button type="submit" disabled={!name || create.isPending}>
          Create token
        </Button>
      </form>
      {created ? (
        <div role="status" className="mb-4 rounded-md bg-amber-50 p-3 text-sm text-amber-900 ring-1 ring-amber-200">
          Copy it now, it is not shown again: <code data-testid="new-token" className="font-mono">{created}</code>
        </div>
      ) : null}
      {create.error ? <ErrorState message={create.error.message} /> : null}
      {tokens.isPending ? (
        <LoadingRows label="tokens" />
      ) : tokens.isError ? (
        <ErrorState message={tokens.error.message} />
      ) : tokens.data.length === 0 ? (
        <EmptyState title="No API tokens">Create one to use the meshflow CLI against this studio.</EmptyState>
      ) : (
        <Table label="API tokens" head={['Name', 'Token', 'Created', 'Last used', '']}>
          {tokens.data.map((t) => (
            <tr key={t.id}>
              <Td>{t.name}</Td>
              <Td className="font-mono text-xs">{t.prefix}…</Td>
              <Td>{formatTime(t.createdAt)}</Td>
              <Td>{formatTime(t.lastUsedAt)}</Td>
              <Td>
                <Button variant="secondary" onClick={() => revoke.mutate({ id: t.id })}>
                  Revoke
                </Button>
              </Td>
            </tr>
          ))}
        </Table>
      )}
    </section>
  );
}

function Users() {
  const user = useCurrentUser();
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const users = useQuery(trpc.account.users.queryOptions());
  const [form, setForm] = useState({ name: '', email: '', password: '', role: 'viewer' as 'viewer' | 'editor' | 'admin' });
  const invalidate = () => queryClient.invalidateQueries({ queryKey: trpc.account.users.queryKey() });
  const create = useMutation(
    trpc.account.createUser.mutationOptions({
      onSuccess: () => {
        setForm({ name: '', email: '', password: '', role: 'viewer' });
        return invalidate();
      },
    }),
  );
  const setRole = useMutation(trpc.account.setRole.mutationOptions({ onSuccess: invalidate }));
  const [notice, setNotice] = useState<string | null>(null);
  const setDisabled = useMutation(
    trpc.account.setDisabled.mutationOptions({
      onSuccess: (r, input) => {
        setNotice(
          input.disabled
            ? `Disabled: ${r.endedSessions} session(s) ended, ${r.revokedTokens} API token(s) revoked.`
            : 'Re-enabled: they can sign in again (their old API tokens stay revoked).',
        );
        return invalidate();
      },
    }),
  );
  const endSessions = useMutation(
    trpc.account.endSessions.mutationOptions({
      onSuccess: (r) => {
        setNotice(`Signed out everywhere: ${r.endedSessions} session(s) ended.`);
        return invalidate();
      },
    }),
  );
  const revokeTokens = useMutation(
    trpc.account.revokeUserTokens.mutationOptions({
      onSuccess: (r) => {
        setNotice(`${r.revokedTokens} API token(s) revoked.`);
        return invalidate();
      },
    }),
  );
  const actionError = setRole.error ?? setDisabled.error ?? endSessions.error ?? revokeTokens.error;
  return (
    <section aria-labelledby="users-heading">
      <h2 id="users-heading" className="mb-3 text-lg font-semibold">
        People
      </h2>
      <form
        className="mb-4 grid max-w-3xl grid-cols-5 items-end gap-2"
        onSubmit={(e) => {
          e.preventDefault();
          create.mutate(form);
        }}
      >
        <Field id="user-name" label="Name" value={form.name} onChange={(e) => setForm({ ...form, name: e.target.value })} />
        <Field id="user-email" label="Email" type="email" value={form.email} onChange={(e) => setForm({ ...form, email: e.target.value })} />
        <Field id="user-password" label="Password" type="password" value={form.password} onChange={(e) => setForm({ ...form, password: e.target.value })} />
        <div className="space-y-1">
          <label htmlFor="user-role" className="block text-sm font-medium text-slate-700">
            Role
          </label>
          <select
            id="user-role"
            value={form.role}
            onChange={(e) => setForm({ ...form, role: e.target.value as typeof form.role })}
            className="block w-full rounded-md border border-slate-300 px-2 py-1.5 text-sm"
          >
            <option value="viewer">viewer</option>
            <option value="editor">editor</option>
            <option value="admin">admin</option>
          </select>
        </div>
        <Button type="submit" disabled={create.isPending}>
          Add person
        </Button>
      </form>
      {create.error ? <ErrorState message={create.error.message} /> : null}
      {actionError ? <ErrorState message={actionError.message} /> : null}
      {notice && !actionError ? (
        <div role="status" className="mb-4 rounded-md bg-emerald-50 p-3 text-sm text-emerald-900 ring-1 ring-emerald-200">
          {notice}
        </div>
      ) : null}
      {users.isPending ? (
        <LoadingRows label="people" />
      ) : users.isError ? (
        <ErrorState message={users.error.message} />
      ) : (
        <Table label="People" head={['Name', 'Email', 'Role', 'Access', 'Actions']}>
          {users.data.map((u) => (
            <tr key={u.id} data-testid={`person-${u.email}`} className={u.disabled ? 'bg-slate-50 text-slate-400' : undefined}>
              <Td>
                {u.name}
                <span className="block whitespace-nowrap text-xs text-slate-500">
                  since {new Date(u.createdAt).toLocaleDateString(undefined, { dateStyle: 'medium' })}
                </span>
              </Td>
              <Td>{u.email}</Td>
              <Td>
                <label className="sr-only" htmlFor={`role-${u.id}`}>
                  Role of {u.email}
                </label>
                <select
                  id={`role-${u.id}`}
                  value={u.role}
                  onChange={(e) => setRole.mutate({ userId: u.id, role: e.target.value as 'viewer' | 'editor' | 'admin' })}
                  className="rounded-md border border-slate-300 px-2 py-1 text-sm"
                >
                  <option value="viewer">viewer</option>
                  <option value="editor">editor</option>
                  <option value="admin">admin</option>
                </select>
              </Td>
              <Td className="whitespace-nowrap">
                {u.disabled ? (
                  <span className="rounded bg-rose-100 px-2 py-0.5 text-xs font-medium text-rose-800">Disabled</span>
                ) : (
                  <span className="rounded bg-emerald-100 px-2 py-0.5 text-xs font-medium text-emerald-800">Active</span>
                )}
                <span className="mt-1 block text-xs text-slate-500" data-testid="access-counts">
                  {u.activeSessions} session{u.activeSessions === 1 ? '' : 's'} · {u.activeTokens} token{u.activeTokens === 1 ? '' : 's'}
                </span>
              </Td>
              <Td className="whitespace-nowrap">
                {u.id === user.id ? (
                  <span className="text-xs text-slate-500">you</span>
                ) : (
                  <div className="flex gap-1.5">
                    {u.disabled ? (
                      <Button
                        variant="secondary"
                        aria-label={`Enable ${u.email}`}
                        onClick={() => setDisabled.mutate({ userId: u.id, disabled: false })}
                      >
                        Enable
                      </Button>
                    ) : (
                      <Button
                        variant="danger"
                        aria-label={`Disable ${u.email}`}
                        onClick={() => {
                          if (window.confirm(`Disable ${u.email}? Their sessions end and their API tokens are revoked now; they cannot sign in until re-enabled.`)) {
                            setDisabled.mutate({ userId: u.id, disabled: true });
                          }
                        }}
                      >
                        Disable
                      </Button>
                    )}
                    <Button
                      variant="secondary"
                      aria-label={`End the sessions of ${u.email}`}
                      disabled={u.activeSessions === 0}
                      onClick={() => endSessions.mutate({ userId: u.id })}
                    >
                      End sessions
                    </Button>
                    <Button
                      variant="secondary"
                      aria-label={`Revoke the API tokens of ${u.email}`}
                      disabled={u.activeTokens === 0}
                      onClick={() => revokeTokens.mutate({ userId: u.id })}
                    >
                      Revoke tokens
                    </Button>
                  </div>
                )}
              </Td>
            </tr>
          ))}
        </Table>
      )}
    </section>
  );
}
