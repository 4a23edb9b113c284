import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { expectUsageError, scratch, sim, simAll, simHere, simHereAll } from '../cli/spawn.ts';

describe('sim shrink → replay → diff from the command line', () => {
  it('shrinks a toggle failure, writes a capsule that replays with its hash, and diffs traces', { timeout: 300_000 }, async () => {
    const s = scratch();
    onTestFinished(() => s.remove());
    const cap = join(s.dir, 'cap.json');
    const sh = await sim('shrink', 'scenarios/swarm.ts', '--seed', '19', '--mode', 'kraft', '--set', 'bugs=KAFKA-15489', '--out', cap);
    expect(sh.code, sh.stderr).toBe(1);
    expect(sh.stdout).toMatch(/raft\.leader-resigns-without-majority still fails after \d+ runs/);
    expect(sh.stdout).toMatch(/faults: 7 faults \(13 steps.*→ 1 fault \(2 steps/);
    expect(sh.stdout).toContain(`replay: npx sim replay ${cap}`);
    expect(sh.stderr).toMatch(/run \d+\/400: .* — dropped/);
    const c = JSON.parse(readFileSync(cap, 'utf8')) as Record<string, unknown> & { code: { version: string }; plan: { steps: unknown[] } };
    expect(c['scenario']).toEqual({ file: 'scenarios/swarm.ts', name: 'swarm' });
    expect(c['seed']).toBe(19);
    expect(c['mode']).toBe('kraft');
    expect(c['invariant']).toBe('raft.leader-resigns-without-majority');
    expect(c.code.version).toMatch(/^\d+\.\d+\.\d+/);
    expect(c.plan.steps).toHaveLength(2);

    const rp = await sim('replay', cap, '--trace', join(s.dir, 'min.jsonl'));
    expect(rp.code, rp.stderr).toBe(1);
    expect(rp.stdout).toMatch(/^reproduced, hash matches: raft\.leader-resigns-without-majority at [\d.]+ ms/);

    // A capsule whose recorded hash is not what the run gives.
    const other = { ...c, traceHash: '0000000000000000' };
    writeFileSync(join(s.dir, 'hash.json'), JSON.stringify(other));
    // A capsule whose plan no longer breaks anything.
    writeFileSync(join(s.dir, 'fixed.json'), JSON.stringify({ ...c, plan: { steps: [] } }));
    const [hash, fixed, orig] = await simAll([
      ['replay', join(s.dir, 'hash.json')],
      ['replay', join(s.dir, 'fixed.json')],
      ['run', 'scenarios/swarm.ts', '--seed', '19', '--mode', 'kraft', '--set', 'bugs=KAFKA-15489', '--trace', join(s.dir, 'orig.jsonl')],
    ]);
    expect(hash!.code).toBe(1);
    expect(hash!.stdout).toMatch(/^reproduced, but the trace hash differs: .*recorded 0000000000000000/);
    expect(fixed!.code).toBe(0);
    expect(fixed!.stdout).toMatch(/^not reproduced: every property held \(recorded: raft\.leader-resigns-without-majority/);
    expect(orig!.code).toBe(1);

    // sim diff only reads the two traces: through main() in this process (simHere).
    const df = await simHere('diff', join(s.dir, 'orig.jsonl'), join(s.dir, 'min.jsonl'), '--context', '2');
    expect(df.code).toBe(1);
    expect(df.stdout).toMatch(/^first difference at record \d+/);
    expect(df.stdout.split('\n').filter((l) => /^[ab] +\d+ >/.test(l))).toHaveLength(2);
    const same = await simHere('diff', join(s.dir, 'min.jsonl'), join(s.dir, 'min.jsonl'));
    expect(same.code).toBe(0);
  });

  it('bad input is exit 2 with one line', { timeout: 300_000 }, async () => {
    const s = scratch();
    onTestFinished(() => s.remove());
    const good = {
      format: 'kraftsim-capsule/1',
      scenario: { file: 'scenarios/ping.ts', name: 'ping' },
      seed: 1,
      mode: null,
      overrides: {},
      until: '5s',
      plan: { steps: [] },
      invariant: 'x',
      violation: { atMs: 1, detail: 'x' },
      traceHash: '0123456789abcdef',
      events: 1,
      code: { version: '0.1.0', commit: null },
    };
    const trace = s.file('t.jsonl', '{"tUs":0,"kind":"start","node":"n0","peer":null,"label":"start","value":0}\n');
    const cut = s.file('cut.jsonl', '{"tUs":0,"kind":"start","node":"n0","peer":null,"label":"start","value":0}\n{"tUs":5,"kind":"se');
    const cases: [string[], RegExp][] = [
      [['replay', s.file('notjson.json', 'not json {')], /not JSON/],
      [['replay', s.file('missing.json', JSON.stringify({ ...good, seed: undefined }))], /missing field seed/],
      [['replay', s.file('types.json', JSON.stringify({ ...good, seed: 'nineteen' }))], /seed must be/],
      [['replay', s.file('plan.json', JSON.stringify({ ...good, plan: { steps: [{ atMs: 1, action: { type: 'boom' } }] } }))], /unknown action type/],
      [['replay', s.file('noscen.json', JSON.stringify({ ...good, scenario: { file: 'scenarios/no-such.ts', name: 'x' } }))], /scenario file not found/],
      [['replay', s.file('wrongname.json', JSON.stringify({ ...good, scenario: { file: 'scenarios/ping.ts', name: 'swarm' } }))], /defines scenario 'ping'/],
      [['replay', s.file('badset.json', JSON.stringify({ ...good, overrides: { 'no.such': 1 } }))], /unknown parameter/],
      [['replay', join(s.dir, 'absent.json')], /no such file/],
      [['shrink', 'scenarios/swarm.ts', '--seed', '19', '--mode', 'kraft', '--out', join(s.dir, 'c.json')], /violates no property: nothing to shrink/],
      [['shrink', 'scenarios/swarm.ts', '--seed', '19', '--out', join(s.dir, 'c2.json')], /violates no property in zk or kraft/],
      [['shrink', 'scenarios/swarm.ts', '--seed', '19', '--max-runs', '0'], /--max-runs/],
      [['shrink', 'scenarios/swarm.ts', '--seed', '19', '--out', join(s.dir, 'no/dir/c.json')], /does not exist/],
      [['diff', join(s.dir, 'absent.jsonl'), trace], /no such file/],
      [['diff', trace, cut], /line 2 .*truncated/],
      [['diff', trace, trace, '--context', 'many'], /--context/],
    ];
    // What the CLI says and returns, in this process (simHere); the commands' processes are the test above's.
    const results = await simHereAll(cases.map(([args]) => args));
    results.forEach((r, i) => {
      const [args, pattern] = cases[i]!;
      let line: string;
      try {
        line = expectUsageError(r);
      } catch (e) {
        throw new Error(`${args.join(' ')}: ${(e as Error).message}`);
      }
      expect(line, args.join(' ')).toMatch(pattern);
    });
  });
});
