'use client';

/**
 * The connector gallery: every connector kind with its description; "Deploy" opens the kind's
 * form (fields from the kind's zod schema, sent as JSON Schema), with "Test connection" and a
 * one-click deploy. Below, the configured connectors with their live status, polled.
 */
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { useTRPC } from '@/components/trpc-provider';
import { Button } from '@/components/ui/button';
import { Field } from '@/components/ui/field';
import { ErrorState, LoadingRows } from '@/components/ui/states';
import { PageHeader } from '@/components/ui/table';
import { ConnectorList } from './connector-list';

interface FieldSchema {
  type?: string;
  default?: unknown;
  description?: string;
  enum?: unknown[];
  anyOf?: FieldSchema[];
  const?: unknown;
  format?: string;
}

interface Kind {
  kind: string;
  title: string;
  description: string;
  direction: string;
  system: string;
  form: Record<string, unknown>;
  secretFields: string[];
}

/** The choices of an enum or of a union of constants (`qos: 0 | 1 | 2`). */
function choices(schema: FieldSchema): unknown[] | undefined {
  if (schema.enum) return schema.enum;
  if (schema.anyOf?.every((s) => 'const' in s)) return schema.anyOf.map((s) => s.const);
  return undefined;
}

function initialValues(properties: Record<string, FieldSchema>): Record<string, string> {
  return Object.fromEntries(Object.entries(properties).map(([name, s]) => [name, s.default === undefined ? '' : String(s.default)]));
}

/** Form strings back to the types the schema wants; empty optional fields are left out. */
function toConfig(properties: Record<string, FieldSchema>, values: Record<string, string>): Record<string, unknown> {
  const config: Record<string, unknown> = {};
  for (const [name, schema] of Object.entries(properties)) {
    const raw = values[name] ?? '';
    if (raw === '') continue;
    const options = choices(schema);
    const numeric = schema.type === 'number' || schema.type === 'integer' || (options?.every((o) => typeof o === 'number') ?? false);
    config[name] = schema.type === 'boolean' ? raw === 'true' : numeric ? Number(raw) : raw;
  }
  return config;
}

function DeployForm({ kind, onDone }: { kind: Kind; onDone: () => void }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const properties = (kind.form.properties ?? {}) as Record<string, FieldSchema>;
  const [name, setName] = useState(`my-${kind.kind}`);
  const [values, setValues] = useState(() => initialValues(properties));
  const [secrets, setSecrets] = useState<Record<string, string>>({});
  const test = useMutation(trpc.connectors.test.mutationOptions());
  const create = useMutation(
    trpc.connectors.create.mutationOptions({
      onSuccess: async () => {
        await queryClient.invalidateQueries({ queryKey: trpc.connectors.list.queryKey() });
        onDone();
      },
    }),
  );
  const config = toConfig(properties, values);
  const isSource = kind.direction === 'source';
  const id = (field: string) => `connector-${kind.kind}-${field}`;
  return (
    <form
      aria-label={`${kind.direction === 'source' ? 'Deploy' : 'Add'} ${kind.title}`}
      className="mt-3 space-y-3 border-t border-slate-200 pt-3"
      onSubmit={(e) => {
        e.preventDefault();
        create.mutate({ name, kind: kind.kind, config, secrets, deploy: isSource });
      }}
    >
      <Field id={id('name')} label="Name" value={name} onChange={(e) => setName(e.target.value)} required />
      {Object.entries(properties).map(([field, schema]) => {
        const options = choices(schema);
        if (options || schema.type === 'boolean') {
          const list = options ?? [false, true];
          return (
            <div key={field} className="space-y-1">
              <label htmlFor={id(field)} className="block text-sm font-medium text-slate-700">
                {field}
              </label>
              <select
                id={id(field)}
                value={values[field] ?? ''}
                onChange={(e) => setValues({ ...values, [field]: e.target.value })}
                className="block w-full rounded-md border border-slate-300 px-2 py-1.5 text-sm"
              >
                {schema.default === undefined ? <option value="">—</option> : null}
                {list.map((o) => (
                  <option key={String(o)} value={String(o)}>
                    {String(o)}
                  </option>
                ))}
              </select>
            </div>
          );
        }
        return (
          <div key={field}>
            <Field
              id={id(field)}
              label={field}
              type={schema.type === 'number' || schema.type === 'integer' ? 'number' : 'text'}
              value={values[field] ?? ''}
              onChange={(e) => setValues({ ...values, [field]: e.target.value })}
            />
            {schema.description ? <p className="mt-0.5 text-xs text-slate-500">{schema.description}</p> : null}
          </div>
        );
      })}
      {kind.secretFields.map((field) => (
        <Field
          key={field}
          id={id(field)}
          label={`${field} (stored encrypted, only ever sent to this connection)`}
          type="password"
          autoComplete="off"
          value={secrets[field] ?? ''}
          onChange={(e) => setSecrets({ ...secrets, [field]: e.target.value })}
        />
      ))}
      <div className="flex items-center gap-2">
        <Button type="button" variant="secondary" disabled={test.isPending} onClick={() => test.mutate({ kind: kind.kind, config, secrets })}>
          {test.isPending ? 'Testing…' : 'Test connection'}
        </Button>
        <Button type="submit" disabled={create.isPending}>
          {isSource ? 'Deploy' : 'Save'}
        </Button>
        <Button type="button" variant="secondary" onClick={onDone}>
          Cancel
        </Button>
      </div>
      {test.data ? (
        <p role="status" data-testid="test-result" className={`text-sm ${test.data.ok ? 'text-emerald-700' : 'text-rose-700'}`}>
          {test.data.ok ? `✓ ${test.data.message} (${test.data.ms} ms)` : `✗ ${test.data.message}`}
        </p>
      ) : null}
      {test.error ? <ErrorState message={test.error.message} /> : null}
      {create.error ? <ErrorState message={create.error.message} /> : null}
    </form>
  );
}

export function ConnectorGallery() {
  const trpc = useTRPC();
  const kinds = useQuery(trpc.connectors.kinds.queryOptions());
  const [open, setOpen] = useState<string | undefined>();
  return (
    <>
      <PageHeader title="Connectors" description="Bring events in from brokers and databases, or send them out, in one click." />
      <h2 className="mb-2 text-lg font-semibold text-slate-800">Gallery</h2>
      {kinds.isPending ? (
        <LoadingRows label="connector kinds" />
      ) : kinds.isError ? (
        <ErrorState message={kinds.error.message} />
      ) : (
        <ul className="mb-8 grid grid-cols-1 gap-3 md:grid-cols-2 xl:grid-cols-3" aria-label="Connector gallery">
          {kinds.data.map((kind) => (
            <li key={kind.kind} className="rounded-lg border border-slate-200 bg-white p-4 shadow-sm" data-testid={`gallery-${kind.kind}`}>
              <div className="flex items-start justify-between gap-2">
                <div>
                  <h3 className="font-medium text-slate-900">{kind.title}</h3>
                  <p className="text-xs uppercase tracking-wide text-slate-500">
                    {kind.direction} · {kind.system}
                  </p>
                </div>
                {open === kind.kind ? null : (
                  <Button variant="secondary" onClick={() => setOpen(kind.kind)} aria-label={`${kind.direction === 'source' ? 'Deploy' : 'Add'} ${kind.title}`}>
                    {kind.direction === 'source' ? 'Deploy' : 'Add'}
                  </Button>
                )}
              </div>
              <p className="mt-2 text-sm text-slate-600">{kind.description}</p>
              {open === kind.kind ? <DeployForm kind={kind} onDone={() => setOpen(undefined)} /> : null}
            </li>
          ))}
        </ul>
      )}
      <h2 className="mb-2 text-lg font-semibold text-slate-800">Deployed and configured</h2>
      <ConnectorList />
    </>
  );
}
