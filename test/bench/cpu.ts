/**
 * CPU time the pipeline costs, per process group, read from /proc (Linux): the worker processes
 * and the PostgreSQL backends serving the bench database. CPU per event does not depend on how
 * busy the machine is the way throughput does, so it is what the README's ceiling estimate uses.
 * Shared PostgreSQL processes (WAL writer, checkpointer, autovacuum) are not counted: the
 * database figure is a lower bound.
 */
import { readFileSync } from 'node:fs';
import type pg from 'pg';

const TICKS_PER_S = 100;

function cpuMs(pid: number): number | undefined {
  try {
    // Fields after the parenthesised command: utime and stime are the 12th and 13th.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / TICKS_PER_S;
  } catch {
    return undefined;
  }
}

async function backends(pool: pg.Pool): Promise<number[]> {
  const { rows } = await pool.query<{ pid: number }>('SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()');
  return rows.map((r) => r.pid);
}

export interface CpuMeter {
  /** One line: worker and database CPU milliseconds per accepted event, and the mean group-commit size. */
  report: (accepted: number) => Promise<string>;
}

/** Events per group commit, averaged over the workers' own histograms (meshflow_event_log_commit_batch_size). */
async function meanCommitBatch(bases: string[]): Promise<number> {
  let sum = 0;
  let count = 0;
  for (const base of bases) {
    const text = await (await fetch(`${base}/metrics`)).text();
    sum += Number(/^meshflow_event_log_commit_batch_size_sum (\S+)$/m.exec(text)?.[1] ?? 0);
    count += Number(/^meshflow_event_log_commit_batch_size_count (\S+)$/m.exec(text)?.[1] ?? 0);
  }
  return count > 0 ? Math.round((sum / count) * 10) / 10 : 0;
}

export async function startCpuMeter(pool: pg.Pool, workerPids: number[], bases: string[]): Promise<CpuMeter> {
  const before = new Map<number, number>();
  for (const pid of [...workerPids, ...(await backends(pool))]) before.set(pid, cpuMs(pid) ?? 0);
  const spent = (pids: number[]) => pids.reduce((sum, pid) => sum + Math.max(0, (cpuMs(pid) ?? 0) - (before.get(pid) ?? 0)), 0);
  return {
    report: async (accepted) => {
      const workers = spent(workerPids);
      const database = spent(await backends(pool));
      const per = (ms: number) => (accepted > 0 ? Math.round((ms / accepted) * 1000) / 1000 : 0);
      const batch = await meanCommitBatch(bases).catch(() => 0);
      return `cpu per accepted event: workers ${per(workers)} ms, PostgreSQL backends ${per(database)} ms (${Math.round(workers)} / ${Math.round(database)} ms in all); events per commit ${batch}\n`;
    },
  };
}
