/**
 * A description of the machine a benchmark ran on, for its report.
 */
import { execFileSync } from 'node:child_process';
import { availableParallelism, cpus, release, totalmem } from 'node:os';
import { join } from 'node:path';

/** The machine, as printed with the results. */
export interface MachineInfo {
  readonly cpus: number;
  readonly cpuModel: string;
  readonly memoryGiB: number;
  readonly kernel: string;
  readonly node: string;
  /** `postgres --version` of the binaries used. */
  readonly postgres: string;
}

/** Describes this machine and the PostgreSQL binaries in `bindir`. */
export function describeMachine(bindir: string): MachineInfo {
  let postgres = 'unknown';
  try {
    postgres = execFileSync(join(bindir, 'postgres'), ['--version'], { encoding: 'utf8' }).trim();
  } catch {
    // keep 'unknown'
  }
  return {
    cpus: availableParallelism(),
    cpuModel: cpus()[0]?.model.trim() ?? 'unknown',
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    kernel: `Linux ${release()}`,
    node: process.version,
    postgres,
  };
}

/** One line: `2 CPUs (AMD EPYC), 23 GiB, Linux 6.1, Node v20.19.0, postgres (PostgreSQL) 15.14`. */
export function formatMachine(m: MachineInfo): string {
  return `${m.cpus} CPUs (${m.cpuModel}), ${m.memoryGiB} GiB RAM, ${m.kernel}, Node ${m.node}, ${m.postgres}`;
}
