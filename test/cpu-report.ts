/**
 * Opt-in (KRAFTSIM_TEST_CPU=<file> npx vitest run …): appends one line per test file to <file>
 * with the CPU seconds its process used, worker threads and the child processes it spawned (the CLI
 * tests) included. Wall durations on a shared machine say little; CPU time finds what is slow.
 */
import { appendFileSync, readFileSync } from 'node:fs';
import { afterAll, beforeAll, expect } from 'vitest';

const TICKS_PER_SECOND = 100;

/** utime + stime of this process and of its waited-for children, in seconds (Linux /proc). */
function cpuSeconds(): number {
  const fields = readFileSync('/proc/self/stat', 'utf8').split(') ')[1]!.split(' ');
  // After "pid (comm) ": state is field 3, utime 14, stime 15, cutime 16, cstime 17 (1-based).
  const at = (n: number): number => Number(fields[n - 3]);
  return (at(14) + at(15) + at(16) + at(17)) / TICKS_PER_SECOND;
}

const out = process.env['KRAFTSIM_TEST_CPU'];
const start = cpuSeconds();
const startWall = performance.now();
let file = '';
beforeAll(() => {
  file = expect.getState().testPath ?? '?';
});
afterAll(() => {
  if (out === undefined || out === '') return;
  const cpu = cpuSeconds() - start;
  const wall = (performance.now() - startWall) / 1000;
  appendFileSync(out, `${cpu.toFixed(2)}\t${wall.toFixed(1)}\t${file.replace(/.*\/test\//, 'test/')}\n`);
});
