// Original file: proto/kv.proto

import type { StreamSubRequest as _kvs_v1_StreamSubRequest, StreamSubRequest__Output as _kvs_v1_StreamSubRequest__Output } from '../../kvs/v1/StreamSubRequest.js';

export interface BatchStreamRequest {
  'requests'?: (_kvs_v1_StreamSubRequest)[];
}

export interface BatchStreamRequest__Output {
  'requests': (_kvs_v1_StreamSubRequest__Output)[];
}
