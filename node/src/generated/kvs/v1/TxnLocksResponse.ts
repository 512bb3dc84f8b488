// Original file: proto/admin.proto

import type { TxnLockInfo as _kvs_v1_TxnLockInfo, TxnLockInfo__Output as _kvs_v1_TxnLockInfo__Output } from '../../kvs/v1/TxnLockInfo.js';
import type { Long } from '@grpc/proto-loader';

export interface TxnLocksResponse {
  'storeId'?: (number | string | Long);
  'locks'?: (_kvs_v1_TxnLockInfo)[];
  'more'?: (boolean);
}

export interface TxnLocksResponse__Output {
  'storeId': (number);
  'locks': (_kvs_v1_TxnLockInfo__Output)[];
  'more': (boolean);
}
