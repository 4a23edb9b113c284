import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, lstatSync, mkdirSync, readFileSync, readdirSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { expectUsageError, ROOT, scenarioSource, scratch, sim, simAll, simHere, simHereAll, simWith, spawnSim, type Ran } from './spawn.ts';

const s = scratch();
afterAll(() => s.remove());

const node = "sim.addNode('a', () => ({ onMessage() {} }));";
const tmpFiles = (dir: string): string[] => readdirSync(dir).filter((f) => f.endsWith('.tmp') || f.endsWith('.partial'));

// sim() is the CLI as a process (bin/sim.js on dist/): files, signals, the loader as a user meets it,
// exit codes as a shell sees them. simHere() is the CLI's main() in this process, for what it says
// and returns on a bad scenario or bad numbers, without a process start for each case.

describe('output files: never overwrite what is not ours, never leave half a file', () => {
  it('refuses a fifo, a symlink, a directory, a device, a read-only file and the scenario itself; each stays as it was', { timeout: 300_000 }, async () => {
    const dir = join(s.dir, 'targets');
    mkdirSync(dir);
    const fifo = join(dir, 'fifo');
    execFileSync('mkfifo', [fifo]);
    const real = join(dir, 'real.jsonl');
    writeFileSync(real, 'keep\n');
    const link = join(dir, 'link.jsonl');
    symlinkSync(real, link);
    const ro = join(dir, 'ro.jsonl');
    writeFileSync(ro, 'read-only\n');
    chmodSync(ro, 0o444);
    const sub = join(dir, 'sub');
    mkdirSync(sub);
    const scenario = s.file('own.ts', scenarioSource(`${node} return { plan: { steps: [] } };`));
    const cases: [string, RegExp][] = [
      [fifo, /is a fifo/],
      [link, /is a symbolic link/],
      [sub, /is a directory/],
      ['/dev/full', /is a device/],
      ['/dev/null', /is a device/],
      [ro, /read-only/],
      [scenario, /the scenario file being run/],
      [join(dir, 'no', 'such', 't.jsonl'), /does not exist/],
    ];
    const results = await simAll(cases.map(([target]) => ['run', target === scenario ? scenario : 'scenarios/ping.ts', '--seed', '1', '--until', '1s', '--trace', target]));
    results.forEach((r, i) => expect(expectUsageError(r), cases[i]![0]).toMatch(cases[i]![1]));
    expect(lstatSync(fifo).isFIFO()).toBe(true);
    expect(lstatSync(link).isSymbolicLink()).toBe(true);
    expect(readFileSync(real, 'utf8')).toBe('keep\n');
    expect(readFileSync(ro, 'utf8')).toBe('read-only\n');
    expect(statSync('/dev/full').isCharacterDevice()).toBe(true);
    expect(readFileSync(scenario, 'utf8')).toContain('defineScenario');
    expect(tmpFiles(dir)).toEqual([]);
  });

  it('replaces a regular file only when the run completes, keeping its permissions', async () => {
    const target = s.file('kept.jsonl', 'old\n');
    chmodSync(target, 0o640);
    const bad = s.file('throws-in-build.ts', scenarioSource(`${node} throw new Error('no cluster for you');`));
    const failed = await sim('run', bad, '--trace', target);
    expect(expectUsageError(failed)).toMatch(/throws-in-build\.ts: build\(\) failed: no cluster for you/);
    expect(readFileSync(target, 'utf8')).toBe('old\n');
    const ok = await sim('run', 'scenarios/ping.ts', '--seed', '1', '--until', '1s', '--trace', target);
    expect(ok.code, ok.stderr).toBe(0);
    expect(readFileSync(target, 'utf8').split('\n')[0]).toMatch(/^\{"tUs":/);
    expect(statSync(target).mode & 0o777).toBe(0o640);
    expect(tmpFiles(s.dir)).toEqual([]);
  });

  it('- is stdout: the trace on stdout, the table on stderr; refused with --json and with two modes', async () => {
    const [one, json, two] = await Promise.all([
      sim('run', 'scenarios/ping.ts', '--seed', '1', '--until', '1s', '--trace', '-'),
      sim('run', 'scenarios/ping.ts', '--seed', '1', '--until', '1s', '--trace', '-', '--json'),
      sim('run', 'scenarios/controller-failover.ts', '--set', 'partitions=1000', '--trace', '-'),
    ]);
    expect(one.code, one.stderr).toBe(0);
    const lines = one.stdout.split('\n').filter((l) => l !== '');
    expect(lines.length).toBeGreaterThan(100);
    for (const l of lines) expect(() => JSON.parse(l) as unknown, l).not.toThrow();
    expect(one.stderr).toContain('trace hash');
    expect(expectUsageError(json)).toMatch(/both want stdout/);
    expect(expectUsageError(two)).toMatch(/would mix on stdout/);
  });

  it('on SIGINT and SIGTERM the temporary file is removed, the old file kept, and the signal ends the process', { timeout: 300_000 }, async () => {
    // Both at once: each run sees its signal only between two slices of events (seconds apart).
    await Promise.all(
      (['SIGINT', 'SIGTERM'] as const).map(async (signal) => {
        const dir = join(s.dir, `sig-${signal}`);
        mkdirSync(dir);
        const target = join(dir, 'trace.jsonl');
        writeFileSync(target, 'previous run\n');
        // A run long enough to be interrupted: ping for a simulated day.
        const p = spawnSim({}, 'run', 'scenarios/ping.ts', '--seed', '3', '--until', '24h', '--trace', target);
        const deadline = Date.now() + 120_000;
        while (tmpFiles(dir).length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
        expect(tmpFiles(dir)).toHaveLength(1);
        p.child.kill(signal);
        const r = await p.result;
        expect(r.signal ?? r.code).toBe(r.signal !== null ? signal : signal === 'SIGINT' ? 130 : 143);
        expect(tmpFiles(dir)).toEqual([]);
        expect(readFileSync(target, 'utf8')).toBe('previous run\n');
      }),
    );
  });

  it('a shell sees 130 after Ctrl-C (SIGINT) of a run that writes a trace', { timeout: 300_000 }, async () => {
    const dir = join(s.dir, 'shell');
    mkdirSync(dir);
    const target = join(dir, 't.jsonl');
    const script = `node ${join(ROOT, 'bin/sim.js')} run scenarios/ping.ts --until 24h --trace ${target} & pid=$!; while ! ls -a ${dir} | grep -q '\\.tmp$'; do sleep 0.05; done; kill -INT $pid; wait $pid; echo "rc=$?"`;
    const out = execFileSync('bash', ['-c', script], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
    expect(out.trim()).toBe('rc=130');
    expect(readdirSync(dir)).toEqual([]);
  });
});

describe('never hang', () => {
  it('a timer re-arming itself at zero delay is stopped by the watchdog: exit 2, naming node and label', async () => {
    const file = s.file('spin.ts', scenarioSource(`sim.addNode('spinner', (n) => { const spin = () => { n.setTimer('spin', 0, spin); }; n.setTimer('spin', 1500, spin); return { onMessage() {} }; }); return { plan: { steps: [] } };`));
    const limited = await simHere('run', file, '--max-stalled-events', '20000');
    const bad = await simHere('run', file, '--max-stalled-events', '0');
    expect(expectUsageError(limited)).toMatch(/stopped advancing at 1\.5 ms: more than 20000 events in a row at that instant, the last timer 'spin' of node spinner/);
    expect(expectUsageError(bad)).toMatch(/--max-stalled-events must be a whole number/);
  });

  it('a scenario file that loops at import is stopped after --import-timeout: exit 2, one line', async () => {
    const file = s.file('loops.ts', `let i = 0;\nfor (;;) i++;\n${scenarioSource(`${node} return { plan: { steps: [] } };`)}`);
    const start = Date.now();
    const r = await sim('run', file, '--import-timeout', '1s');
    expect(expectUsageError(r)).toMatch(/loops\.ts: its top-level code was still running after 1 s/);
    expect(Date.now() - start).toBeLessThan(60_000);
  });

  it('seed arithmetic stops at 2^53 − 1, and so do durations (virtual time is integer µs below 2^53)', async () => {
    const results = await simHereAll([
      ['run', 'scenarios/ping.ts', '--set', 'ping.interval.ms=1e15'],
      ['run', 'scenarios/ping.ts', '--seed', '99999999999999999999'],
      ['run', 'scenarios/ping.ts', '--seed', '9007199254740992'],
      ['check', '--only', 'ping', '--seeds', '5', '--from', '9007199254740990'],
      ['check', '--seeds', 'abc'],
      ['check', '--from', '-3'],
    ]);
    const [interval, ...lines] = results.map((r) => expectUsageError(r));
    expect(interval).toMatch(/--set ping\.interval\.ms: at most 9007199254740 ms \(2\^53 µs/);
    expect(lines[0]).toMatch(/--seed must be at most 2\^53 − 1/);
    expect(lines[1]).toMatch(/--seed must be at most 2\^53 − 1/);
    expect(lines[2]).toMatch(/--from 9007199254740990 with 5 seeds goes past 2\^53 − 1/);
    expect(lines[3]).toMatch(/^sim: --seeds must be a non-negative integer, got 'abc'/);
    expect(lines[4]).toMatch(/--from must be a non-negative integer/);
  });
});

describe('what cannot fit is refused up front', () => {
  it('partitions=1e12 and 5e7 get one line with the estimate and the limit, not a crash or a long silence', async () => {
    const start = Date.now();
    const [huge, big] = await Promise.all([
      sim('run', 'scenarios/controller-failover.ts', '--set', 'partitions=1e12'),
      sim('run', 'scenarios/controller-failover.ts', '--set', 'partitions=50000000'),
    ]);
    expect(expectUsageError(huge)).toMatch(/partitions=1000000000000 needs about [\d.]+ [TP]B of memory, more than [\d.]+ [GT]B \((physical memory|the container memory limit)\)/);
    expect(expectUsageError(big)).toMatch(/partitions=50000000 needs about [\d.]+ GB of memory, more than/);
    expect(Date.now() - start).toBeLessThan(60_000);
  });
});

describe('exit codes: 1 only for a violated property, 2 for bad input, 70 for our bugs', () => {
  it('user errors in a scenario file are exit 2 with one line naming the file and the problem', { timeout: 300_000 }, async () => {
    const f = (name: string, build: string): string => s.file(name, scenarioSource(build));
    const cases: [string, RegExp][] = [
      [f('build-throws.ts', `throw new Error('boom');`), /build-throws\.ts: build\(\) failed: boom/],
      [f('unknown-action.ts', `${node} return { plan: { steps: [{ atMs: 5, action: { type: 'explode', node: 'a' } }] } };`), /unknown-action\.ts: fault plan step 0: unknown action type "explode"/],
      [f('negative-at.ts', `${node} return { plan: { steps: [{ atMs: -5, action: { type: 'crash', node: 'a' } }] } };`), /negative-at\.ts: fault plan step 0: atMs must not be negative, got -5/],
      [f('nan-at.ts', `${node} return { plan: { steps: [{ atMs: 'soon', action: { type: 'heal' } }] } };`), /nan-at\.ts: fault plan step 0: atMs must be a number/],
      [f('duplicate.ts', `${node} ${node} return { plan: { steps: [] } };`), /duplicate\.ts: build\(\) failed: duplicate node name a/],
      [f('no-plan.ts', `${node} return {};`), /no-plan\.ts: the fault plan has no steps|no-plan\.ts: build\(\) returned no fault plan/],
      [f('bad-trigger.ts', `${node} return { plan: { steps: [], triggers: [{ when: { kind: 'timer' }, afterMs: -1, action: { type: 'heal' } }] } };`), /bad-trigger\.ts: fault plan trigger 0: afterMs must not be negative/],
    ];
    const results = await simHereAll(cases.map(([file]) => ['run', file]));
    results.forEach((r, i) => expect(expectUsageError(r), cases[i]![0]).toMatch(cases[i]![1]));
  });

  it('an error inside the run is internal (70): one line without --debug, the stack with it', async () => {
    const file = s.file('model-bug.ts', scenarioSource(`${node} sim.at(2000, () => { throw new Error('model invariant broke'); }); return { plan: { steps: [] } };`));
    const [plain, debug] = await Promise.all([sim('run', file), sim('run', file, '--debug')]);
    expect(plain.code).toBe(70);
    expect(plain.stderr.trim().split('\n')).toHaveLength(1);
    expect(plain.stderr).toMatch(/internal error: model invariant broke/);
    expect(plain.stderr).not.toMatch(/^\s+at /m);
    expect(debug.code).toBe(70);
    expect(debug.stderr).toMatch(/^\s+at /m);
  });

  it('Date.now, new Date() and performance.now at a scenario file\'s top level are refused (exit 2), and the loader still works', async () => {
    const body = scenarioSource(`${node} return { plan: { steps: [] } };`);
    const cjs = scratch({ esmPackage: false });
    try {
      const cases: [string, RegExp][] = [
        [s.file('date-now.ts', `export const t0 = Date.now();\n${body}`), /not deterministic: Date\.now called at import/],
        [s.file('new-date.ts', `export const t0 = new Date().getTime();\n${body}`), /not deterministic: new Date\(\) called at import/],
        [s.file('perf-now.ts', `export const t0 = performance.now();\n${body}`), /not deterministic: performance\.now called at import/],
        [cjs.file('cjs-date.ts', `export const t0 = Date.now();\n${body}`), /not deterministic: Date\.now called at import/],
      ];
      const results = await simAll([...cases.map(([file]) => ['run', file]), ['run', cjs.file('cjs-ok.ts', body)]]);
      cases.forEach(([file, re], i) => expect(expectUsageError(results[i]!), file).toMatch(re));
      // A file compiled as CommonJS, whose loader reads the clock, still loads and runs.
      expect(results[cases.length]!.code, results[cases.length]!.stderr).toBe(0);
    } finally {
      cjs.remove();
    }
  });
});

describe('what a user notices', () => {
  it('NO_COLOR and --no-color turn colours off even when colour is forced', async () => {
    const args = ['run', 'scenarios/ping.ts', '--seed', '42', '--set', 'bugs=skip-fsync'];
    const [forced, noColor, flag] = await Promise.all([
      simWith({ FORCE_COLOR: '1', NO_COLOR: undefined }, ...args),
      simWith({ FORCE_COLOR: '1', NO_COLOR: '1' }, ...args),
      simWith({ FORCE_COLOR: '1', NO_COLOR: undefined }, ...args, '--no-color'),
    ]);
    const esc = /\x1b\[/;
    expect(forced.code).toBe(1);
    expect(forced.stdout).toMatch(esc); // the check can fail: colour is on when forced
    expect(noColor.code).toBe(1);
    expect(noColor.stdout).not.toMatch(esc);
    expect(flag.code).toBe(1);
    expect(flag.stdout).not.toMatch(esc);
  });

  it('on a terminal with NO_COLOR, not one escape code: the progress line is cleared with spaces', { timeout: 120_000 }, () => {
    let out: string;
    try {
      out = execFileSync('script', ['-qec', `node ${join(ROOT, 'bin/sim.js')} run scenarios/ping.ts --seed 1 --until 2s --set bugs=skip-fsync`, '/dev/null'], {
        cwd: ROOT,
        encoding: 'utf8',
        env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: undefined },
      });
    } catch (e) {
      const err = e as { status?: number; stdout?: string; code?: string };
      if (err.code === 'ENOENT') return; // no `script` (util-linux) on this machine
      out = err.stdout ?? '';
    }
    expect(out).toContain('trace hash');
    expect(out).not.toMatch(/\x1b\[/);
  });

  it('--version, bare sim (help on stdout, exit 0), and the help states the exit codes', async () => {
    const [version, bare, help, runHelp] = (await simAll([['--version'], [], ['--help'], ['run', '--help']])) as [Ran, Ran, Ran, Ran];
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
    expect(version.code).toBe(0);
    expect(version.stdout.trim()).toBe(pkg.version);
    expect(bare.code).toBe(0);
    expect(bare.stdout).toContain('Usage: sim');
    expect(bare.stderr).toBe('');
    for (const r of [help, runHelp]) {
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/Exit codes:/);
      expect(r.stdout).toMatch(/1 +a property was violated/);
      expect(r.stdout).toMatch(/70 +internal error/);
    }
    expect(runHelp.stdout).toContain('--max-stalled-events');
  });

  it('messages: a directory as the scenario, check --set of an unknown key, --mode both on a one-mode scenario', async () => {
    const [dir, unknown, both] = await Promise.all([
      simHere('run', 'scenarios'),
      simHere('check', '--only', 'ping', '--set', 'foo=1'),
      sim('run', 'scenarios/zombie-controller.ts', '--mode', 'both', '--set', 'partitions=2000', '--json'),
    ]);
    expect(expectUsageError(dir)).toMatch(/scenarios is a directory, not a scenario file/);
    expect(expectUsageError(unknown)).toMatch(/unknown parameter 'foo'/);
    expect(both.code, both.stderr).toBe(0);
    expect(both.stderr).toMatch(/runs only in ZooKeeper mode \(zk\); running that mode alone/);
    expect((JSON.parse(both.stdout) as { runs: unknown[] }).runs).toHaveLength(1);
  });

  it('the end of a run is said in words: no "stopped: stopped", no "converged at —" when nothing diverged', async () => {
    const r = await sim('run', 'scenarios/controller-failover.ts', '--seed', '42', '--set', 'partitions=2000');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).not.toContain('stopped: stopped');
    expect(r.stdout).toMatch(/\[kraft\] properties: .*; ended: recovered and settled/);
    expect(r.stdout).not.toMatch(/converged at .*—/);
  });

  it('the check example in --help shows what it claims: it finds the KAFKA-15489 violation (exit 1)', { timeout: 600_000 }, async () => {
    const help = await sim('check', '--help');
    const example = /sim (check --only swarm --set bugs=KAFKA-15489)\s+# exit 1/.exec(help.stdout);
    expect(example, help.stdout).not.toBeNull();
    // The example as written, over 4 of its 200 seeds (17…20): runs are independent and a check
    // exits 1 when any run fails, so a failure among them is the example's exit 1 (seed 19 fails;
    // how many of the other seeds run with it does not matter, so only a few do).
    const r = await sim(...example![1]!.split(' '), '--from', '17', '--seeds', '4');
    expect(r.code, r.stderr).toBe(1);
    expect(r.stdout).toMatch(/raft\.leader-resigns-without-majority|one-active-controller/);
  });
});

describe('no stray files', () => {
  it('the scratch directory holds no temporary files after all of the above', () => {
    expect(existsSync(s.dir)).toBe(true);
    expect(tmpFiles(s.dir)).toEqual([]);
  });
});
