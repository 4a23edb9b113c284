import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { renderTerminal } from '../../reports/terminal.ts';
import type { RunResult } from '../../sim/result.ts';
import { expectUsageError, scratch, sim, simHere } from '../cli/spawn.ts';

const dir = scratch();
afterAll(() => dir.remove());

/** The tracker's own figures in `extra` (the rest are model figures a trace does not carry). */
const TRACKER_EXTRA = ['dualLeaderPartitionsMax', 'phantomPartitionsMax', 'divergenceTotalMax', 'activeControllersMax', 'divergenceAfterFault', 'healthyAtEnd', 'divergenceAtEnd', 'unavailableAtEnd', 'loadingControllersAtEnd', 'verdictAtMs'];

const runs: Record<string, RunResult> = {};

// The runs are CLI processes (sim, with --trace); `sim report` reads their traces through the CLI's
// main() in this process (simHere): what it prints and returns, without a process start per report.

/** `sim run` in both modes with --trace; the runs as the run printed them (--json). */
async function traced(scenario: string): Promise<void> {
  const r = await sim('run', `scenarios/${scenario}.ts`, '--seed', '7', '--set', 'partitions=2000', '--trace', join(dir.dir, `${scenario}.jsonl`), '--json');
  expect(r.code, r.stderr).toBe(0);
  for (const run of (JSON.parse(r.stdout) as { runs: RunResult[] }).runs) runs[`${scenario}.${run.mode}`] = run;
}

describe('sim report <trace.jsonl>: the metrics recomputed from the trace alone', () => {
  for (const scenario of ['controller-failover', 'broker-bounce']) {
    for (const mode of ['zk', 'kraft']) {
      it(`${scenario} (${mode}): the same metrics, tracker figures and table as the run`, async () => {
        if (runs[`${scenario}.${mode}`] === undefined) await traced(scenario);
        const run = runs[`${scenario}.${mode}`]!;
        const file = join(dir.dir, `${scenario}.${mode}.jsonl`);
        const json = await simHere('report', file, '--json');
        expect(json.code, json.stderr).toBe(0);
        const rep = (JSON.parse(json.stdout) as { runs: RunResult[] }).runs[0]!;
        // A run with a fault, and something to measure: the comparison below is not vacuous.
        expect(run.metrics.recoveryMs).not.toBeNull();
        expect(run.metrics.phases.detectMs).not.toBeNull();
        // (a KRaft controller failover loses nothing: the hot standby takes over with brokers untouched)
        if (!(scenario === 'controller-failover' && mode === 'kraft')) expect(run.metrics.unavailablePartitionMs! + run.metrics.divergence.partitionMs!).toBeGreaterThan(0);
        expect(rep.metrics).toEqual(run.metrics);
        for (const k of TRACKER_EXTRA) expect([k, rep.extra[k]]).toEqual([k, run.extra[k]]);
        expect([rep.traceHash, rep.events, rep.simMs, rep.stop]).toEqual([run.traceHash, run.events, run.simMs, run.stop]);
        expect(rep.invariants).toEqual(run.invariants);
        const table = await simHere('report', file);
        expect(table.code, table.stderr).toBe(0);
        // The run's table without its wall time (a trace does not know it).
        expect(table.stdout).toBe(`${renderTerminal([{ ...run, wallMs: null as unknown as number }])}\n`);
      }, 240_000);
    }
  }
});

describe('sim report: bad input is one line on stderr, exit 2', () => {
  const some = (): string => join(dir.dir, 'controller-failover.zk.jsonl');

  it('a missing file', async () => {
    expect(expectUsageError(await simHere('report', join(dir.dir, 'nope.jsonl')))).toMatch(/no such file/);
  });

  it('a truncated file (its last line cut)', async () => {
    if (runs['controller-failover.zk'] === undefined) await traced('controller-failover');
    const text = readFileSync(some(), 'utf8');
    const cut = dir.file('cut.jsonl', text.slice(0, text.length - 40));
    expect(expectUsageError(await simHere('report', cut))).toMatch(/truncated/);
    // cut at a line boundary: the end record is missing
    const lines = text.split('\n');
    const short = dir.file('short.jsonl', lines.slice(0, Math.floor(lines.length / 2)).join('\n') + '\n');
    expect(expectUsageError(await simHere('report', short))).toMatch(/truncated/);
  }, 240_000);

  it('a foreign file: JSON lines that are not a kraftsim trace, or not JSON at all', async () => {
    const foreign = dir.file('foreign.jsonl', '{"name":"x","value":1}\n{"name":"y","value":2}\n');
    expect(expectUsageError(await simHere('report', foreign))).toMatch(/not a trace record/);
    const text = dir.file('text.jsonl', 'hello world\n');
    expect(expectUsageError(await simHere('report', text))).toMatch(/not JSON/);
    // a kraftsim trace of a scenario without a Kafka cluster: no observations to recompute from
    const ping = join(dir.dir, 'ping.jsonl');
    const r = await sim('run', 'scenarios/ping.ts', '--until', '1s', '--trace', ping);
    expect(r.code, r.stderr).toBe(0);
    expect(expectUsageError(await simHere('report', ping))).toMatch(/no observation header/);
  }, 240_000);

  it('an edited trace: its records no longer hash to the run\'s trace hash', async () => {
    if (runs['controller-failover.zk'] === undefined) await traced('controller-failover');
    const lines = readFileSync(some(), 'utf8').split('\n');
    const i = lines.findIndex((l) => l.includes('"kind":"obs"') && l.includes('"label":"obs.truth"'));
    expect(i).toBeGreaterThan(0);
    lines.splice(i, 1);
    const edited = join(dir.dir, 'edited.jsonl');
    writeFileSync(edited, lines.join('\n'));
    expect(expectUsageError(await simHere('report', edited))).toMatch(/edited|mixed/);
  }, 240_000);
});
