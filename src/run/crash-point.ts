/**
 * Named steps where a test can stop the process as a crash would (kill -9): when the
 * environment variable `CDC_TEST_CRASH_AT` names the step, the process sends itself SIGKILL
 * there. For tests of crash safety only; without the variable, nothing happens.
 */

/** Stops the process with SIGKILL when `CDC_TEST_CRASH_AT` is `step` (a test hook). */
export function crashPoint(step: string): void {
  if (process.env.CDC_TEST_CRASH_AT === step) process.kill(process.pid, 'SIGKILL');
}
