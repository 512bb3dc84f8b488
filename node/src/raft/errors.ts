// Typed errors of the Raft core. Each has a stable `name` and `code` so hosts can map them
// (e.g. to gRPC statuses) without string matching.

export abstract class RaftError extends Error {
  abstract readonly code: string;
}

/** A proposal was not accepted (no leader known, transfer in progress, forwarding disabled, ...). */
export class ProposalDroppedError extends RaftError {
  override readonly name: string = 'ProposalDroppedError';
  readonly code: string = 'RAFT_PROPOSAL_DROPPED';
  constructor(
    readonly reason: string,
    /** Leader hint (0 if unknown) so a client can retry at the leader. */
    readonly leaderHint: number,
  ) {
    super(`raft proposal dropped: ${reason}${leaderHint ? ` (leader hint ${leaderHint})` : ''}`);
  }
}

/**
 * The leader refused a conf change proposed on it: another one is pending (proposed, not yet
 * applied), or the change doesn't fit the current (joint or not) configuration. Retry later.
 * (Conf changes forwarded from followers are neutralised silently, as in etcd.)
 */
export class ConfChangeRefusedError extends ProposalDroppedError {
  override readonly name: string = 'ConfChangeRefusedError';
  override readonly code: string = 'RAFT_CONF_CHANGE_REFUSED';
}

/** Operation requires the leader (used by hosts; raft itself forwards when allowed). */
export class NotLeaderError extends RaftError {
  override readonly name = 'NotLeaderError';
  readonly code = 'RAFT_NOT_LEADER';
  constructor(readonly leaderHint: number) {
    super(`not leader${leaderHint ? ` (leader hint ${leaderHint})` : ''}`);
  }
}

/** Requested index is older than the first index of the log (compacted away). */
export class CompactedError extends RaftError {
  override readonly name = 'CompactedError';
  readonly code = 'RAFT_COMPACTED';
  constructor() {
    super('requested index is unavailable due to compaction');
  }
}

/** Requested index is beyond the last index of the storage. */
export class UnavailableError extends RaftError {
  override readonly name = 'UnavailableError';
  readonly code = 'RAFT_UNAVAILABLE';
  constructor() {
    super('requested entry at index is unavailable');
  }
}

export class SnapshotOutOfDateError extends RaftError {
  override readonly name = 'SnapshotOutOfDateError';
  readonly code = 'RAFT_SNAP_OUT_OF_DATE';
  constructor() {
    super('requested index is older than the existing snapshot');
  }
}

/** Storage cannot produce a snapshot right now; raft retries later. */
export class SnapshotTemporarilyUnavailableError extends RaftError {
  override readonly name = 'SnapshotTemporarilyUnavailableError';
  readonly code = 'RAFT_SNAP_TEMPORARILY_UNAVAILABLE';
  constructor() {
    super('snapshot is temporarily unavailable');
  }
}

/** A local-only message type (Hup, Beat, ...) arrived through RawNode.step. */
export class StepLocalMsgError extends RaftError {
  override readonly name = 'StepLocalMsgError';
  readonly code = 'RAFT_STEP_LOCAL_MSG';
  constructor() {
    super('raft: cannot step raft local message');
  }
}

/** A response message from a peer that is not in the configuration. */
export class StepPeerNotFoundError extends RaftError {
  override readonly name = 'StepPeerNotFoundError';
  readonly code = 'RAFT_STEP_PEER_NOT_FOUND';
  constructor() {
    super('raft: cannot step as peer not found');
  }
}

export class ConfigError extends RaftError {
  override readonly name = 'ConfigError';
  readonly code = 'RAFT_INVALID_CONFIG';
}

export class ConfChangeError extends RaftError {
  override readonly name = 'ConfChangeError';
  readonly code = 'RAFT_INVALID_CONF_CHANGE';
}

export class CodecError extends RaftError {
  override readonly name = 'CodecError';
  readonly code = 'RAFT_CODEC';
}

/** Invariant violation inside raft (a bug, or a host breaking the contract). */
export class RaftPanic extends RaftError {
  override readonly name = 'RaftPanic';
  readonly code = 'RAFT_PANIC';
}
