'use client';

import { useState } from 'react';
import { z } from 'zod';
import type { NodeDefinition } from '@/runtime/nodes/index';
import { ExpressionField } from './expression-field';

/** The slice of JSON Schema (from `z.toJSONSchema`) the form reads. */
interface FieldSchema {
  type?: string | string[];
  enum?: unknown[];
  const?: unknown;
  description?: string;
  default?: unknown;
  properties?: Record<string, FieldSchema>;
  additionalProperties?: unknown;
  required?: string[];
  /** From `.meta({ expression })` in the node's schema: the field holds an expression. */
  expression?: 'jq' | 'runtime';
}

const inputClass =
  'block w-full rounded-md border border-slate-300 bg-white px-2 py-1 text-sm aria-[invalid=true]:border-rose-500 dark:border-slate-600 dark:bg-slate-900';

export function configSchemaOf(def: NodeDefinition): FieldSchema | undefined {
  try {
    return z.toJSONSchema(def.schema, { io: 'input', unrepresentable: 'any' }) as FieldSchema;
  } catch {
    return undefined;
  }
}

/** Problems of a config, keyed by dotted path (`auth.token`); the whole-config problem under ''. */
export function configProblems(def: NodeDefinition, config: unknown): Record<string, string> {
  const parsed = def.schema.safeParse(config);
  if (parsed.success) return {};
  const problems: Record<string, string> = {};
  for (const issue of parsed.error.issues) {
    const key = issue.path.map(String).join('.');
    problems[key] ??= issue.message;
  }
  return problems;
}

function sameJson(text: string, json: string): boolean {
  try {
    return JSON.stringify(JSON.parse(text), null, 2) === json;
  } catch {
    return false;
  }
}

function humanize(name: string): string {
  const spaced = name.replace(/([a-z])([A-Z])/g, '$1 $2').replace(/[-_]/g, ' ').toLowerCase();
  return spaced.charAt(0).toUpperCase() + spaced.slice(1);
}

function isPlainObjectSchema(s: FieldSchema): boolean {
  return s.type === 'object' && s.properties !== undefined && Object.keys(s.properties).length > 0 && (s.additionalProperties === undefined || s.additionalProperties === false);
}

interface FieldProps {
  id: string;
  name: string;
  schema: FieldSchema;
  value: unknown;
  path: string;
  problems: Record<string, string>;
  readOnly: boolean;
  onChange: (value: unknown) => void;
}

function ErrorText({ id, message }: { id: string; message: string | undefined }) {
  return message ? (
    <p id={`${id}-error`} className="text-xs text-rose-700 dark:text-rose-300">
      {message}
    </p>
  ) : null;
}

/** Objects, arrays, maps and unions are edited as JSON: the schema still checks them. */
function JsonField({ id, name, schema, value, path, problems, readOnly, onChange }: FieldProps) {
  const shown = JSON.stringify(value ?? schema.default ?? null, null, 2);
  const [draft, setDraft] = useState({ text: shown, from: shown });
  const [parseError, setParseError] = useState<string>();
  // Undo, YAML edits and other nodes replace the value from outside: show it, unless it is
  // just what the user is typing (re-formatting would move their cursor).
  if (draft.from !== shown) {
    setDraft({ text: sameJson(draft.text, shown) ? draft.text : shown, from: shown });
  }
  const text = draft.text;
  const error = parseError ?? problems[path] ?? Object.entries(problems).find(([k]) => k.startsWith(`${path}.`))?.[1];
  return (
    <div className="space-y-1">
      <label htmlFor={id} className="block text-xs font-medium text-slate-700 dark:text-slate-200">
        {humanize(name)} <span className="font-normal text-slate-500 dark:text-slate-400">(JSON)</span>
      </label>
      <textarea
        id={id}
        rows={Math.min(10, shown.split('\n').length + 1)}
        value={text}
        readOnly={readOnly}
        spellCheck={false}
        aria-invalid={error ? true : undefined}
        aria-describedby={error ? `${id}-error` : undefined}
        className={`${inputClass} font-mono text-xs`}
        onChange={(e) => {
          setDraft({ text: e.target.value, from: shown });
          try {
            const parsed: unknown = JSON.parse(e.target.value);
            setParseError(undefined);
            onChange(parsed);
          } catch (err) {
            setParseError(`not valid JSON: ${(err as Error).message}`);
          }
        }}
      />
      {schema.description ? <p className="text-xs text-slate-600 dark:text-slate-400">{schema.description}</p> : null}
      <ErrorText id={id} message={error} />
    </div>
  );
}

function SchemaField(props: FieldProps) {
  const { id, name, schema, value, path, problems, readOnly, onChange } = props;
  const error = problems[path];
  const described = error ? `${id}-error` : undefined;
  const label = (
    <label htmlFor={id} className="block text-xs font-medium text-slate-700 dark:text-slate-200">
      {humanize(name)}
    </label>
  );
  if (isPlainObjectSchema(schema)) {
    const object = (value ?? {}) as Record<string, unknown>;
    return (
      <fieldset className="space-y-2 rounded-md border border-slate-200 p-2 dark:border-slate-700">
        <legend className="px-1 text-xs font-semibold text-slate-700 dark:text-slate-200">{humanize(name)}</legend>
        {Object.entries(schema.properties!).map(([key, child]) => (
          <SchemaField
            key={key}
            {...props}
            id={`${id}-${key}`}
            name={key}
            schema={child}
            value={object[key]}
            path={`${path}.${key}`}
            onChange={(v) => onChange(setKey(object, key, v))}
          />
        ))}
      </fieldset>
    );
  }
  if (schema.enum && schema.enum.every((v) => typeof v === 'string')) {
    return (
      <div className="space-y-1">
        {label}
        <select id={id} value={String(value ?? schema.default ?? '')} disabled={readOnly} aria-invalid={error ? true : undefined} aria-describedby={described} className={inputClass} onChange={(e) => onChange(e.target.value)}>
          {(schema.enum as string[]).map((option) => (
            <option key={option} value={option}>
              {option}
            </option>
          ))}
        </select>
        <ErrorText id={id} message={error} />
      </div>
    );
  }
  if (schema.type === 'boolean') {
    return (
      <div className="flex items-center gap-2">
        <input id={id} type="checkbox" checked={Boolean(value ?? schema.default)} disabled={readOnly} onChange={(e) => onChange(e.target.checked)} />
        {label}
        <ErrorText id={id} message={error} />
      </div>
    );
  }
  if (schema.type === 'number' || schema.type === 'integer') {
    return (
      <div className="space-y-1">
        {label}
        <input
          id={id}
          type="number"
          value={typeof value === 'number' ? value : ''}
          readOnly={readOnly}
          aria-invalid={error ? true : undefined}
          aria-describedby={described}
          className={inputClass}
          onChange={(e) => onChange(e.target.value === '' ? undefined : Number(e.target.value))}
        />
        {schema.description ? <p className="text-xs text-slate-600 dark:text-slate-400">{schema.description}</p> : null}
        <ErrorText id={id} message={error} />
      </div>
    );
  }
  if (schema.type === 'string' && schema.expression) {
    return (
      <ExpressionField
        id={id}
        label={humanize(name)}
        kind={schema.expression}
        value={typeof value === 'string' ? value : ''}
        description={schema.description}
        error={error}
        readOnly={readOnly}
        onChange={(text) => onChange(text === '' && schema.default === undefined ? undefined : text)}
      />
    );
  }
  if (schema.type === 'string') {
    return (
      <div className="space-y-1">
        {label}
        <input
          id={id}
          type="text"
          value={typeof value === 'string' ? value : ''}
          readOnly={readOnly}
          spellCheck={false}
          aria-invalid={error ? true : undefined}
          aria-describedby={described}
          className={`${inputClass} font-mono`}
          // An emptied optional field is removed, not kept as "" the schema would refuse.
          onChange={(e) => onChange(e.target.value === '' && schema.default === undefined ? undefined : e.target.value)}
        />
        {schema.description ? <p className="text-xs text-slate-600 dark:text-slate-400">{schema.description}</p> : null}
        <ErrorText id={id} message={error} />
      </div>
    );
  }
  return <JsonField {...props} />;
}

function setKey(object: Record<string, unknown>, key: string, value: unknown): Record<string, unknown> {
  const next = { ...object };
  if (value === undefined) delete next[key];
  else next[key] = value;
  return next;
}

/** The inspector's form for one node's config, generated from its zod schema. */
export function SchemaForm({
  def,
  nodeId,
  config,
  readOnly,
  onChange,
}: {
  def: NodeDefinition;
  nodeId: string;
  config: Record<string, unknown>;
  readOnly: boolean;
  onChange: (config: Record<string, unknown>) => void;
}) {
  const schema = configSchemaOf(def);
  const problems = configProblems(def, config);
  const common = { problems, readOnly };
  if (!schema?.properties) {
    return <JsonField {...common} id={`cfg-${nodeId}`} name="configuration" schema={{}} value={config} path="" onChange={(v) => onChange((v ?? {}) as Record<string, unknown>)} />;
  }
  return (
    <div className="space-y-3">
      {Object.entries(schema.properties).map(([key, child]) => (
        <SchemaField key={key} {...common} id={`cfg-${nodeId}-${key}`} name={key} schema={child} value={config[key]} path={key} onChange={(v) => onChange(setKey(config, key, v))} />
      ))}
    </div>
  );
}
