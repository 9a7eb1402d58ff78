import { EnvError, env } from './env';

/** Stops the studio with the list of what is wrong in its environment. */
export function checkStudioEnv(): void {
  try {
    env();
  } catch (error) {
    if (error instanceof EnvError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }
}
