import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectedCharts, renderRunReport, reportView } from '../../reports/html/run-report.ts';
import type { RunResult } from '../../sim/result.ts';
import { CHROMIUM, chromiumPresent, openChromium } from '../../scripts/chromium.ts';
import { sim } from '../cli/spawn.ts';

/**
 * The HTML report in a real browser: Debian's chromium through playwright-core. Skipped only on a
 * machine without /usr/bin/chromium outside CI; in CI (CI set) it always runs, and fails if the
 * browser is missing.
 */
const inCI = process.env['CI'] !== undefined && process.env['CI'] !== '' && process.env['CI'] !== 'false';
const skip = !chromiumPresent() && !inCI;
if (skip) process.stderr.write(`test/report/browser.test.ts: SKIPPED: ${CHROMIUM} is absent and CI is not set (Debian: apt-get install chromium)\n`);

interface PageReport {
  charts: { id: string; title: string; series: number }[];
  errors: string[];
}

/** Opens a report file; what the page drew, what it logged as errors and what it asked of the network. */
async function open(file: string): Promise<{ report: PageReport; uplots: number; legendRows: number[]; errors: string[]; requests: string[]; title: string; pwned: unknown }> {
  const { context, close } = await openChromium();
  try {
    const errors: string[] = [];
    const requests: string[] = [];
    context.on('request', (r) => {
      if (!r.url().startsWith('file:')) requests.push(r.url());
    });
    const page = await context.newPage();
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    page.on('pageerror', (e) => errors.push(String(e)));
    await page.goto(pathToFileURL(file).href);
    await page.waitForSelector('body[data-ready="1"]', { timeout: 30_000 });
    const report = (await page.evaluate(() => (globalThis as unknown as { kraftsimReport: PageReport }).kraftsimReport)) as PageReport;
    const uplots = await page.locator('.uplot').count();
    const legendRows = await page.$$eval('.uplot', (els) => els.map((e) => e.querySelectorAll('.u-legend .u-series').length));
    const title = await page.locator('h1').innerText();
    const pwned = await page.evaluate(() => (globalThis as unknown as { pwned?: unknown }).pwned);
    return { report, uplots, legendRows, errors, requests, title, pwned };
  } finally {
    await close();
  }
}

describe.skipIf(skip)('run report in headless Chromium', () => {
  let dir = '';
  let file = '';
  let results: RunResult[] = [];
  beforeAll(async () => {
    if (!chromiumPresent()) throw new Error(`${CHROMIUM} is missing: CI must install Debian's chromium (.ci/run)`);
    dir = mkdtempSync(join(tmpdir(), 'kraftsim-report-'));
    file = join(dir, 'report.html');
    const r = await sim('run', 'scenarios/controller-failover.ts', '--seed', '42', '--set', 'partitions=2000', '--report', file, '--json', '--series');
    expect(r.code, r.stderr).toBe(0);
    results = (JSON.parse(r.stdout) as { runs: RunResult[] }).runs;
  });
  afterAll(() => {
    if (dir !== '') rmSync(dir, { recursive: true, force: true });
  });

  it('draws every chart with its series, both modes, with no console error and no network request', async () => {
    expect(results.map((r) => r.mode)).toEqual(['zk', 'kraft']);
    const expected = expectedCharts(reportView(results));
    // Roles ×2, unavailable, divergence ×2, ZooKeeper sessions, Raft epochs.
    expect(expected.map((c) => c.id)).toEqual(['roles-zk', 'roles-kraft', 'unavailable', 'divergence-zk', 'divergence-kraft', 'sessions-zk', 'epochs-kraft']);
    const got = await open(file);
    expect(got.errors).toEqual([]);
    expect(got.requests).toEqual([]);
    expect(got.report.errors).toEqual([]);
    expect(got.report.charts.map((c) => ({ id: c.id, series: c.series }))).toEqual(expected);
    expect(got.uplots).toBe(expected.length);
    // uPlot's legend: one row for x, one per data series.
    expect(got.legendRows).toEqual(expected.map((c) => c.series + 1));
    expect(got.report.charts.find((c) => c.id === 'unavailable')!.series).toBe(2);
  });

  it('escapes what a scenario supplies: names and descriptions cannot add markup or script', async () => {
    const evil = '</script><script>window.pwned=1</script><img src=x onerror="window.pwned=2">';
    const tampered = results.map((r) => ({
      ...r,
      scenario: evil,
      series: { ...r.series!, brokers: r.series!.brokers.map((b) => ({ ...b, node: `${b.node}${evil}` })), controllers: r.series!.controllers.map((c) => ({ ...c, node: evil })), faults: r.series!.faults.map((f) => ({ ...f, node: evil })) },
      invariants: r.invariants.map((i) => ({ ...i, name: evil })),
    }));
    const html = renderRunReport({ scenario: { name: evil, description: evil, file: evil }, command: evil, results: tampered });
    const evilFile = join(dir, 'evil.html');
    writeFileSync(evilFile, html);
    expect(readFileSync(evilFile, 'utf8')).not.toContain('<img src=x');
    const got = await open(evilFile);
    expect(got.pwned).toBeUndefined();
    expect(got.title).toBe(evil);
    expect(got.errors).toEqual([]);
    expect(got.requests).toEqual([]);
    expect(got.uplots).toBe(expectedCharts(reportView(tampered)).length);
  });
});
