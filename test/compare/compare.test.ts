import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderCompareMarkdown, renderCompareTable } from '../../reports/compare-table.ts';
import { compareView } from '../../reports/html/compare-report.ts';
import { isGeometric, parseGrid, type CompareDocument, type CompareRun } from '../../sim/compare.ts';
import { KAFKA_PARAMS } from '../../sim/kafka.ts';
import { expectUsageError, scratch, simAll, simHere, type Ran } from '../cli/spawn.ts';

const S = 'scenarios/controller-failover.ts';

/** Debian's chromium (what .ci/run installs), if this machine has it. */
const CHROMIUM = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => existsSync(p));

describe('sim compare over a tiny grid', () => {
  const dir = scratch();
  const at = (name: string): string => join(dir.dir, name);
  let table: Ran;
  let doc: CompareDocument;
  let html: string;
  let single: { runs: { traceHash: string; metrics: { recoveryMs: number } }[] };
  beforeAll(async () => {
    const [t, one] = await simAll([
      ['compare', S, '--seed', '42', '--grid', 'partitions=200,400', '--workers', '2', '--json-out', at('c.json'), '--report', at('c.html')],
      ['run', S, '--seed', '42', '--mode', 'zk', '--set', 'partitions=400', '--json'],
    ]);
    table = t!;
    expect(table.code, table.stderr).toBe(0);
    expect(one!.code, one!.stderr).toBe(0);
    single = JSON.parse(one!.stdout) as typeof single;
    doc = JSON.parse(readFileSync(at('c.json'), 'utf8')) as CompareDocument;
    html = readFileSync(at('c.html'), 'utf8');
  }, 240_000);
  afterAll(() => dir.remove());

  it('runs every grid point in both modes, in grid order', () => {
    expect(doc.format).toBe('kraftsim-compare/1');
    expect(doc.scenario).toBe('controller-failover');
    expect(doc.seed).toBe(42);
    expect(doc.modes).toEqual(['zk', 'kraft']);
    expect(doc.grid).toEqual([{ key: 'partitions', unit: 'count', values: [200, 400], geometric: false }]);
    expect(doc.points.map((p) => p.grid)).toEqual([{ partitions: 200 }, { partitions: 400 }]);
    for (const p of doc.points) {
      expect(p.runs.map((r) => r.mode)).toEqual(['zk', 'kraft']);
      for (const r of p.runs as CompareRun[]) {
        expect(r.params['partitions']).toBe(p.grid['partitions']);
        expect(r.metrics.recoveryMs).toBeGreaterThan(0);
        expect(r.replay).toContain(`--set partitions=${String(p.grid['partitions'])}`);
      }
    }
  });

  it('each run is the run `sim run --set` makes: same trace hash and figures', () => {
    const zk400 = doc.points[1]!.runs[0] as CompareRun;
    expect(zk400.traceHash).toBe(single.runs[0]!.traceHash);
    expect(zk400.metrics.recoveryMs).toBe(single.runs[0]!.metrics.recoveryMs);
  });

  it('gives the ZooKeeper / KRaft recovery ratio of each point', () => {
    for (const p of doc.points) {
      const [zk, kraft] = p.runs as CompareRun[];
      expect(p.recoveryRatio).toBeCloseTo(zk!.metrics.recoveryMs! / kraft!.metrics.recoveryMs!, 2);
    }
  });

  it('prints a table: mode groups, one row per grid point, figures with units', () => {
    const lines = table.stdout.trimEnd().split('\n');
    expect(lines[0]).toBe('controller-failover  seed 42');
    expect(lines[1]).toMatch(/─ zk ─.*─ kraft ─/);
    expect(lines[2]).toMatch(/^partitions\s+recovery\s+detect\s+elect\s+load\s+propagate\s+max unavailable\s+max divergence\s+recovery.*zk\/kraft recovery$/);
    expect(lines).toHaveLength(5);
    expect(lines[3]).toMatch(/^200\s+\d[\d.,]* (s|ms)\s/);
    expect(lines[4]).toMatch(/^400\s/);
    expect(lines[4]).toMatch(/\d(\.\d+)?×$/);
    // The same document renders the same table.
    expect(renderCompareTable(doc)).toBe(table.stdout.trimEnd());
  });

  it('renders Markdown with one column per mode figure', () => {
    const md = renderCompareMarkdown(doc).split('\n');
    expect(md[0]).toMatch(/^\| partitions \| zk recovery \| zk detect \|.*\| kraft max divergence \| zk\/kraft recovery \|$/);
    expect(md[1]).toBe(`|---|${Array(15).fill('---:').join('|')}|`);
    expect(md.slice(2).map((l) => l.split(' | ')[0])).toEqual(['| 200', '| 400']);
  });

  it('writes a self-contained HTML report with one chart per figure and a series per mode', () => {
    expect(html).toMatch(/^<!doctype html>/);
    expect(html).not.toMatch(/<script[^>]+src=|<link[^>]+href=["']?https?:/i);
    expect(html).toContain('uPlot');
    const m = /<script type="application\/json" id="compare-data">(.*?)<\/script>/s.exec(html);
    expect(m).not.toBeNull();
    const view = JSON.parse(m![1]!) as ReturnType<typeof compareView>;
    expect(view).toEqual(compareView(doc));
    expect(view.x).toEqual([200, 400]);
    expect(view.xLog).toBe(false);
    expect(view.charts.map((c) => c.id)).toEqual(['recovery', 'divergence', 'unavailable']);
    for (const c of view.charts) expect(c.series.map((s) => s.label)).toEqual(['zk', 'kraft']);
    for (const c of view.charts) expect(html).toContain(`id="chart-${c.id}"`);
    // Every run's replay command is in the page.
    for (const p of doc.points) for (const r of p.runs) expect(html).toContain(r.replay);
  });

  it.skipIf(CHROMIUM === undefined)('draws its charts in headless Chromium with no console error', async () => {
    const { chromium } = await import('playwright-core');
    const browser = await chromium.launch({ executablePath: CHROMIUM!, args: ['--no-sandbox'] });
    try {
      const page = await browser.newPage();
      const errors: string[] = [];
      page.on('console', (m) => {
        if (m.type() === 'error') errors.push(m.text());
      });
      page.on('pageerror', (e) => errors.push(String(e)));
      await page.goto(`file://${at('c.html')}`);
      // uPlot counts the x values as a series: 1 + one per mode.
      const series = await page.evaluate(() => ((globalThis as unknown as { compareCharts?: { series: unknown[] }[] }).compareCharts ?? []).map((u) => u.series.length));
      expect(series).toEqual([3, 3, 3]);
      expect(await page.locator('.plot canvas').count()).toBe(3);
      expect(errors).toEqual([]);
    } finally {
      await browser.close();
    }
  }, 60_000);
});

describe('sim compare bad input: one line on stderr, exit 2', () => {
  const dir = scratch();
  afterAll(() => dir.remove());
  const cases: [string, string[], RegExp][] = [
    ['an unknown key', ['--grid', 'partitionz=200,400'], /--grid: unknown parameter 'partitionz'/],
    ['an empty list', ['--grid', 'partitions='], /--grid partitions: the list of values is empty/],
    ['a value that is not a number', ['--grid', 'partitions=200,abc'], /--grid partitions: expected a number/],
    ['a fraction for a whole number', ['--grid', 'partitions=1.5'], /--grid partitions: expected a whole number/],
    ['no --grid', [], /--grid is required/],
    ['a key both varied and fixed', ['--grid', 'partitions=200,400', '--set', 'partitions=300'], /also given with --set/],
    ['--report into a missing directory', ['--grid', 'partitions=200', '--report', join('/nonexistent-dir-kraftsim', 'c.html')], /--report .*does not exist/],
    ['--json-out into a missing directory', ['--grid', 'partitions=200', '--json-out', join('/nonexistent-dir-kraftsim', 'c.json')], /--json-out .*does not exist/],
  ];
  // What the CLI says and returns, through its main() in this process (simHere).
  it.each(cases)('%s', async (_what, args, message) => {
    const r = await simHere('compare', S, ...args);
    expect(expectUsageError(r)).toMatch(message);
    expect(r.stdout).toBe('');
  }, 60_000);
});

describe('sim compare --help', () => {
  it('teaches the command with an example and the exit codes', async () => {
    const r = await simHere('compare', '--help');
    expect(r.code).toBe(0);
    for (const w of ['--grid <key=v1,v2,...>', '--seed', '--mode', '--set', '--workers', '--json', '--json-out', '--md', '--report']) expect(r.stdout).toContain(w);
    expect(r.stdout).toContain('sim compare scenarios/controller-failover.ts --seed 42 --grid partitions=200000,500000,1000000,2000000');
    expect(r.stdout).toMatch(/Exit codes:/);
  }, 60_000);
});

describe('grid parsing', () => {
  it('parses values against the parameter, in the order given', () => {
    expect(parseGrid(['partitions=2000, 1000'], KAFKA_PARAMS)).toEqual([{ key: 'partitions', unit: 'count', values: [2000, 1000], geometric: false }]);
    expect(parseGrid(['partitions=200000,500000,1000000,2000000'], KAFKA_PARAMS)[0]!.geometric).toBe(true);
  });
  it('refuses a value listed twice and an axis given twice', () => {
    expect(() => parseGrid(['partitions=200,200'], KAFKA_PARAMS)).toThrow(/listed twice/);
    expect(() => parseGrid(['partitions=200', 'partitions=400'], KAFKA_PARAMS)).toThrow(/given twice/);
  });
  it('calls values geometric when they grow by a steady factor', () => {
    expect(isGeometric([200_000, 500_000, 1_000_000, 2_000_000])).toBe(true);
    expect(isGeometric([1, 10, 100, 1000])).toBe(true);
    expect(isGeometric([100, 200, 300, 400])).toBe(false);
    expect(isGeometric([200, 400])).toBe(false);
    expect(isGeometric([200, 20_000])).toBe(true);
    expect(isGeometric([0, 10, 100])).toBe(false);
    expect(isGeometric(['a', 'b'])).toBe(false);
  });
});

describe('the compare report escapes what the scenario and the command line supply', () => {
  it('no markup from a scenario name, a grid value or a replay command reaches the page', async () => {
    const { renderCompareHtml } = await import('../../reports/html/compare-report.ts');
    const evil = '</script><img src=x onerror=alert(1)>';
    const run = {
      scenario: evil, mode: 'zk', seed: 1, params: {}, traceHash: '0123456789abcdef', events: 1, simMs: 1, wallMs: 1,
      stop: { reason: 'stopped', detail: '' }, invariants: [], violation: null, extra: {}, replay: `npx sim run ${evil}`,
      metrics: { recoveryMs: 1000, phases: { detectMs: 1, electMs: 1, loadMs: 1, propagateMs: 1 }, unavailablePartitionMs: 0, maxUnavailablePartitions: 0, divergence: { maxPartitions: 0, partitionMs: 0, phantomStates: 0, convergedAtMs: null }, splitBrainMs: 0 },
    } as unknown as CompareRun;
    const doc: CompareDocument = {
      format: 'kraftsim-compare/1', scenario: evil, file: `${evil}.ts`, seed: 1, modes: ['zk'], set: { variant: evil },
      grid: [{ key: 'variant', unit: '', values: [evil], geometric: false }],
      points: [{ grid: { variant: evil }, runs: [run], recoveryRatio: null }],
    };
    const html = renderCompareHtml(doc);
    expect(html).not.toContain('<img');
    expect(html.match(/<\/script>/g)).toHaveLength(3);
    expect(html).toContain('&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;');
  });
});
