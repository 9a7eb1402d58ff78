/**
 * Testing a filter against an event without deploying anything (as EventBridge's
 * TestEventPattern does): the same compiler and validator the data plane uses.
 */
import { z } from 'zod';
import { IngressError, validateStructured } from '@/runtime/events/cloudevent';
import { DefinitionError, compileFilter } from '@/runtime/expressions/filters';

export const testFilterInput = z.object({
  filter: z.string().max(100_000),
  event: z.string().max(1_000_000),
});

export type FilterTestResult =
  | { ok: true; matches: boolean }
  | { ok: false; problems: Array<{ where: 'filter' | 'event'; path: string; message: string }> };

function parseJson(text: string, where: 'filter' | 'event'): { value: unknown } | FilterTestResult {
  try {
    return { value: JSON.parse(text) };
  } catch (error) {
    return { ok: false, problems: [{ where, path: '', message: `not valid JSON: ${(error as Error).message}` }] };
  }
}

export async function testFilter(input: z.infer<typeof testFilterInput>): Promise<FilterTestResult> {
  const filter = parseJson(input.filter, 'filter');
  if (!('value' in filter)) return filter;
  const event = parseJson(input.event, 'event');
  if (!('value' in event)) return event;
  let record;
  try {
    record = validateStructured(event.value);
  } catch (error) {
    if (!(error instanceof IngressError)) throw error;
    return { ok: false, problems: [{ where: 'event', path: error.attribute ?? '', message: error.message }] };
  }
  try {
    const predicate = await compileFilter(filter.value);
    return { ok: true, matches: predicate(record) };
  } catch (error) {
    if (!(error instanceof DefinitionError)) throw error;
    return {
      ok: false,
      problems: error.issues.map((issue) => ({ where: 'filter' as const, path: issue.path, message: issue.message })),
    };
  }
}
