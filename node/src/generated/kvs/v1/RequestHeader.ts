// Original file: proto/kv.proto

import type { Long } from '@grpc/proto-loader';

/**
 * Carried by every request. Mutating requests that want exactly-once semantics set client_id and seq:
 * a retry with the same (client_id, seq) returns the original result instead of applying twice.
 */
export interface RequestHeader {
  /**
   * session id chosen by the client (e.g. a random UUID); empty = no dedup
   */
  'clientId'?: (string);
  /**
   * per-client sequence number, starting at 1; 0 = no dedup
   */
  'seq'?: (number | string | Long);
  /**
   * lowest seq this client still waits for; the server may forget results below
   */
  'firstUnacked'?: (number | string | Long);
  /**
   * routing hint (multi-range, later); 0 = unspecified
   */
  'rangeId'?: (number | string | Long);
}

/**
 * Carried by every request. Mutating requests that want exactly-once semantics set client_id and seq:
 * a retry with the same (client_id, seq) returns the original result instead of applying twice.
 */
export interface RequestHeader__Output {
  /**
   * session id chosen by the client (e.g. a random UUID); empty = no dedup
   */
  'clientId': (string);
  /**
   * per-client sequence number, starting at 1; 0 = no dedup
   */
  'seq': (number);
  /**
   * lowest seq this client still waits for; the server may forget results below
   */
  'firstUnacked': (number);
  /**
   * routing hint (multi-range, later); 0 = unspecified
   */
  'rangeId': (number);
}
