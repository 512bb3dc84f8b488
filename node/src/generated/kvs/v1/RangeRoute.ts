// Original file: proto/kv.proto

import type { RouteReplica as _kvs_v1_RouteReplica, RouteReplica__Output as _kvs_v1_RouteReplica__Output } from '../../kvs/v1/RouteReplica.js';
import type { Long } from '@grpc/proto-loader';

export interface RangeRoute {
  'rangeId'?: (number | string | Long);
  /**
   * inclusive; empty = -inf
   */
  'start'?: (Buffer | Uint8Array | string);
  /**
   * exclusive; empty = +inf
   */
  'end'?: (Buffer | Uint8Array | string);
  /**
   * epoch version (splits)
   */
  'version'?: (number | string | Long);
  'confVer'?: (number | string | Long);
  /**
   * 0 = unknown
   */
  'leaderId'?: (number | string | Long);
  /**
   * client address of the leader, when known
   */
  'leaderAddress'?: (string);
  'replicas'?: (_kvs_v1_RouteReplica)[];
}

export interface RangeRoute__Output {
  'rangeId': (number);
  /**
   * inclusive; empty = -inf
   */
  'start': (Buffer);
  /**
   * exclusive; empty = +inf
   */
  'end': (Buffer);
  /**
   * epoch version (splits)
   */
  'version': (number);
  'confVer': (number);
  /**
   * 0 = unknown
   */
  'leaderId': (number);
  /**
   * client address of the leader, when known
   */
  'leaderAddress': (string);
  'replicas': (_kvs_v1_RouteReplica__Output)[];
}
