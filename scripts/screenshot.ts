/**
 * Regenerates docs/report.png, the README's picture of `sim run --report`: runs controller-failover
 * at seed 42 (both modes) and photographs the report in headless Chromium.
 *
 *   npx tsx scripts/screenshot.ts [--partitions 200000] [--out docs/report.png]
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { chromiumPresent, CHROMIUM, openChromium } from './chromium.ts';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const arg = (name: string, dflt: string): string => {
  const i = process.argv.indexOf(name);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1]! : dflt;
};
const partitions = arg('--partitions', '200000');
const out = resolve(arg('--out', join(root, 'docs/report.png')));

if (!chromiumPresent()) {
  process.stderr.write(`screenshot: ${CHROMIUM} not found (Debian: apt-get install chromium)\n`);
  process.exit(2);
}
const dir = mkdtempSync(join(tmpdir(), 'kraftsim-shot-'));
try {
  const html = join(dir, 'report.html');
  const run = spawnSync(process.execPath, [join(root, 'bin/sim.js'), 'run', 'scenarios/controller-failover.ts', '--seed', '42', '--set', `partitions=${partitions}`, '--report', html], { cwd: root, stdio: ['ignore', 'inherit', 'inherit'] });
  if (run.status !== 0) throw new Error(`sim run exited ${run.status}`);
  // The top of the page: header, phase bars and the timeline charts (the tables below are text).
  const { context, close } = await openChromium({ width: 1280, height: 1900 });
  try {
    const page = await context.newPage();
    await page.goto(pathToFileURL(html).href);
    await page.waitForSelector('body[data-ready="1"]');
    await page.screenshot({ path: out });
  } finally {
    await close();
  }
  process.stdout.write(`wrote ${out}\n`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
