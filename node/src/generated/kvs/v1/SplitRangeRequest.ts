// Original file: proto/admin.proto


export interface SplitRangeRequest {
  /**
   * the split key: the right half starts here
   */
  'key'?: (Buffer | Uint8Array | string);
}

export interface SplitRangeRequest__Output {
  /**
   * the split key: the right half starts here
   */
  'key': (Buffer);
}
