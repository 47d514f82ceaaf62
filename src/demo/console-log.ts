/**
 * A pino logger for the demo that prints each record as one short line (`  warn  schema change
 * table=public.customer …`) instead of JSON, so the demo's own output stays readable.
 */
import { pino, type Logger } from 'pino';

const LEVELS: Record<number, string> = { 10: 'trace', 20: 'debug', 30: 'info', 40: 'warn', 50: 'error', 60: 'fatal' };
const HIDDEN = new Set(['level', 'time', 'pid', 'hostname', 'msg']);

/** Renders one pino JSON record as `level  message key=value …`. */
export function compactLine(json: string, indent = '      '): string {
  let record: Record<string, unknown>;
  try {
    record = JSON.parse(json) as Record<string, unknown>;
  } catch {
    return `${indent}${json.trimEnd()}`;
  }
  const level = LEVELS[Number(record.level)] ?? String(record.level);
  const fields = Object.entries(record)
    .filter(([k]) => !HIDDEN.has(k))
    .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`);
  return `${indent}${level}  ${typeof record.msg === 'string' ? record.msg : ''}${fields.length ? `  ${fields.join(' ')}` : ''}`;
}

/** A logger at `level` writing compact lines to standard error. */
export function compactLogger(level: string): Logger {
  return pino(
    { level, base: undefined },
    {
      write(chunk: string) {
        for (const line of chunk.split('\n')) if (line.trim()) process.stderr.write(`${compactLine(line)}\n`);
      },
    },
  );
}
