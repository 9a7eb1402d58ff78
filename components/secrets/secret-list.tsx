'use client';

/**
 * Secrets users define, the only values a flow's `$secrets` can hold (each flow names the
 * ones it reads in `use.secrets`). Values are write-only: typed here once, stored encrypted,
 * never shown again; a new value replaces the old. Viewers see the names only.
 */
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { canEdit, useCurrentUser } from '@/components/layout/current-user';
import { useTRPC } from '@/components/trpc-provider';
import { Button } from '@/components/ui/button';
import { Field } from '@/components/ui/field';
import { formatTime } from '@/components/ui/format';
import { EmptyState, ErrorState, LoadingRows } from '@/components/ui/states';
import { PageHeader, Table, Td } from '@/components/ui/table';

const EMPTY = { name: '', value: '', description: '' };

function NewSecretForm() {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const [form, setForm] = useState(EMPTY);
  const create = useMutation(
    trpc.secrets.create.mutationOptions({
      onSuccess: () => {
        setForm(EMPTY);
        return queryClient.invalidateQueries({ queryKey: trpc.secrets.list.queryKey() });
      },
    }),
  );
  const fieldErrors = (create.error?.data as { fieldErrors?: Record<string, string[] | undefined> } | undefined)?.fieldErrors;
  return (
    <form
      aria-label="New secret"
      className="mb-6 grid max-w-4xl grid-cols-[1fr_1fr_2fr_auto] items-start gap-2"
      onSubmit={(e) => {
        e.preventDefault();
        create.mutate(form);
      }}
    >
      <Field id="secret-name" label="Name" value={form.name} onChange={(e) => setForm({ ...form, name: e.target.value })} placeholder="shop_api_token" error={fieldErrors?.name?.[0]} required />
      <Field
        id="secret-value"
        label="Value"
        type="password"
        autoComplete="off"
        value={form.value}
        onChange={(e) => setForm({ ...form, value: e.target.value })}
        error={fieldErrors?.value?.[0]}
        required
      />
      <Field id="secret-description" label="Description" value={form.description} onChange={(e) => setForm({ ...form, description: e.target.value })} placeholder="What it unlocks, who owns it" />
      <div className="pt-6">
        <Button type="submit" disabled={create.isPending}>
          Add secret
        </Button>
      </div>
      <p className="col-span-4 -mt-1 text-xs text-slate-500">The value is stored encrypted and never shown again, here or in run data; to change it, replace it.</p>
      {create.error && !fieldErrors ? (
        <div className="col-span-4">
          <ErrorState message={create.error.message} />
        </div>
      ) : null}
    </form>
  );
}

function ReplaceValue({ name, onDone }: { name: string; onDone: () => void }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const [value, setValue] = useState('');
  const update = useMutation(
    trpc.secrets.update.mutationOptions({
      onSuccess: async () => {
        await queryClient.invalidateQueries({ queryKey: trpc.secrets.list.queryKey() });
        onDone();
      },
    }),
  );
  return (
    <form
      aria-label={`New value for ${name}`}
      className="flex items-end gap-2"
      onSubmit={(e) => {
        e.preventDefault();
        update.mutate({ name, value });
      }}
    >
      <Field id={`secret-${name}-value`} label="New value" type="password" autoComplete="off" value={value} onChange={(e) => setValue(e.target.value)} required />
      <Button type="submit" disabled={update.isPending}>
        Save
      </Button>
      <Button type="button" variant="secondary" onClick={onDone}>
        Cancel
      </Button>
      {update.error ? <ErrorState message={update.error.message} /> : null}
    </form>
  );
}

export function SecretList() {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const user = useCurrentUser();
  const editor = canEdit(user);
  const secrets = useQuery(trpc.secrets.list.queryOptions());
  const [replacing, setReplacing] = useState<string | undefined>();
  const remove = useMutation(trpc.secrets.delete.mutationOptions({ onSuccess: () => queryClient.invalidateQueries({ queryKey: trpc.secrets.list.queryKey() }) }));
  return (
    <>
      <PageHeader
        title="Secrets"
        description="Values flows read as $secrets.<name> once they name them in use.secrets, and webhook sources check signatures with. Values are stored encrypted and never shown again; run data shows them as ***."
      />
      {editor ? <NewSecretForm /> : null}
      {remove.error ? <ErrorState message={remove.error.message} /> : null}
      {secrets.isPending ? (
        <LoadingRows label="secrets" />
      ) : secrets.isError ? (
        <ErrorState message={secrets.error.message} />
      ) : secrets.data.length === 0 ? (
        <EmptyState title="No secrets yet">{editor ? 'Add one above: an API token, a webhook signing key, a password.' : 'An editor can add them.'}</EmptyState>
      ) : (
        <Table label="Secrets" head={['Name', 'Value', 'Description', 'Updated', '']}>
          {secrets.data.map((s) => (
            <tr key={s.id} data-testid={`secret-${s.name}`}>
              <Td className="font-mono font-medium">{s.name}</Td>
              <Td className="font-mono text-slate-400">
                <span aria-label="value hidden">••••••••</span>
              </Td>
              <Td>{s.description || <span className="text-slate-400">—</span>}</Td>
              <Td>
                {formatTime(s.updatedAt)}
                {s.updatedBy ? <div className="text-xs text-slate-400">{s.updatedBy}</div> : null}
              </Td>
              <Td>
                {!editor ? null : replacing === s.name ? (
                  <ReplaceValue name={s.name} onDone={() => setReplacing(undefined)} />
                ) : (
                  <div className="flex gap-2">
                    <Button variant="secondary" onClick={() => setReplacing(s.name)} aria-label={`Replace the value of ${s.name}`}>
                      Replace value
                    </Button>
                    <Button
                      variant="danger"
                      aria-label={`Delete ${s.name}`}
                      onClick={() => {
                        if (window.confirm(`Delete the secret ${s.name}? Flows that name it in use.secrets will fail until it is defined again.`)) remove.mutate({ name: s.name });
                      }}
                    >
                      Delete
                    </Button>
                  </div>
                )}
              </Td>
            </tr>
          ))}
        </Table>
      )}
    </>
  );
}
