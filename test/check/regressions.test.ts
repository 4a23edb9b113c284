import { describe, expect, it } from 'vitest';
import { runOnce } from '../../sim/run.ts';
import type { Mode } from '../../sim/result.ts';
import swarm from '../../scenarios/swarm.ts';
import networkPartition from '../../scenarios/network-partition.ts';

/**
 * Swarm seeds that once broke a property or crashed the model, each for a reason since fixed
 * (see the commit that added it). They must keep holding every property and end healthy.
 */
const FOUND: readonly [Mode, number, string][] = [
  ['zk', 5, 'a drifted clock plus a rounded-down timer delay looped forever at one instant'],
  ['zk', 21, 'a request lost in a partition while later pings got through (no TCP retransmission)'],
  ['zk', 25, 'a whole-ISR outage left partitions offline after the brokers returned'],
  ['zk', 131, 'a request lost on a lossy link was never retried'],
  ['zk', 141, 'a rejoining follower took proposals before its NEWLEADER'],
  ['zk', 233, "a follower's DIFF sync dropped a txn the new leader had committed"],
  ['zk', 1214, 'a forwarded request from a peer without a learner handler crashed the leader'],
  ['zk', 7133, 'a follower logged past a proposal lost on a lossy link and committed a history with a hole'],
  ['zk', 12315, 'an ISR write retried after its lost response failed the convergence property (before the network calibration it ended divergent, as Kafka does; see below)'],
  ['zk', 12382, 'same'],
  ['zk', 41000, 'a restarted server of epoch 2 followed the paused leader of epoch 1 (one LEADING vote made a quorum) and took its TRUNC over what epoch 2 committed'],
  ['zk', 41304, 'a txn every restarted server replayed but none had committed was adopted by the new epoch without the audit hearing of it'],
  ['zk', 135287, 'a watch event lost on a lossy link while the ZooKeeper connection stayed up: the controller never heard a broker re-register (TCP would have retransmitted or broken the connection)'],
  ['zk', 135435, 'same'],
  ['zk', 147749, 'the winning /controller multi\'s answer was lost with the connection; its re-send got NODEEXISTS from its own znode and the broker took that as another broker winning (checkControllerAndEpoch missing): no controller ever'],
  ['kraft', 167, 'check-quorum invariant fired before the resumed leader could run its timer'],
  ['kraft', 171, 'same'],
  ['kraft', 237, 'same'],
  ['kraft', 114304, 'a controller renounced between writing a broker\'s UnfenceBrokerRecord and the leader elections it allows, which were separate events; the next controller saw the broker unfenced and never elected them'],
];

describe('swarm seeds found by sim check', () => {
  for (const [mode, seed, why] of FOUND) {
    it(`${mode} seed ${seed}: ${why}`, () => {
      const r = runOnce({ file: 'scenarios/swarm.ts', scenario: swarm, seed, mode, overrides: {}, untilUs: 600_000_000 });
      expect(r.violation, JSON.stringify(r.violation)).toBeNull();
      expect(r.extra['healthyAtEnd']).toBe('yes');
    });
  }
});

/** Swarm seeds found with a parameter set (`sim check --only swarm --set key=value`). */
const FOUND_WITH: readonly [Mode, number, Record<string, boolean | number | string>, string][] = [
  ['zk', 171216, { 'isr.change.notification.enable': true }, 'a leader\'s ISR write (IBP < 2.7) re-sent after its answer was lost got BADVERSION from its own write; without conditionalUpdatePath\'s checker the leader never posted the change and the brokers kept the old ISR'],
  ['zk', 171451, { 'isr.change.notification.enable': true }, 'same'],
  ['zk', 212538, { 'zk.servers': 5 }, 'five ZooKeeper servers split 2 + 2 + 1 for 1,200 s: a leader without a quorum gave up after initLimit but its follower waited out its own timeout (the leader\'s closed socket was not seen), so every election found a quorum too few'],
];

describe('swarm seeds found with a parameter set', () => {
  for (const [mode, seed, overrides, why] of FOUND_WITH) {
    it(`${mode} seed ${seed} ${Object.entries(overrides).map(([k, v]) => `${k}=${v}`).join(' ')}: ${why}`, () => {
      const r = runOnce({ file: 'scenarios/swarm.ts', scenario: swarm, seed, mode, overrides, untilUs: 600_000_000 });
      expect(r.violation, JSON.stringify(r.violation)).toBeNull();
      expect(r.extra['healthyAtEnd']).toBe('yes');
    });
  }
});

/**
 * Corpus seeds (`sim check`, scenarios/network-partition.ts at the corpus's size) where the run was
 * declared recovered 5 s after the heal while the voter that had been cut off was still a candidate
 * (its connections re-established by TCP's SYN retransmission only then): its next VoteRequest, at
 * a higher epoch, ended the leader's epoch after the verdict. The verdict now waits until every
 * running voter follows one leader.
 */
const CORPUS_FOUND: readonly [Mode, number, string][] = [
  ['kraft', 50058, 'controller-from-quorum'],
  ['kraft', 50058, 'controller-isolated'],
];

describe('corpus seeds found by sim check', () => {
  for (const [mode, seed, variant] of CORPUS_FOUND) {
    it(`${mode} network-partition ${variant} seed ${seed}: no recovered verdict while a voter still campaigns`, () => {
      const r = runOnce({ file: 'scenarios/network-partition.ts', scenario: networkPartition, seed, mode, overrides: { partitions: 5000, brokers: 6, variant }, untilUs: 600_000_000 });
      expect(r.violation, JSON.stringify(r.violation)).toBeNull();
      expect(r.extra['healthyAtEnd']).toBe('yes');
      expect(r.extra['verdictAtMs']).not.toBeNull();
    });
  }
});

/**
 * Swarm seeds where ZooKeeper-mode Kafka itself stays divergent: an AlterPartition ISR write
 * committed, its response was lost with the connection, and the retry after the reconnect failed
 * BADVERSION, so the controller kept its older context (KafkaController.processAlterPartition →
 * INVALID_UPDATE_VERSION) and so did the brokers. They once failed the convergence property;
 * they must hold every property, and the divergence left must be exactly that.
 */
// 12315 and 12382 showed it first; with the calibrated network latency they no longer reach that
// path (they are pinned above), and a search of seeds 40000–40999 found 40314. With ZooKeeper
// chunks (the ISR writes of an AlterPartition travel as one chunk, answered once) 40314 no longer
// loses that answer; a search of 40000–42999 and 45000–46999 found 46172 and 46434, where a lost
// chunk answer leaves every partition of the chunk behind.
const KAFKA_KEEPS: readonly [Mode, number][] = [['zk', 46172]];

describe('swarm seeds that end with the divergence ZooKeeper-mode Kafka keeps', () => {
  for (const [mode, seed] of KAFKA_KEEPS) {
    it(`${mode} seed ${seed}: an ISR write retried after a lost response leaves the controller behind ZooKeeper`, () => {
      const r = runOnce({ file: 'scenarios/swarm.ts', scenario: swarm, seed, mode, overrides: {}, untilUs: 600_000_000 });
      expect(r.violation, JSON.stringify(r.violation)).toBeNull();
      expect(r.extra['unavailableAtEnd']).toBe(0);
      expect(r.extra['divergenceAtEnd']).toBeGreaterThan(0);
      expect(r.extra['divergenceAtEnd']).toBe(r.extra['zk.controller.context.behind.zk']);
    });
  }
});
