import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { sim } from '../cli/spawn.ts';

describe('sim run --report', () => {
  it('into a missing directory: one line, exit 2, before running anything', async () => {
    const r = await sim('run', 'scenarios/controller-failover.ts', '--set', 'partitions=2000', '--report', '/nonexistent-dir/x/report.html');
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/--report .*does not exist/);
    expect(r.stdout).toBe('');
  });

  it('refuses stdout and a directory as its target', async () => {
    const dash = await sim('run', 'scenarios/ping.ts', '--report', '-');
    expect(dash.code).toBe(2);
    expect(dash.stderr.trim().split('\n')).toHaveLength(1);
    const dir = await sim('run', 'scenarios/ping.ts', '--report', tmpdir());
    expect(dir.code).toBe(2);
    expect(dir.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('writes one self-contained file: no external resource, data and scripts inline; --json stays without series', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kraftsim-report-cli-'));
    try {
      const file = join(dir, 'r.html');
      const r = await sim('run', 'scenarios/controller-failover.ts', '--seed', '1', '--set', 'partitions=1000', '--report', file, '--json');
      expect(r.code, r.stderr).toBe(0);
      expect((JSON.parse(r.stdout) as { runs: Record<string, unknown>[] }).runs.every((x) => x['series'] === undefined)).toBe(true);
      expect(existsSync(file)).toBe(true);
      const html = readFileSync(file, 'utf8');
      expect(html).not.toMatch(/<(script|link|img|iframe)[^>]*\s(src|href)=/i);
      expect(html).toContain('id="report-data"');
      expect(html).toContain('npx sim run scenarios/controller-failover.ts --seed 1 --set partitions=1000');
      // Kernel scenarios (no modes, no tracker) get a report too.
      const ping = await sim('run', 'scenarios/ping.ts', '--report', join(dir, 'ping.html'));
      expect(ping.code, ping.stderr).toBe(0);
      expect(readFileSync(join(dir, 'ping.html'), 'utf8')).toContain('Properties');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
