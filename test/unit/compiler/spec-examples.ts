/**
 * The example workflows of the Serverless Workflow specification (fixtures/spec, sources and
 * skipped files in its README), and what "equivalent" means for a round trip.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { withoutMeshflowMetadata } from '@/runtime/compiler/metadata';

export const specDir = fileURLToPath(new URL('./fixtures/spec/', import.meta.url));

/** Every example; each is a valid DSL 1.0.x document (the fixtures README lists them). */
export const specFiles = readdirSync(specDir)
  .filter((file) => file.endsWith('.yaml'))
  .sort();

export function readExample(file: string): unknown {
  return parse(readFileSync(join(specDir, file), 'utf8'));
}

/**
 * A document as a round trip must keep it; two documents are equivalent when these are
 * deep-equal. Only Meshflow's metadata (`metadata.meshflow`, and a `metadata` it alone
 * filled) is removed: it holds what the canvas needs (kinds, positions) and other runtimes
 * ignore it. Everything else, `document.dsl` included, must come back as it was.
 * YAML comments, quoting and key order are not compared: they are not part of the document.
 */
export function comparable(document: unknown): unknown {
  return withoutMeshflowMetadata(document);
}
