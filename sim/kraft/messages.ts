import type { Message } from '../../core/index.ts';

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

export const BROKER_RPC_BYTES = 96;
