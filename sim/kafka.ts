import { CLUSTER_BUGS, CLUSTER_PARAMS } from './cluster/params.ts';
import type { KafkaClusterHandle } from './cluster/handle.ts';
import { buildKraftCluster, KRAFT_BUGS, KRAFT_PARAMS } from './kraft/cluster.ts';
import type { ParamSpecs } from './params.ts';
import type { ScenarioContext } from './scenario.ts';
import { buildZkCluster, ZK_BUGS, ZK_PARAMS } from './zkmode/cluster.ts';

/**
 * What Kafka scenarios share: every parameter of both modes (cluster shape, cost model, Kafka and
 * ZooKeeper configs) and one `bugs` list, so `--set` takes the same keys whichever mode runs.
 */
export const KAFKA_BUGS: readonly string[] = [...KRAFT_BUGS, ...ZK_BUGS, ...CLUSTER_BUGS];

export const KAFKA_PARAMS: ParamSpecs = {
  ...CLUSTER_PARAMS,
  ...KRAFT_PARAMS,
  ...ZK_PARAMS,
  bugs: {
    default: '',
    unit: '',
    description: 'historical Kafka bugs and what-ifs to switch on (comma-separated)',
    source: 'simulator control: each toggle names a JIRA key or a what-if (see test/*/bugs and toggles tests)',
    choices: KAFKA_BUGS,
    list: true,
  },
};

/** The cluster of the run's mode. */
export function buildKafkaCluster(ctx: ScenarioContext): KafkaClusterHandle {
  switch (ctx.mode) {
    case 'zk':
      return buildZkCluster(ctx);
    case 'kraft':
      return buildKraftCluster(ctx);
    default:
      throw new Error(`a Kafka scenario needs a mode, got ${String(ctx.mode)}`);
  }
}
