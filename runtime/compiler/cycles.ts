/**
 * Cycles of a directed graph, one per back edge found by an iterative depth-first search
 * (recursion would overflow on long flows). Each cycle lists its nodes in path order.
 */
export function findCycles(ids: readonly string[], successors: (id: string) => readonly string[]): string[][] {
  const state = new Map<string, 'open' | 'done'>();
  const cycles: string[][] = [];
  for (const root of ids) {
    if (state.has(root)) continue;
    const path: string[] = [];
    const position = new Map<string, number>();
    const frames: { id: string; next: readonly string[]; i: number }[] = [];
    const enter = (id: string) => {
      state.set(id, 'open');
      position.set(id, path.length);
      path.push(id);
      frames.push({ id, next: successors(id), i: 0 });
    };
    enter(root);
    while (frames.length > 0) {
      const frame = frames[frames.length - 1]!;
      if (frame.i < frame.next.length) {
        const target = frame.next[frame.i++]!;
        const seen = state.get(target);
        if (seen === undefined) enter(target);
        else if (seen === 'open') cycles.push(path.slice(position.get(target)));
        continue;
      }
      state.set(frame.id, 'done');
      position.delete(frame.id);
      path.pop();
      frames.pop();
    }
  }
  return cycles;
}
