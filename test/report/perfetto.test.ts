import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectUsageError, scratch, simAll } from '../cli/spawn.ts';
import type { TraceEvent } from '../../reports/perfetto.ts';

type Ev = TraceEvent;

const S = 'scenarios/controller-failover.ts';

describe('sim run --perfetto', () => {
  const dir = scratch();
  const at = (name: string): string => join(dir.dir, name);
  let doc: { traceEvents: Ev[]; otherData: { runs: { label: string; flows: number; messages: number; tasks: number }[] } };
  let ev: Ev[];
  let withFile: { runs: { mode: string; traceHash: string; metrics: { phases: { loadMs: number } } }[] };
  let without: { runs: { traceHash: string }[] };
  beforeAll(async () => {
    const [a, b] = await simAll([
      ['run', S, '--seed', '42', '--set', 'partitions=2000', '--perfetto', at('p.json'), '--json'],
      ['run', S, '--seed', '42', '--set', 'partitions=2000', '--json'],
    ]);
    expect(a!.code, a!.stderr).toBe(0);
    expect(b!.code, b!.stderr).toBe(0);
    withFile = JSON.parse(a!.stdout) as typeof withFile;
    without = JSON.parse(b!.stdout) as typeof without;
    doc = JSON.parse(readFileSync(at('p.json'), 'utf8')) as typeof doc;
    ev = doc.traceEvents;
  }, 240_000);
  afterAll(() => dir.remove());

  it('leaves the run alone: the same trace hashes with and without it', () => {
    expect(withFile.runs.map((r) => r.traceHash)).toEqual(without.runs.map((r) => r.traceHash));
  });

  it('is a trace-event object whose every event has ph, ts, pid and tid', () => {
    expect(Array.isArray(ev)).toBe(true);
    expect(ev.length).toBeGreaterThan(100);
    // The events that break the rule, all at once (one expect per event would cost more than the run).
    expect(ev.filter((e) => typeof e.ph !== 'string' || !Number.isFinite(e.ts) || !Number.isInteger(e.pid) || !Number.isInteger(e.tid))).toEqual([]);
    expect(new Set(ev.map((e) => e.ph))).toEqual(new Set(['M', 'X', 's', 'f', 'i', 'C']));
  });

  it('names a process per node of each mode, in one file', () => {
    const names = ev.filter((e) => e.ph === 'M' && e.name === 'process_name').map((e) => String(e.args!['name']));
    expect(names).toContain('zk: cluster');
    expect(names).toContain('kraft: cluster');
    expect(names.filter((n) => n.startsWith('zk: broker-'))).toHaveLength(12);
    expect(names.filter((n) => n.startsWith('kraft: broker-'))).toHaveLength(12);
    expect(new Set(ev.filter((e) => e.ph === 'M' && e.name === 'process_name').map((e) => e.pid)).size).toBe(names.length);
  });

  it('draws executor busy time as complete slices with non-negative durations on executor threads', () => {
    const xs = ev.filter((e) => e.ph === 'X');
    expect(xs.filter((e) => !(e.dur! >= 0))).toEqual([]);
    const threads = new Map(ev.filter((e) => e.ph === 'M' && e.name === 'thread_name').map((e) => [`${e.pid}/${e.tid}`, String(e.args!['name'])]));
    expect(xs.filter((e) => !threads.has(`${e.pid}/${e.tid}`))).toEqual([]);
    // Slices on one thread never overlap (an executor runs one task at a time).
    const byThread = new Map<string, Ev[]>();
    for (const e of xs.filter((x) => x.cat === 'exec')) byThread.set(`${e.pid}/${e.tid}`, [...(byThread.get(`${e.pid}/${e.tid}`) ?? []), e]);
    const overlaps: [string, Ev, Ev][] = [];
    for (const [k, list] of byThread) {
      list.sort((a, b) => a.ts - b.ts);
      for (let i = 1; i < list.length; i++) if (list[i]!.ts < list[i - 1]!.ts + list[i - 1]!.dur!) overlaps.push([k, list[i - 1]!, list[i]!]);
    }
    expect(overlaps).toEqual([]);
  });

  it("shows the ZK-mode controller's reload as one long slice on its event thread", () => {
    const zkPids = new Set(ev.filter((e) => e.ph === 'M' && e.name === 'process_name' && String(e.args!['name']).startsWith('zk: ')).map((e) => e.pid));
    const threads = new Map(ev.filter((e) => e.ph === 'M' && e.name === 'thread_name').map((e) => [`${e.pid}/${e.tid}`, String(e.args!['name'])]));
    const reload = ev.filter((e) => e.ph === 'X' && zkPids.has(e.pid) && e.name === 'initializeControllerContext');
    expect(reload).toHaveLength(1);
    expect(threads.get(`${reload[0]!.pid}/${reload[0]!.tid}`)).toBe('controller-event-thread');
    const r = reload[0]!;
    // Its chunks ran back to back and are one slice: the longest on that thread, within the load phase.
    expect(r.args!['tasks']).toBeGreaterThan(1);
    expect(r.args!['busyUs']).toBe(r.dur);
    const sameThread = ev.filter((e) => e.ph === 'X' && e.pid === r.pid && e.tid === r.tid);
    expect(Math.max(...sameThread.map((e) => e.dur!))).toBe(r.dur);
    const loadMs = withFile.runs.find((x) => x.mode === 'zk')!.metrics.phases.loadMs;
    expect(r.dur!).toBeLessThanOrEqual(loadMs * 1000);
  });

  it('pairs every flow start with one end, later or at the same time, on the receiving side', () => {
    const starts = ev.filter((e) => e.ph === 's');
    const ends = new Map(ev.filter((e) => e.ph === 'f').map((e) => [e.id, e]));
    expect(starts.length).toBeGreaterThan(0);
    expect(ends.size).toBe(starts.length);
    expect(new Set(starts.map((e) => e.id)).size).toBe(starts.length);
    const unpaired = starts.filter((s) => {
      const f = ends.get(s.id);
      return f === undefined || f.ts < s.ts || f.name !== s.name;
    });
    expect(unpaired).toEqual([]);
    for (const r of doc.otherData.runs) expect(r.flows).toBeLessThanOrEqual(r.messages);
  });

  it('samples unavailable partitions and divergence as counters with numeric args', () => {
    const cs = ev.filter((e) => e.ph === 'C');
    expect(cs.filter((c) => Object.keys(c.args ?? {}).length === 0 || Object.values(c.args!).some((v) => typeof v !== 'number'))).toEqual([]);
    const names = new Set(cs.map((c) => c.name));
    expect(names).toEqual(new Set(['unavailable partitions', 'divergence (broker-partitions)']));
    // ZooKeeper mode loses the controller's broker: some partitions go unavailable, then all come back.
    const zkCluster = ev.find((e) => e.ph === 'M' && e.name === 'process_name' && e.args!['name'] === 'zk: cluster')!.pid;
    const unavailable = cs.filter((c) => c.pid === zkCluster && c.name === 'unavailable partitions').sort((a, b) => a.ts - b.ts);
    expect(Math.max(...unavailable.filter((c) => c.ts > 10_000_000).map((c) => c.args!['partitions'] as number))).toBeGreaterThan(0);
    expect(unavailable.at(-1)!.args!['partitions']).toBe(0);
  });

  it('marks the fault as an instant', () => {
    const faults = ev.filter((e) => e.ph === 'i' && e.cat === 'fault');
    expect(faults.map((f) => [f.name, f.ts])).toEqual([
      ['crash', 10_000_000],
      ['crash', 10_000_000],
    ]);
  });

  it('refuses a target in a missing directory and stdout taken by --json', async () => {
    const [a, b] = await simAll([
      ['run', S, '--perfetto', '/nonexistent-dir-kraftsim/p.json'],
      ['run', S, '--perfetto', '-', '--json'],
    ]);
    expect(expectUsageError(a!)).toMatch(/--perfetto .*does not exist/);
    expect(expectUsageError(b!)).toMatch(/--perfetto - : stdout is already taken/);
  });
});
