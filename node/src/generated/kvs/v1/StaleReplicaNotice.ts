// Original file: proto/raft.proto

import type { Long } from '@grpc/proto-loader';

/**
 * A range whose applied descriptor (epoch and replica stores) does not list the store it is sent to.
 */
export interface StaleReplicaNotice {
  'rangeId'?: (number | string | Long);
  'confVer'?: (number | string | Long);
  'version'?: (number | string | Long);
  'storeIds'?: (number | string | Long)[];
}

/**
 * A range whose applied descriptor (epoch and replica stores) does not list the store it is sent to.
 */
export interface StaleReplicaNotice__Output {
  'rangeId': (number);
  'confVer': (number);
  'version': (number);
  'storeIds': (number)[];
}
