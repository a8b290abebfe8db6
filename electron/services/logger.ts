/** Minimal logging seam: shells decide where lines go; services never print secrets. */
export interface Logger {
  info(message: string): void;
  warn(message: string): void;
  error(message: string, error?: unknown): void;
}

export function createConsoleLogger(prefix = 'torsh-depot', stream: NodeJS.WritableStream = process.stderr): Logger {
  const line = (level: string, message: string): void => {
    stream.write(`${new Date().toISOString()} ${prefix} ${level} ${message}\n`);
  };
  return {
    info: (message) => line('info', message),
    warn: (message) => line('warn', message),
    error: (message, error) => line('error', error instanceof Error ? `${message}: ${error.message}` : message),
  };
}

export const silentLogger: Logger = { info: () => undefined, warn: () => undefined, error: () => undefined };
