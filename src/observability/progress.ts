/**
 * Progress of long work (snapshots) on a terminal: a bar from `cli-progress` when standard
 * error is a TTY, nothing otherwise (logs carry the same facts).
 */
import cliProgress from 'cli-progress';

/** Receives progress events. */
export interface ProgressReporter {
  /** Work begins on `tables` tables. */
  start(tables: number): void;
  /** `count` more rows copied. */
  rows(count: number): void;
  /** One table finished. */
  tableDone(name: string): void;
  stop(): void;
}

/** A progress bar on standard error when it is a terminal; otherwise a reporter that does nothing. */
export function terminalProgress(): ProgressReporter {
  if (!process.stderr.isTTY) return { start() {}, rows() {}, tableDone() {}, stop() {} };
  const bar = new cliProgress.SingleBar(
    { format: 'snapshot |{bar}| {value}/{total} tables | {rows} rows | {last}', stream: process.stderr, hideCursor: true },
    cliProgress.Presets.shades_classic,
  );
  let rows = 0;
  let done = 0;
  return {
    start(tables) {
      bar.start(tables, 0, { rows: 0, last: '' });
    },
    rows(count) {
      rows += count;
      bar.update(done, { rows });
    },
    tableDone(name) {
      done++;
      bar.update(done, { rows, last: name });
    },
    stop() {
      bar.stop();
    },
  };
}
