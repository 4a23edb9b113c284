import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../cli/spawn.ts';

const read = (p: string): string => readFileSync(join(ROOT, 'deploy', p), 'utf8');

describe('deploy/: the engines that run shards', () => {
  it('the Indexed Job has as many completions as shards, and its index is the shard', () => {
    const job = read('kubernetes/sweep-job.yaml');
    expect(job).toMatch(/completionMode: Indexed/);
    const completions = Number(/completions: (\d+)/.exec(job)?.[1]);
    const shards = Number(/name: SHARDS\s+value: "(\d+)"/.exec(job)?.[1]);
    expect(completions).toBeGreaterThan(1);
    expect(shards).toBe(completions);
    expect(job).toContain('--shard "$JOB_COMPLETION_INDEX/$SHARDS"');
    expect(job).toContain('--resume');
  });

  it('the Actions matrix lists shards 0 … SHARDS−1', () => {
    const wf = read('github-actions/sweep.yml');
    const matrix = /shard: \[([\d, ]+)\]/.exec(wf)?.[1]?.split(',').map((s) => Number(s.trim()));
    const shards = Number(/SHARDS: (\d+)/.exec(wf)?.[1]);
    expect(matrix).toEqual(Array.from({ length: shards }, (_, i) => i));
    expect(wf).toContain('--shard "${{ matrix.shard }}/$SHARDS"');
    expect(wf).toContain('bin/sim.js merge');
  });
});
