/**
 * Keeps one long-lived process (the studio or the worker under `npm start`) running: when it
 * exits on its own it is started again after a growing delay (1 s, 2 s, 4 s … 30 s; back to
 * 1 s once it has run for a minute), and each exit and restart is said in the log.
 */
import type { ChildProcess } from 'node:child_process';

export interface RestartPolicy {
  firstDelayMs: number;
  maxDelayMs: number;
  /** A process that ran at least this long before exiting starts the delays over. */
  stableAfterMs: number;
}

export const defaultRestartPolicy: RestartPolicy = { firstDelayMs: 1_000, maxDelayMs: 30_000, stableAfterMs: 60_000 };

export interface SuperviseOptions {
  name: string;
  start: () => ChildProcess;
  say: (line: string) => void;
  /** Before the first "ready" a crash is a broken set-up, not bad luck: no restart then. */
  startedOk: () => boolean;
  onFailedStart: () => void;
  policy?: RestartPolicy;
}

export interface Supervised {
  /** Stops the process (SIGTERM, SIGKILL after 10 s) and any pending restart. */
  stop: () => Promise<void>;
}

const seconds = (ms: number) => `${Number((ms / 1000).toFixed(3))} s`;

export function supervise({ name, start, say, startedOk, onFailedStart, policy = defaultRestartPolicy }: SuperviseOptions): Supervised {
  let child: ChildProcess | undefined;
  let stopping = false;
  let delay = policy.firstDelayMs;
  let restarts = 0;
  let pending: NodeJS.Timeout | undefined;

  const launch = () => {
    const startedAt = Date.now();
    const current = start();
    child = current;
    current.on('exit', (code, signal) => {
      if (stopping) return;
      const how = signal ?? `code ${code}`;
      if (!startedOk()) {
        say(`${name} exited (${how}) while starting; stopping the rest`);
        onFailedStart();
        return;
      }
      if (Date.now() - startedAt >= policy.stableAfterMs) delay = policy.firstDelayMs;
      restarts += 1;
      say(`${name} exited (${how}); restarting it in ${seconds(delay)} (restart ${restarts})`);
      pending = setTimeout(() => {
        pending = undefined;
        if (stopping) return;
        launch();
        say(`${name} restarted (pid ${child?.pid})`);
      }, delay);
      delay = Math.min(delay * 2, policy.maxDelayMs);
    });
  };
  launch();
  say(`${name} started (pid ${child?.pid})`);

  return {
    stop: () => {
      stopping = true;
      clearTimeout(pending);
      const current = child;
      if (!current || current.exitCode !== null || current.signalCode !== null) return Promise.resolve();
      return new Promise<void>((done) => {
        const killer = setTimeout(() => current.kill('SIGKILL'), 10_000);
        current.once('exit', () => {
          clearTimeout(killer);
          done();
        });
        current.kill('SIGTERM');
      });
    },
  };
}
