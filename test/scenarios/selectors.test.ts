import { describe, expect, it } from 'vitest';
import { FaultPlanError, msToUs, select, Simulation } from '../../core/index.ts';
import { buildKafkaCluster, KAFKA_PARAMS } from '../../sim/kafka.ts';
import { defaults } from '../../sim/params.ts';
import type { Mode } from '../../sim/result.ts';

function cluster(mode: Mode) {
  const sim = new Simulation({ seed: 'selectors' });
  const params = { ...defaults(KAFKA_PARAMS), partitions: 2000, brokers: 5 };
  const h = buildKafkaCluster({ sim, params, mode, seed: 1 });
  const names = (ref: Parameters<Simulation['faults']['resolveAll']>[0]): string[] => sim.faults.resolveAll(ref).map((n) => n.name);
  return { sim, h, names };
}

const notController = select('@brokers', { except: '@activeController', pick: 'lowest' });

describe('Kafka roles and selectors', () => {
  it('ZK mode: groups name the right nodes; "a broker that is not the active controller" follows the controller', () => {
    const { sim, names } = cluster('zk');
    sim.installFaults({
      steps: [
        { atMs: 1000, action: { type: 'crash', node: '@activeController', bind: 'old' } },
        { atMs: 45_000, action: { type: 'pause', node: select('@brokers', { except: ['@activeController', '$old'], pick: 'lowest' }), bind: 'v' } },
      ],
    });
    sim.run({ untilUs: msToUs(500) });
    expect(names('@activeController')).toEqual(['broker-0']);
    expect(names('@brokers')).toEqual(['broker-0', 'broker-1', 'broker-2', 'broker-3', 'broker-4']);
    expect(names('@controllers')).toEqual(names('@brokers'));
    expect(names('@quorum')).toEqual(['zk-0', 'zk-1', 'zk-2']);
    expect(names('@zookeeper')).toEqual(['zk-0', 'zk-1', 'zk-2']);
    expect(names(notController)).toEqual(['broker-1']);
    sim.run({ untilUs: msToUs(44_000) });
    // A new controller was elected among the survivors; the selector resolves at run time.
    const ctl = names('@activeController')[0]!;
    expect(ctl).not.toBe('broker-0');
    sim.run({ untilUs: msToUs(46_000) });
    const v = names('$v')[0]!;
    expect(v).not.toBe(ctl);
    expect(v).not.toBe('broker-0');
    expect(v).toBe(['broker-1', 'broker-2', 'broker-3', 'broker-4'].find((b) => b !== ctl));
  });

  it('KRaft mode: controllers are the voters; there is no ZooKeeper to name', () => {
    const { sim, names } = cluster('kraft');
    sim.installFaults({ steps: [] });
    sim.run({ untilUs: msToUs(500) });
    expect(names('@controllers')).toEqual(['controller-0', 'controller-1', 'controller-2']);
    expect(names('@quorum')).toEqual(names('@controllers'));
    expect(names('@activeController')).toEqual(['controller-0']);
    expect(names(notController)).toEqual(['broker-0']);
    expect(names(select('@quorum', { except: '@activeController' }))).toEqual(['controller-1', 'controller-2']);
    expect(() => names('@zookeeper')).toThrow(FaultPlanError);
    expect(() => sim.faults.apply({ type: 'op', op: 'controlled-shutdown', node: 'controller-1' })).toThrow(/not a broker/);
  });

  it.each(['zk', 'kraft'] as const)('%s: the controlled-shutdown op stops the broker and its process exits', (mode) => {
    const { sim, names } = cluster(mode);
    sim.installFaults({ steps: [{ atMs: 2000, action: { type: 'op', op: 'controlled-shutdown', node: notController, bind: 'stopped' } }] });
    sim.run({ untilUs: msToUs(60_000) });
    const [b] = sim.faults.resolveAll('$stopped');
    expect(b!.name).toBe(mode === 'zk' ? 'broker-1' : 'broker-0');
    expect(b!.up).toBe(false);
    expect(names(select('@brokers', { state: 'down' }))).toEqual([b!.name]);
  });
});
