import { describe, expect, it } from 'vitest';
import { sim, simHere } from './spawn.ts';

// Refusals go through main() in this process (simHere); what runs is a CLI process.

describe('sim check', () => {
  it('passes on the corpus, and fails with replay commands when a bug is switched on', async () => {
    const [ok, bad, none] = await Promise.all([
      sim('check', '--only', 'scenarios/ping', '--seeds', '3'),
      sim('check', '--only', 'scenarios/ping', '--seeds', '3', '--set', 'bugs=skip-fsync', '--json'),
      simHere('check', '--only', 'no-such-scenario'),
    ]);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toContain('3 runs, 3 passed, 0 failed');
    expect(bad.code).toBe(1);
    const report = JSON.parse(bad.stdout) as { runs: number; failed: number; lines: { failures: { seed: number; invariant: string; replay: string }[] }[] };
    expect(report.runs).toBe(3);
    expect(report.failed).toBe(3);
    const f = report.lines[0]!.failures[0]!;
    expect(f.invariant).toBe('seq-unique-per-disk');
    expect(f.replay).toBe(`npx sim run scenarios/ping.ts --seed ${f.seed} --set bugs=skip-fsync`);
    expect(none.code).toBe(2);
    expect(none.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('reports the same on one worker thread as on three, and refuses --workers 0', async () => {
    const [one, three, zero] = await Promise.all([
      sim('check', '--only', 'swarm', '--from', '17', '--seeds', '4', '--set', 'bugs=KAFKA-15489', '--workers', '1'),
      sim('check', '--only', 'swarm', '--from', '17', '--seeds', '4', '--set', 'bugs=KAFKA-15489', '--workers', '3'),
      simHere('check', '--only', 'ping', '--workers', '0'),
    ]);
    expect(one.code, one.stderr).toBe(1);
    expect(one.stdout).toContain('seed 19: raft.leader-resigns-without-majority');
    expect(three.code).toBe(one.code);
    expect(three.stdout).toBe(one.stdout);
    expect(zero.code).toBe(2);
    expect(zero.stderr.trim().split('\n')).toHaveLength(1);
  });
});
