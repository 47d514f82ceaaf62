/**
 * Structured logs (pino) on standard error: JSON, or readable lines when standard error is a
 * terminal. Every log call passes through {@link redactValue}: no password, token or row value
 * reaches a log line, whatever a message or an error object holds (`src/redact.ts`).
 */
import { pino, type Logger, type LoggerOptions as PinoOptions } from 'pino';
import { redactValue } from '../redact.js';

/** Options for {@link createLogger}. */
export interface LoggerOptions {
  /** pino level: `debug`, `info` (default), `warn`, `error`, `silent`. */
  readonly level?: string;
  /** Force JSON even on a terminal. */
  readonly json?: boolean;
}

/** The pino hook that redacts the arguments of every log call (objects, errors, messages). */
const hooks: PinoOptions['hooks'] = {
  logMethod(args, method) {
    method.apply(this, args.map((a) => redactValue(a)) as Parameters<typeof method>);
  },
};

/** A logger writing to standard error, redacting what it writes. */
export function createLogger(options: LoggerOptions = {}): Logger {
  const level = options.level ?? process.env.CDC_LOG_LEVEL ?? 'info';
  if (!options.json && process.stderr.isTTY) {
    return pino({
      level,
      hooks,
      transport: { target: 'pino-pretty', options: { destination: 2, colorize: true, translateTime: 'HH:MM:ss.l', ignore: 'pid,hostname' } },
    });
  }
  return pino({ level, base: undefined, hooks }, pino.destination(2));
}
