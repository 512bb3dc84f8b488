// Original file: proto/raft.proto


export interface SnapshotDone {
  'accepted'?: (boolean);
  'error'?: (string);
}

export interface SnapshotDone__Output {
  'accepted': (boolean);
  'error': (string);
}
