// Original file: proto/kv.proto

import type { StreamSubResponse as _kvs_v1_StreamSubResponse, StreamSubResponse__Output as _kvs_v1_StreamSubResponse__Output } from '../../kvs/v1/StreamSubResponse.js';

export interface BatchStreamResponse {
  'responses'?: (_kvs_v1_StreamSubResponse)[];
  /**
   * Set on the first frame of a stream: the largest request frame the server accepts (its
   * max_receive_message_length). A larger frame would fail the whole stream, so clients send bigger
   * requests as unary calls.
   */
  'maxRequestFrameBytes'?: (number);
}

export interface BatchStreamResponse__Output {
  'responses': (_kvs_v1_StreamSubResponse__Output)[];
  /**
   * Set on the first frame of a stream: the largest request frame the server accepts (its
   * max_receive_message_length). A larger frame would fail the whole stream, so clients send bigger
   * requests as unary calls.
   */
  'maxRequestFrameBytes': (number);
}
