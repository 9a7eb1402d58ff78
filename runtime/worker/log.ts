/** One line per event, `level message key=value …`: readable when combined with the studio's. */
export type Logger = (level: 'info' | 'warn' | 'error', message: string, fields?: Record<string, unknown>) => void;

export const consoleLogger: Logger = (level, message, fields) => {
  const extra = fields
    ? ' ' +
      Object.entries(fields)
        .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
        .join(' ')
    : '';
  const line = `${level.padEnd(5)} ${message}${extra}\n`;
  (level === 'error' ? process.stderr : process.stdout).write(line);
};
