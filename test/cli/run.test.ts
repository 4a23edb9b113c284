import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Simulation } from '../../core/index.ts';
import { parseDurationUs } from '../../core/time.ts';
import { defaults } from '../../sim/params.ts';
import ping from '../../scenarios/ping.ts';
import { expectUsageError, scenarioSource, scratch, sim, simHere, simHereAll, type Ran } from './spawn.ts';

const s = scratch();
afterAll(() => s.remove());

interface RunJson {
  scenario: string;
  mode: string | null;
  seed: number;
  params: Record<string, unknown>;
  traceHash: string;
  events: number;
  simMs: number;
  wallMs: number;
  invariants: { name: string; checks: number; violations: number }[];
  violation: null | { invariant: string; atMs: number; detail: string; replay: string };
  metrics: Record<string, unknown>;
}

/** stdout must be exactly one JSON object { runs: [...] }. */
function runs(r: Ran): RunJson[] {
  const parsed = JSON.parse(r.stdout) as { runs: RunJson[] };
  expect(Object.keys(parsed)).toEqual(['runs']);
  return parsed.runs;
}

describe('sim run: determinism across processes', () => {
  it('the same seed gives the same trace hash in two processes, another seed a different one', async () => {
    const [a, b, c] = await Promise.all([
      sim('run', 'scenarios/ping.ts', '--seed', '42', '--json'),
      sim('run', 'scenarios/ping.ts', '--seed', '42', '--json'),
      sim('run', 'scenarios/ping.ts', '--seed', '43', '--json'),
    ]);
    for (const r of [a, b, c]) expect(r.code, r.stderr).toBe(0);
    const [ra, rb, rc] = [runs(a)[0]!, runs(b)[0]!, runs(c)[0]!];
    expect(ra.traceHash).toMatch(/^[0-9a-f]{16}$/);
    expect(rb.traceHash).toBe(ra.traceHash);
    // Everything but wall time is identical, byte for byte.
    const strip = (out: string): string => out.replace(/"wallMs": \d+/, '');
    expect(strip(b.stdout)).toBe(strip(a.stdout));
    expect(rc.traceHash).not.toBe(ra.traceHash);
  });

  it('--set bugs=skip-fsync on ping exits 1 with a violation of seq-unique-per-disk', async () => {
    const [json, text] = await Promise.all([
      sim('run', 'scenarios/ping.ts', '--seed', '42', '--set', 'bugs=skip-fsync', '--json'),
      sim('run', 'scenarios/ping.ts', '--seed', '42', '--set', 'bugs=skip-fsync'),
    ]);
    expect(json.code).toBe(1);
    const r = runs(json)[0]!;
    expect(r.violation).toMatchObject({ invariant: 'seq-unique-per-disk' });
    expect(r.violation!.replay).toBe('npx sim run scenarios/ping.ts --seed 42 --set bugs=skip-fsync');
    expect(r.invariants.find((i) => i.name === 'seq-unique-per-disk')!.violations).toBe(1);
    expect(text.code).toBe(1);
    expect(text.stdout).toContain('seq-unique-per-disk');
    expect(text.stdout).toContain(r.violation!.replay);
  });
});

describe('sim run --json', () => {
  it('prints exactly one JSON object with the §6 fields; metrics are null for ping', async () => {
    const r = await sim('run', 'scenarios/ping.ts', '--seed', '7', '--json', '--set', 'ping.interval.ms=50');
    expect(r.code, r.stderr).toBe(0);
    const [run, ...more] = runs(r);
    expect(more).toEqual([]);
    expect(run).toMatchObject({ scenario: 'ping', mode: null, seed: 7, violation: null });
    expect(run!.params).toEqual({ 'ping.interval.ms': 50, 'peer.timeout.ms': 1000, 'liveness.ms': 5000, bugs: '' });
    expect(run!.traceHash).toMatch(/^[0-9a-f]{16}$/);
    expect(run!.events).toBeGreaterThan(0);
    expect(run!.simMs).toBeGreaterThan(0);
    expect(Number.isInteger(run!.wallMs) && run!.wallMs >= 0).toBe(true);
    expect(run!.invariants.map((i) => i.name).sort()).toEqual(['all-pairs-hear-each-other', 'seq-unique-per-disk']);
    for (const i of run!.invariants) {
      expect(i.checks).toBeGreaterThan(0);
      expect(i.violations).toBe(0);
    }
    expect(run!.metrics).toEqual({
      recoveryMs: null,
      phases: { detectMs: null, electMs: null, loadMs: null, propagateMs: null },
      unavailablePartitionMs: null,
      maxUnavailablePartitions: null,
      divergence: { maxPartitions: null, partitionMs: null, phantomStates: null, convergedAtMs: null },
      splitBrainMs: null,
    });
  });
});

describe('sim run --trace', () => {
  it('writes one JSONL line per traced record, the same records an in-process run hashes', async () => {
    const file = join(s.dir, 'ping.jsonl');
    const r = await sim('run', 'scenarios/ping.ts', '--seed', '5', '--until', '10s', '--json', '--trace', file);
    expect(r.code, r.stderr).toBe(0);
    const lines = readFileSync(file, 'utf8').split('\n').filter((l) => l !== '');
    // The same run in this process: its trace counts every record it hashed.
    const local = new Simulation({ seed: '5' });
    const built = ping.build({ sim: local, params: defaults(ping.params), mode: null, seed: 5 });
    local.installFaults(built.plan);
    local.run({ untilUs: parseDurationUs('10s')! });
    expect(local.trace.hash()).toBe(runs(r)[0]!.traceHash);
    // Every hashed record, then the run's end line (kind 'end', not hashed).
    expect(lines).toHaveLength(local.trace.count + 1);
    expect(JSON.parse(lines[lines.length - 1]!)).toMatchObject({ kind: 'end', label: 'time-limit' });
    const first = JSON.parse(lines[0]!) as Record<string, unknown>;
    expect(Object.keys(first).slice(0, 6)).toEqual(['tUs', 'kind', 'node', 'peer', 'label', 'value']);
    expect(lines.some((l) => l.includes('"kind":"fault"'))).toBe(true);
    expect(readdirSync(s.dir).filter((f) => f.endsWith('.partial') || f.endsWith('.tmp'))).toEqual([]);
  });

  it('leaves no file, partial or not, on bad input', async () => {
    const badPlan = s.file(
      'badplan.ts',
      scenarioSource("sim.addNode('a', () => ({ onMessage() {} })); return { plan: { steps: [{ atMs: 10, action: { type: 'crash', node: 'nosuch' } }] } };"),
    );
    const cases: string[][] = [
      ['run', 'scenarios/ping.ts', '--set', 'no.such=1'],
      ['run', 'scenarios/ping.ts', '--until', 'soon'],
      ['run', 'scenarios/ping.ts', '--seed', 'abc'],
      ['run', badPlan],
    ];
    const results = await Promise.all(cases.map((args, i) => sim(...args, '--trace', join(s.dir, `bad-${i}.jsonl`))));
    for (const r of results) expectUsageError(r);
    expect(readdirSync(s.dir).filter((f) => f.startsWith('bad-'))).toEqual([]);
  });
});

// The guard is the runner's (sim/run.ts, sim/load.ts): main() in this process (simHere) meets it as
// the CLI process does; the loader as a user meets it is in 'scenario files outside an ESM package'
// below and in robust.test.ts.
describe('run-time determinism guard', () => {
  it('a scenario that calls Math.random in build makes sim run fail, naming it', async () => {
    const file = s.file('random.ts', scenarioSource("sim.addNode('a', () => ({ onMessage() {} })); const x = Math.random(); return { plan: { steps: [] }, extra: () => ({ x }) };"));
    const inRun = s.file('random-in-run.ts', scenarioSource("sim.addNode('a', () => ({ onMessage() {} })); sim.at(5, () => { Date.now(); }); return { plan: { steps: [] } };"));
    const ok = s.file('fine.ts', scenarioSource("sim.addNode('a', () => ({ onMessage() {} })); return { plan: { steps: [] } };"));
    const [bad, badRun, good] = (await simHereAll([['run', file, '--json'], ['run', inRun, '--json'], ['run', ok, '--json']])) as [Ran, Ran, Ran];
    expect(bad.code).toBe(2); // the scenario file is at fault: one line, exit 2
    expect(bad.stdout).toBe('');
    expect(bad.stderr).toContain('Math.random');
    expect(badRun.code).toBe(2);
    expect(badRun.stderr).toContain('Date.now');
    expect(good.code, good.stderr).toBe(0); // the same file without the call runs
    expect(existsSync(file)).toBe(true);
  });

  it('a scenario file that draws Math.random at import fails too (exit 2), not only inside build', async () => {
    const top = s.file('random-at-import.ts', `const j = Math.random();\n${scenarioSource("sim.addNode('a', () => ({ onMessage() {} })); return { plan: { steps: [] }, extra: () => ({ j }) };")}`);
    const r = await simHere('run', top, '--json');
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/not deterministic: Math\.random.*at import/);
  });
});

describe('scenario files outside an ESM package', () => {
  it('load and run, and their errors are still one line with exit 2', async () => {
    const bare = scratch({ esmPackage: false });
    try {
      const ok = bare.file('ok.ts', scenarioSource("sim.addNode('a', () => ({ onMessage() {} })); return { plan: { steps: [] } };"));
      const throws = bare.file('throws.ts', "throw new Error('boom on import');\n");
      const none = bare.file('none.ts', 'export const x = 1;\n');
      const [a, b, c] = await Promise.all([sim('run', ok, '--json'), sim('run', throws), sim('run', none)]);
      expect(a.code, a.stderr).toBe(0);
      expect(JSON.parse(a.stdout).runs[0].scenario).toBe('scratch');
      expect(b.code).toBe(2);
      expect(b.stderr).toContain('boom on import');
      expect(c.code).toBe(2);
      expect(c.stderr).toContain('no default-exported scenario');
    } finally {
      bare.remove();
    }
  });
});
