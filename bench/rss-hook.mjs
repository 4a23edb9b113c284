// Loaded with `node --import` by bench/scale.ts into each measured run: on exit, prints the
// process's peak resident set size (VmHWM) to stderr, so every run's figure is its own.
import { readFileSync } from 'node:fs';

process.on('exit', () => {
  let kb = process.resourceUsage().maxRSS;
  try {
    const m = /VmHWM:\s+(\d+)\s+kB/.exec(readFileSync('/proc/self/status', 'utf8'));
    if (m !== null) kb = Number(m[1]);
  } catch {
    // not Linux: resourceUsage's figure stands
  }
  process.stderr.write(`BENCH_MAX_RSS_KB=${kb}\n`);
});
