// Prints, checks or rewrites the golden trace hashes (test/golden/trace-hashes.json).
//   npx tsx scripts/golden.ts            # compare, print what moved, exit 1 if something did
//   npx tsx scripts/golden.ts --update   # rewrite the baseline with the current hashes
import { renameSync, writeFileSync } from 'node:fs';
import { BASELINE, goldenHash, readBaseline, type GoldenEntry } from '../test/golden/golden.ts';

const update = process.argv.includes('--update');
const base = readBaseline();
const runs: GoldenEntry[] = [];
let moved = 0;
for (const e of base.runs) {
  const h = await goldenHash(e, base.seed);
  const tag = `${e.file} ${e.mode ?? '-'} ${e.sets.join(' ')}`.trim();
  if (h !== e.traceHash) {
    moved++;
    process.stdout.write(`moved  ${tag}: ${e.traceHash} → ${h}\n`);
  } else process.stdout.write(`same   ${tag}: ${h}\n`);
  runs.push({ ...e, traceHash: h });
}
if (update) {
  writeFileSync(BASELINE + '.tmp', JSON.stringify({ ...base, runs }, null, 2) + '\n');
  renameSync(BASELINE + '.tmp', BASELINE);
  process.stdout.write(`golden: ${moved} moved; baseline rewritten\n`);
} else if (moved > 0) {
  process.stdout.write(`golden: ${moved} moved (run with --update to accept, and say why in the commit)\n`);
  process.exit(1);
}
