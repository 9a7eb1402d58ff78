/**
 * "Pin it": a test run or a replayed event saved as a `meshflow test` case, downloaded as
 * `<flow>.test.yaml` to keep beside the flow file (runtime/cli/commands/test.ts reads it).
 */
import { stringify } from 'yaml';

export interface PinnedRequest {
  node: string;
  method: string;
  url: string;
  body: unknown;
}

export interface PinnedCase {
  name: string;
  event: unknown;
  outcome: 'delivered' | 'nothing sent' | 'filtered' | 'faulted';
  deliveries: PinnedRequest[];
}

/** The outcome a test run's status and requests amount to, in `meshflow test`'s words. */
export function outcomeOf(status: string, requests: number): PinnedCase['outcome'] {
  if (status === 'filtered') return 'filtered';
  if (status === 'faulted') return 'faulted';
  return requests > 0 ? 'delivered' : 'nothing sent';
}

export function testFileText(flowFileName: string, cases: PinnedCase[]): string {
  return stringify({
    flow: flowFileName,
    cases: cases.map((c) => ({
      name: c.name,
      event: c.event,
      expect: { outcome: c.outcome, deliveries: c.deliveries.map((d) => ({ node: d.node, method: d.method, url: d.url, body: d.body })) },
    })),
  });
}
