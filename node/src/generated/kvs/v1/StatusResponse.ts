// Original file: proto/kv.proto

import type { Long } from '@grpc/proto-loader';

export interface StatusResponse {
  'nodeId'?: (string);
  'version'?: (string);
  'appliedTs'?: (number | string | Long);
  'safePoint'?: (number | string | Long);
  'approximateBytes'?: (number | string | Long);
  'activeTxns'?: (number);
  'uptimeMs'?: (number | string | Long);
}

export interface StatusResponse__Output {
  'nodeId': (string);
  'version': (string);
  'appliedTs': (number);
  'safePoint': (number);
  'approximateBytes': (number);
  'activeTxns': (number);
  'uptimeMs': (number);
}
