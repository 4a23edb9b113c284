import type { Message } from '../../core/index.ts';
import type { PartitionStateBatch } from '../cluster/partitions.ts';

/** Broker → controller RPCs of KIP-631 (BrokerRegistration, BrokerHeartbeat) and their responses. */
export interface BrokerRegistrationRequest extends Message {
  readonly type: 'BrokerRegistration';
  readonly brokerId: number;
  readonly incarnation: number;
}

export interface BrokerRegistrationResponse extends Message {
  readonly type: 'BrokerRegistrationResponse';
  readonly error: 'NONE' | 'NOT_CONTROLLER';
  readonly brokerEpoch: number;
}

export interface BrokerHeartbeatRequest extends Message {
  readonly type: 'BrokerHeartbeat';
  readonly brokerId: number;
  readonly brokerEpoch: number;
  readonly currentMetadataOffset: number;
  readonly wantShutDown: boolean;
}

export interface BrokerHeartbeatResponse extends Message {
  readonly type: 'BrokerHeartbeatResponse';
  readonly error: 'NONE' | 'NOT_CONTROLLER' | 'STALE_BROKER_EPOCH';
  readonly isFenced: boolean;
  readonly shouldShutDown: boolean;
}

export type ControllerRequest = BrokerRegistrationRequest | BrokerHeartbeatRequest;
export type ControllerResponse = BrokerRegistrationResponse | BrokerHeartbeatResponse;

/**
 * A follower's fetch from one leader broker (ReplicaFetcherThread), modelled per broker pair: the
 * model tracks which follower fetches from which leader, not the partition data.
 */
export interface ReplicaFetchRequest extends Message {
  readonly type: 'ReplicaFetch';
  readonly brokerId: number;
}

/** AlterPartition (KIP-497, KIP-704): a leader asks the controller to change ISRs it leads. */
export interface AlterPartitionRequest extends Message {
  readonly type: 'AlterPartition';
  readonly brokerId: number;
  readonly brokerEpoch: number;
  /** Proposed states: partition, leader (the sender), leaderEpoch and partitionEpoch it holds, new ISR. */
  readonly states: PartitionStateBatch;
}

export interface AlterPartitionResponse extends Message {
  readonly type: 'AlterPartitionResponse';
  readonly error: 'NONE' | 'NOT_CONTROLLER' | 'STALE_BROKER_EPOCH';
  readonly partitions: Int32Array;
  /** Per partition: 1 accepted, 0 rejected (FENCED_LEADER_EPOCH, INVALID_UPDATE_VERSION, INELIGIBLE_REPLICA). */
  readonly accepted: Uint8Array;
}
