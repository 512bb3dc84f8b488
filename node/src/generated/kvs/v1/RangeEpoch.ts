// Original file: proto/admin.proto

import type { Long } from '@grpc/proto-loader';

/**
 * A range's epoch (docs/sharding.md): conf_ver counts replica changes, version splits and merges.
 */
export interface RangeEpoch {
  'confVer'?: (number | string | Long);
  'version'?: (number | string | Long);
}

/**
 * A range's epoch (docs/sharding.md): conf_ver counts replica changes, version splits and merges.
 */
export interface RangeEpoch__Output {
  'confVer': (number);
  'version': (number);
}
