#!/usr/bin/env node
// Regenerates the command outputs shown in README.md, so every printed output there is real.
//
// A block to regenerate looks like this in the README:
//
//   <!-- output: node bin/sim.js run scenarios/controller-failover.ts --seed 42 -->
//   ```
//   ...replaced by the command's stdout...
//   ```
//
// A block marked `<!-- output-md: cmd -->` is replaced by the command's stdout as Markdown (no fence),
// up to the next `<!-- /output-md -->`; `<!-- output-md-slow: cmd -->` likewise, but only with --slow
// (the scenario table runs every library scenario at 2M partitions: about ten minutes). Commands run from the project root with FORCE_COLOR=0 and
// NO_COLOR=1. Usage: node scripts/readme.mjs [--check]   (--check: exit 1 if the README would change,
// ignoring lines that carry wall-clock figures; --only <text>: only the blocks whose command contains it).
import { execSync } from 'node:child_process';
import { readFileSync, writeFileSync, renameSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const file = join(root, 'README.md');
const check = process.argv.includes('--check');
const slow = process.argv.includes('--slow');
// --only <text>: regenerate only the blocks whose command contains <text> (the others are kept).
const onlyAt = process.argv.indexOf('--only');
const only = onlyAt >= 0 ? process.argv[onlyAt + 1] : undefined;

function run(cmd) {
  process.stderr.write(`readme: ${cmd}\n`);
  try {
    return execSync(cmd, { cwd: root, encoding: 'utf8', env: { ...process.env, FORCE_COLOR: '0', NO_COLOR: '1' }, maxBuffer: 64 << 20, stdio: ['ignore', 'pipe', 'inherit'] });
  } catch (e) {
    // A run that reports a violation exits 1 and still prints its table; show what it printed.
    if (typeof e.stdout === 'string' && e.stdout.length > 0) return e.stdout;
    throw e;
  }
}

const lines = readFileSync(file, 'utf8').split('\n');
const out = [];
for (let i = 0; i < lines.length; i++) {
  const line = lines[i];
  const fenced = /^<!-- output: (.+) -->$/.exec(line);
  const md = /^<!-- output-md(-slow)?: (.+) -->$/.exec(line);
  if (fenced) {
    out.push(line);
    if (lines[i + 1] !== '```') throw new Error(`README.md:${i + 2}: expected a fence after the output marker`);
    let j = i + 2;
    while (j < lines.length && lines[j] !== '```') j++;
    if (j >= lines.length) throw new Error(`README.md:${i + 1}: unclosed fence`);
    out.push('```', ...(only !== undefined && !fenced[1].includes(only) ? lines.slice(i + 2, j) : run(fenced[1]).replace(/\n+$/, '').split('\n')), '```');
    i = j;
  } else if (md) {
    out.push(line);
    let j = i + 1;
    while (j < lines.length && lines[j] !== '<!-- /output-md -->') j++;
    if (j >= lines.length) throw new Error(`README.md:${i + 1}: no <!-- /output-md --> after the marker`);
    const keep = (md[1] !== undefined && !slow) || (only !== undefined && !md[2].includes(only));
    out.push(...(keep ? lines.slice(i + 1, j) : run(md[2]).replace(/\n+$/, '').split('\n')), lines[j]);
    i = j;
  } else {
    out.push(line);
  }
}
const next = out.join('\n');
if (check) {
  const strip = (s) => s.split('\n').filter((l) => !/wall|ms\/s|events\/s/i.test(l)).join('\n');
  const before = readFileSync(file, 'utf8');
  if (strip(before) !== strip(next)) {
    process.stderr.write('readme: README.md outputs are out of date; run node scripts/readme.mjs\n');
    process.exit(1);
  }
} else {
  writeFileSync(file + '.tmp', next);
  renameSync(file + '.tmp', file);
}
