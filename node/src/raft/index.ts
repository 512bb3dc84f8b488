// Public API of the pure Raft core.
export * from './types.js';
export * from './errors.js';
export * from './codec.js';
export { type Storage, type InitialState, MemoryStorage } from './storage.js';
export { RaftLog } from './log.js';
export { Unstable } from './log-unstable.js';
export { Inflights } from './inflights.js';
export { Progress } from './progress.js';
export { VoteResult, majorityCommitted, majorityVoteResult, jointCommitted, jointVoteResult } from './quorum.js';
export { ProgressTracker, type TrackerConfig, describeConfig, isJoint } from './tracker.js';
export { Changer, restoreConfState, isLeaveJoint, enterJoint } from './confchange.js';
export { ReadOnly } from './read-only.js';
export { LeaseClock, type LeaseClockConfig, DEFAULT_MAX_CLOCK_DRIFT, encodeLeaseStamp, decodeLeaseStamp } from './lease.js';
export { Raft, type RaftConfig, type RaftLogger, mulberry32 } from './raft.js';
export { RawNode, type Ready, type Status, type PeerProgress, SnapshotStatus, LEAVE_JOINT } from './raw-node.js';
export { describeMessage, describeEntry, bytesToKey, keyToBytes, bytesEqual } from './util.js';
