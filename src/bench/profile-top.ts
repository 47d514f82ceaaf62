#!/usr/bin/env node
/**
 * Summarises a V8 CPU profile (`node --cpu-prof` writes `*.cpuprofile`): the functions with the
 * most self time, and inclusive time per source file.
 *
 *   node --cpu-prof --cpu-prof-dir=/tmp/prof dist/bench/main.js
 *   node dist/bench/profile-top.js /tmp/prof/CPU.*.cpuprofile [count]
 */
import { readFileSync } from 'node:fs';

/** The parts of a `.cpuprofile` this tool reads. */
export interface CpuProfile {
  readonly nodes: readonly {
    readonly id: number;
    readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number };
    readonly children?: readonly number[];
  }[];
  readonly startTime: number;
  readonly endTime: number;
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

/** One line of the summary: a name and its time in microseconds. */
export interface ProfileEntry {
  readonly name: string;
  readonly micros: number;
}

function shortUrl(url: string): string {
  return url.replace(/^.*node_modules\//, '').replace(/^file:\/\/.*?\/(dist|src)\//, '$1/');
}

/** Self time per function (`name file:line`) and inclusive time per file, largest first. */
export function summariseProfile(profile: CpuProfile): { totalMicros: number; self: ProfileEntry[]; files: ProfileEntry[] } {
  const selfById = new Map<number, number>();
  profile.samples.forEach((id, i) => selfById.set(id, (selfById.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);

  const self = new Map<string, number>();
  const files = new Map<string, number>();
  for (const [id, micros] of selfById) {
    const frame = byId.get(id)!.callFrame;
    const name = `${frame.functionName || '(anonymous)'} ${shortUrl(frame.url)}:${frame.lineNumber + 1}`;
    self.set(name, (self.get(name) ?? 0) + micros);
    const seen = new Set<string>();
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const file = shortUrl(byId.get(cur)!.callFrame.url);
      if (file && !seen.has(file)) {
        seen.add(file);
        files.set(file, (files.get(file) ?? 0) + micros);
      }
    }
  }
  const sorted = (m: Map<string, number>) => [...m].map(([name, micros]) => ({ name, micros })).sort((a, b) => b.micros - a.micros);
  return { totalMicros: profile.endTime - profile.startTime, self: sorted(self), files: sorted(files) };
}

/** Runs the command line. */
function main(): void {
  const [file, countText] = process.argv.slice(2);
  if (!file) {
    process.stderr.write('usage: node dist/bench/profile-top.js FILE.cpuprofile [count]\n');
    process.exitCode = 2;
    return;
  }
  const count = Number(countText ?? 25);
  const summary = summariseProfile(JSON.parse(readFileSync(file, 'utf8')) as CpuProfile);
  const line = (e: ProfileEntry) =>
    `${(e.micros / 1000).toFixed(0).padStart(8)} ms ${((100 * e.micros) / summary.totalMicros).toFixed(1).padStart(5)} %  ${e.name}`;
  process.stdout.write(`profile: ${(summary.totalMicros / 1e6).toFixed(1)} s\n\nself time\n`);
  process.stdout.write(`${summary.self.slice(0, count).map(line).join('\n')}\n\ninclusive time by file\n`);
  process.stdout.write(`${summary.files.slice(0, count).map(line).join('\n')}\n`);
}

main();
