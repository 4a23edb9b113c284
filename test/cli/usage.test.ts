import { describe, expect, it, onTestFinished } from 'vitest';
import { expectUsageError, scenarioSource, scratch, sim, simHere, simHereAll } from './spawn.ts';

// In this process (simHere): what the CLI says and returns; the process itself is robust.test.ts's.

describe('sim: bad input is exit 2 with one line on stderr and no stack trace', () => {
  it('every kind of bad input', { timeout: 600_000 }, async () => {
    const s = scratch();
    onTestFinished(() => s.remove());
    const cases: [string[], RegExp][] = [
      [['run', `${s.dir}/missing.ts`, '--seed', '1'], /not found/],
      [['run', s.file('syntax.ts', 'export default {{{ not typescript\n'), '--seed', '1'], /cannot load/],
      [['run', s.file('throws.ts', "throw new Error('boom at import');\nexport {};\n"), '--seed', '1'], /boom at import/],
      [['run', s.file('nodefault.ts', 'export const x = 1;\n')], /default-exported scenario/],
      [['run', s.file('plain.ts', 'export default { name: "x", build() {} };\n')], /default-exported scenario/],
      [['run', 'scenarios/ping.ts', '--seed', '-1'], /seed/],
      [['run', 'scenarios/ping.ts', '--seed', 'abc'], /seed/],
      [['run', 'scenarios/ping.ts', '--seed', '1.5'], /seed/],
      [['run', 'scenarios/ping.ts', '--set', 'no.such.key=1'], /unknown parameter 'no\.such\.key'/],
      [['run', 'scenarios/ping.ts', '--set', 'ping.interval.ms=fast'], /ping\.interval\.ms.*number/],
      [['run', 'scenarios/ping.ts', '--set', 'bugs=no-such-bug'], /no-such-bug/],
      [['run', 'scenarios/ping.ts', '--set', 'novalue'], /key=value/],
      [['run', 'scenarios/ping.ts', '--frobnicate'], /unknown option/],
      [['run', 'scenarios/ping.ts', '--until', 'forever'], /--until/],
      [['run', 'scenarios/ping.ts', '--until', '0s'], /--until/],
      [['run', 'scenarios/ping.ts', '--mode', 'kraft'], /mode/],
      [['run', 'scenarios/ping.ts', '--trace', `${s.dir}/no/such/dir/t.jsonl`], /does not exist/],
      [['params', `${s.dir}/missing.ts`], /not found/],
      [['run'], /missing required argument/],
      // Values that are fine alone but not together, raised inside the scenario's own module graph.
      [['run', 'scenarios/controller-failover.ts', '--set', 'brokers=2'], /replication\.factor 3 is larger than the number of brokers 2/],
      [['run', 'scenarios/controller-failover.ts', '--mode', 'kraft', '--set', 'kraft.combined=true', '--set', 'kraft.controllers=20'], /kraft\.controllers/],
      [['run', 'scenarios/controller-failover.ts', '--mode', 'zk', '--set', 'zk.servers=4'], /zk\.servers must be 3 or 5/],
      [['check', '--only', 'failover', '--seeds', '1', '--set', 'brokers=2'], /larger than the number of brokers/],
      [['frobnicate'], /unknown command/],
      [['run', s.file('badplan.ts', scenarioSource("sim.addNode('a', () => ({ onMessage() {} })); return { plan: { steps: [{ atMs: 10, action: { type: 'crash', node: 'nosuch' } }] } };")), '--seed', '1'], /nosuch/],
    ];
    const results = await simHereAll(cases.map(([args]) => args));
    results.forEach((r, i) => {
      const [args, pattern] = cases[i]!;
      let line: string;
      try {
        line = expectUsageError(r);
      } catch (e) {
        throw new Error(`sim ${args.join(' ')}: ${(e as Error).message}`);
      }
      expect(line, `sim ${args.join(' ')}`).toMatch(pattern);
      expect(r.stdout, `sim ${args.join(' ')}`).toBe('');
    });
  });
});

describe('sim list, params and --help', () => {
  it('list shows ping with its description; params shows keys, defaults and units', async () => {
    // list loads every scenario: as a process it imports their built twins, here the loader would
    // compile each with the whole model graph.
    const [list, params] = [await sim('list'), await simHere('params', 'scenarios/ping.ts')];
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(/ping\.ts.*kernel demo: 5 nodes ping each other under every fault family/);
    expect(params.code).toBe(0);
    const rows = params.stdout.split('\n');
    expect(rows[0]).toMatch(/key\s+default\s+unit/);
    expect(rows.some((r) => /^ping\.interval\.ms\s+100\s+ms\s+/.test(r))).toBe(true);
    expect(rows.some((r) => /^peer\.timeout\.ms\s+1000\s+ms\s+/.test(r))).toBe(true);
    expect(rows.some((r) => /^liveness\.ms\s+5000\s+ms\s+/.test(r))).toBe(true);
    expect(rows.some((r) => /^bugs\s+\(none\).*skip-fsync/.test(r))).toBe(true);
  });

  it('--help on each command exits 0 and names its options', async () => {
    const expectations: [string[], string[]][] = [
      [['--help'], ['run', 'params', 'list']],
      [['run', '--help'], ['--seed', '--mode', '--set', '--json', '--trace', '--until', '--debug']],
      [['params', '--help'], ['<scenario>']],
      [['list', '--help'], ['list']],
    ];
    const results = await simHereAll(expectations.map(([args]) => args));
    results.forEach((r, i) => {
      const [args, words] = expectations[i]!;
      expect(r.code, args.join(' ')).toBe(0);
      for (const w of words) expect(r.stdout, args.join(' ')).toContain(w);
    });
  });
});
