/** JSON Schema checks for `input.schema`, `output.schema` and `export.schema` (Ajv, loaded on first use). */
import { WorkflowError } from './errors.ts';
import type { Json, SchemaDefinition } from './types.ts';

type Check = ((data: unknown) => boolean) & { errors?: { instancePath: string; message?: string }[] | null };

let ajvLoading: Promise<{ compile(schema: object): Check }> | undefined;
const compiled = new WeakMap<object, Check>();

async function ajv(): Promise<{ compile(schema: object): Check }> {
  ajvLoading ??= import('ajv').then((mod) => {
    const Ajv = (mod.default ?? mod) as unknown as new (options: object) => { compile(schema: object): Check };
    return new Ajv({ allErrors: true, strict: false, validateFormats: false });
  });
  return ajvLoading;
}

/**
 * Checks `data` against an inline schema document; `loadResource` fetches a schema that is
 * given as an external resource.
 */
export async function checkSchema(schema: SchemaDefinition, data: Json, what: string, instance: string, loadResource: (schema: SchemaDefinition) => Promise<Json>): Promise<void> {
  if (schema.format !== undefined && !schema.format.startsWith('json')) {
    throw WorkflowError.of('configuration', `${what}: schema format "${schema.format}" is not supported (use json)`, instance);
  }
  const document = schema.document ?? (schema.resource ? await loadResource(schema) : undefined);
  if (document === null || typeof document !== 'object') return;
  let check = compiled.get(document);
  if (!check) {
    try {
      check = (await ajv()).compile(document);
    } catch (error) {
      throw WorkflowError.of('configuration', `${what}: the JSON Schema does not compile: ${(error as Error).message}`, instance);
    }
    compiled.set(document, check);
  }
  if (!check(data)) {
    const problems = (check.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message ?? 'is invalid'}`).join('; ');
    throw WorkflowError.of('validation', `${what} does not match its schema: ${problems}`, instance, 'Validation error');
  }
}
