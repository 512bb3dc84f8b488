// Original file: proto/kv.proto


/**
 * Timestamps from the cluster's TSO (docs/sharding.md "Meta range and timestamps"), served by the meta
 * range's leader (NOT_LEADER with its address elsewhere): `count` consecutive timestamps starting at
 * `timestamp`, strictly greater than every timestamp handed out before a call that completed before this
 * one began, across leader changes and restarts. Encoding: physical ms << 10 | logical.
 */
export interface TimestampRequest {
  /**
   * 1..1024; 0 = 1
   */
  'count'?: (number);
}

/**
 * Timestamps from the cluster's TSO (docs/sharding.md "Meta range and timestamps"), served by the meta
 * range's leader (NOT_LEADER with its address elsewhere): `count` consecutive timestamps starting at
 * `timestamp`, strictly greater than every timestamp handed out before a call that completed before this
 * one began, across leader changes and restarts. Encoding: physical ms << 10 | logical.
 */
export interface TimestampRequest__Output {
  /**
   * 1..1024; 0 = 1
   */
  'count': (number);
}
