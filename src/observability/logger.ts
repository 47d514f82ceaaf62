/**
 * Structured logs (pino) on standard error: JSON, or readable lines when standard error is a
 * terminal. Connection URLs are never logged with their password (see `redactUrl`).
 */
import { pino, type Logger } from 'pino';

/** Options for {@link createLogger}. */
export interface LoggerOptions {
  /** pino level: `debug`, `info` (default), `warn`, `error`, `silent`. */
  readonly level?: string;
  /** Force JSON even on a terminal. */
  readonly json?: boolean;
}

/** A logger writing to standard error. */
export function createLogger(options: LoggerOptions = {}): Logger {
  const level = options.level ?? process.env.CDC_LOG_LEVEL ?? 'info';
  if (!options.json && process.stderr.isTTY) {
    return pino({
      level,
      transport: { target: 'pino-pretty', options: { destination: 2, colorize: true, translateTime: 'HH:MM:ss.l', ignore: 'pid,hostname' } },
    });
  }
  return pino({ level, base: undefined }, pino.destination(2));
}
