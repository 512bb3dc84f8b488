// The one place the size of a Raft command is bounded. A command travels to followers as one Raft entry
// inside one gRPC RaftFrame, and the receiving node's gRPC server refuses messages above its
// max_receive_message_length (--max-message-bytes, shared by the Kv and Raft services). An entry that
// cannot fit is retransmitted forever and stalls its whole group, so every command is checked against
// `maxCommandBytes` before it is proposed, and the transport's own batching stays below the same limit.
// Everything here derives from --max-message-bytes: change it on every node alike.

/** Default of --max-message-bytes (server/validate.ts DEFAULT_LIMITS.maxReceiveMessageBytes). */
export const DEFAULT_MAX_MESSAGE_BYTES = 8 * 1024 * 1024;

/**
 * Bytes of a frame beyond the command: the proposal header (14), the raft message and entry fields
 * (~100), the frame's sender id and addresses (~2 × 260 at most for DNS names). 16 KiB leaves room to spare.
 */
export const RAFT_FRAME_RESERVE_BYTES = 16 * 1024;

/** Frames batch the messages of one Ready up to this size (smaller when the message limit is small). */
const DEFAULT_FRAME_BYTES = 4 * 1024 * 1024;

/** Snapshot chunks (key/value pairs of the group state) are cut at this size. */
const DEFAULT_SNAPSHOT_CHUNK_BYTES = 2 * 1024 * 1024;

export interface RaftSizeLimits {
  /** gRPC max_receive_message_length of every node's Raft service. */
  maxMessageBytes: number;
  /** Largest encoded command (kv/commands.ts encodeCommand) one entry may carry. */
  maxCommandBytes: number;
  /** Messages of one Ready are batched into frames of at most this many message bytes. */
  maxFrameBytes: number;
  /** Snapshot chunks carry at most this many key + value bytes. */
  snapshotChunkBytes: number;
}

export function raftSizeLimits(maxMessageBytes: number): RaftSizeLimits {
  if (!Number.isSafeInteger(maxMessageBytes) || maxMessageBytes < RAFT_FRAME_RESERVE_BYTES + 1024) {
    throw new RangeError(`max message bytes must be at least ${RAFT_FRAME_RESERVE_BYTES + 1024} (the Raft framing reserve + 1 KiB), got ${maxMessageBytes}`);
  }
  const maxCommandBytes = maxMessageBytes - RAFT_FRAME_RESERVE_BYTES;
  return {
    maxMessageBytes,
    maxCommandBytes,
    maxFrameBytes: Math.min(DEFAULT_FRAME_BYTES, maxCommandBytes),
    snapshotChunkBytes: Math.min(DEFAULT_SNAPSHOT_CHUNK_BYTES, maxCommandBytes),
  };
}
