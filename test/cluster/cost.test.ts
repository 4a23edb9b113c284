import { describe, expect, it } from 'vitest';
import { Simulation } from '../../core/index.ts';
import { COST_PARAMS, costModel, diskProfile, installProfiles, linkProfile } from '../../sim/cluster/cost.ts';
import { CLUSTER_PARAMS } from '../../sim/cluster/params.ts';
import { defaults } from '../../sim/params.ts';

describe('cost model', () => {
  it('gives every parameter a numeric default, a unit, a description and a source', () => {
    for (const [name, spec] of Object.entries(COST_PARAMS)) {
      expect(typeof spec.default, name).toBe('number');
      expect(spec.unit.length, `${name} unit`).toBeGreaterThan(0);
      expect(spec.description.length, `${name} description`).toBeGreaterThan(0);
      expect((spec.source ?? '').length, `${name} source`).toBeGreaterThan(0);
      // the unit is in the name or the unit field names a time/size/rate
      expect(/(\.us|\.bytes|\.per\.s|\.ms)/.test(name) || /µs|bytes|ms/.test(spec.unit), name).toBe(true);
    }
  });

  it('is part of the cluster parameters', () => {
    for (const name of Object.keys(COST_PARAMS)) expect(CLUSTER_PARAMS[name]).toBe(COST_PARAMS[name]);
  });

  it('resolves defaults and overrides', () => {
    const d = costModel(defaults(CLUSTER_PARAMS));
    expect(d.kraft.batchOverheadBytes).toBe(61);
    expect(d.link).toEqual(linkProfile(defaults(COST_PARAMS)));
    expect(d.disk).toEqual(diskProfile(defaults(COST_PARAMS)));
    const o = costModel({ ...defaults(CLUSTER_PARAMS), 'disk.fsync.us': 5000, 'replication.factor': 5, 'zkmode.controller.load.us.per.partition': 2000 });
    expect(o.disk.fsyncUs).toBe(5000);
    expect(o.zkmode.controllerLoadUsPerPartition).toBe(2000);
    // two more replicas: 4 more bytes in each of Replicas and Isr
    expect(o.kraft.partitionRecordBytes).toBe(d.kraft.partitionRecordBytes + 16);
  });

  it('calibrates the ZK-mode controller load to Kafka 1.1 (100k partitions in 14 s)', () => {
    const m = costModel(defaults(CLUSTER_PARAMS));
    expect((100_000 * m.zkmode.controllerLoadUsPerPartition) / 1e6).toBeCloseTo(14, 5);
    // with 10 requests in flight the ZK side must not be the bottleneck, or the calibration is wrong
    const zkSideUsPerPartition = (2 * m.link.baseLatencyUs + m.zk.serverReadUs) / 10;
    expect(zkSideUsPerPartition).toBeLessThan(m.zkmode.controllerLoadUsPerPartition);
  });

  it('installs link and disk profiles into a simulation', () => {
    const sim = new Simulation({ seed: 1 });
    installProfiles(sim, { ...defaults(COST_PARAMS), 'net.one.way.latency.us': 900, 'disk.write.bytes.per.s': 1e6 });
    expect(sim.net.profile.baseLatencyUs).toBe(900);
    expect(sim.disk.writeBytesPerSec).toBe(1e6);
  });
});
