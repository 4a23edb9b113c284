import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { sim } from './spawn.ts';

const schema = JSON.parse(readFileSync(new URL('../../reports/result.schema.json', import.meta.url), 'utf8')) as object;

describe('--json output against reports/result.schema.json', () => {
  it('every scenario kind validates (kernel demo, both Kafka modes, controlled shutdown, a violation)', async () => {
    const ajv = new Ajv2020({ allErrors: true, strict: false });
    const validate = ajv.compile(schema);
    const outs = await Promise.all([
      sim('run', 'scenarios/ping.ts', '--seed', '3', '--json'),
      sim('run', 'scenarios/ping.ts', '--seed', '3', '--set', 'bugs=skip-fsync', '--json'),
      sim('run', 'scenarios/controller-failover.ts', '--seed', '3', '--set', 'partitions=2000', '--json'),
      sim('run', 'scenarios/controlled-shutdown.ts', '--seed', '3', '--set', 'partitions=2000', '--json'),
      sim('run', 'scenarios/controller-failover.ts', '--seed', '3', '--set', 'partitions=2000', '--json', '--series'),
    ]);
    for (const o of outs) {
      const doc = JSON.parse(o.stdout) as unknown;
      expect(validate(doc), JSON.stringify(validate.errors)).toBe(true);
    }
    // The schema is not vacuous: a result missing a required figure, or with a bad hash, fails.
    const broken = JSON.parse(outs[2]!.stdout) as { runs: Record<string, unknown>[] };
    delete (broken.runs[0]!['metrics'] as Record<string, unknown>)['recoveryMs'];
    expect(validate(broken)).toBe(false);
    const badHash = JSON.parse(outs[0]!.stdout) as { runs: Record<string, unknown>[] };
    badHash.runs[0]!['traceHash'] = 'xyz';
    expect(validate(badHash)).toBe(false);
    // Series only with --series; then every run has them, and a malformed series fails.
    expect((JSON.parse(outs[2]!.stdout) as { runs: Record<string, unknown>[] }).runs.every((r) => r['series'] === undefined)).toBe(true);
    const withSeries = JSON.parse(outs[4]!.stdout) as { runs: { series: { unavailable: { tMs: unknown }; controllers: Record<string, unknown>[] } }[] };
    expect(withSeries.runs.map((r) => r.series.controllers.length > 0)).toEqual([true, true]);
    withSeries.runs[0]!.series.unavailable.tMs = 'soon';
    expect(validate(withSeries)).toBe(false);
    const noRole = JSON.parse(outs[4]!.stdout) as { runs: { series: { controllers: Record<string, unknown>[] } }[] };
    delete noRole.runs[1]!.series.controllers[0]!['role'];
    expect(validate(noRole)).toBe(false);
  });
});
