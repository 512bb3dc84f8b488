// Original file: proto/admin.proto

import type { Long } from '@grpc/proto-loader';

export interface CompactRequest {
  'groupId'?: (number | string | Long);
  /**
   * Compact the log up to this index (0 = applied index minus the retained tail).
   */
  'index'?: (number | string | Long);
}

export interface CompactRequest__Output {
  'groupId': (number);
  /**
   * Compact the log up to this index (0 = applied index minus the retained tail).
   */
  'index': (number);
}
