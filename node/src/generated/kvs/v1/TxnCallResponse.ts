// Original file: proto/raft.proto


export interface TxnCallResponse {
  'payload'?: (Buffer | Uint8Array | string);
}

export interface TxnCallResponse__Output {
  'payload': (Buffer);
}
