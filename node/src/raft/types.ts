// Core Raft data types. Modelled on etcd-io/raft's raftpb, but plain TS objects.
// Indexes, terms and node ids are JS numbers (exact up to 2^53, plenty for a log index).

/** Node id 0 means "nobody" (no leader, no vote). */
export const NONE = 0;

export enum MessageType {
  // Local messages: never sent over the network.
  Hup = 0, // start an election
  Beat = 1, // leader: broadcast heartbeats
  Prop = 2, // proposal (local, or forwarded follower → leader)
  CheckQuorum = 3,
  Unreachable = 4, // host reports a peer unreachable
  SnapStatus = 5, // host reports snapshot send outcome
  // Network messages.
  App = 10,
  AppResp = 11,
  Vote = 12,
  VoteResp = 13,
  PreVote = 14,
  PreVoteResp = 15,
  Snap = 16,
  Heartbeat = 17,
  HeartbeatResp = 18,
  TransferLeader = 19, // may be forwarded follower → leader
  TimeoutNow = 20,
  ReadIndex = 21, // may be forwarded follower → leader
  ReadIndexResp = 22,
}

export enum EntryType {
  Normal = 0,
  ConfChange = 1, // data is an encoded ConfChange (see codec.ts)
}

export interface Entry {
  term: number;
  index: number;
  type: EntryType;
  data: Uint8Array;
}

export interface HardState {
  term: number;
  vote: number;
  commit: number;
}

export interface ConfState {
  voters: number[];
  learners: number[];
  /** Voters of the outgoing config while in a joint config; empty otherwise. */
  votersOutgoing: number[];
  /** Learners to add once the joint config is left (they are still outgoing voters). */
  learnersNext: number[];
  autoLeave: boolean;
}

export interface SnapshotMetadata {
  index: number;
  term: number;
  confState: ConfState;
}

export interface Snapshot {
  metadata: SnapshotMetadata;
  data: Uint8Array;
}

export interface Message {
  /** Raft group (range) the message belongs to; one node hosts many groups. */
  groupId: number;
  type: MessageType;
  from: number;
  to: number;
  term: number;
  /** Term of the entry at `index` (MsgApp), candidate's last term (votes), or hint term (reject). */
  logTerm: number;
  index: number;
  entries: Entry[];
  commit: number;
  snapshot?: Snapshot;
  reject: boolean;
  rejectHint: number;
  /** Opaque bytes: read-index request ctx on heartbeats, "transfer" marker on votes. */
  context: Uint8Array;
  /**
   * Progress generation (leader → follower on MsgApp/MsgSnap/MsgHeartbeat, echoed back on the answers):
   * the leader drops an answer whose generation is not its current Progress's for that peer. A peer id
   * removed and added back gets a new Progress, so late answers of its destroyed replica — which would
   * claim a match the new, empty replica does not have — are not counted. 0/absent = unknown (accepted).
   */
  gen?: number;
}

export enum StateType {
  Follower = 'Follower',
  Candidate = 'Candidate',
  Leader = 'Leader',
  PreCandidate = 'PreCandidate',
}

export interface SoftState {
  lead: number;
  raftState: StateType;
}

export interface ReadState {
  /** Commit index at the time the read was requested; serve the read once applied ≥ index. */
  index: number;
  requestCtx: Uint8Array;
}

export enum ConfChangeType {
  AddNode = 0,
  RemoveNode = 1,
  AddLearner = 2,
}

export interface ConfChangeSingle {
  type: ConfChangeType;
  nodeId: number;
}

export enum ConfChangeTransition {
  /** Simple change if possible (one voter changes), else joint with automatic leave. */
  Auto = 0,
  /** Always joint, automatically left. */
  JointImplicit = 1,
  /** Always joint, left only by an explicit empty ConfChange proposal. */
  JointExplicit = 2,
}

/** ConfChangeV2-like change; `changes: []` with Auto transition means "leave joint". */
export interface ConfChange {
  transition: ConfChangeTransition;
  changes: ConfChangeSingle[];
  context: Uint8Array;
}

export enum ReadOnlyOption {
  /** ReadIndex confirmed by a quorum heartbeat round (linearizable, no clock assumptions). */
  Safe = 'Safe',
  /** Serve from the leader's lease; needs checkQuorum and bounded clock drift. */
  LeaseBased = 'LeaseBased',
}

export enum ProgressState {
  Probe = 'Probe',
  Replicate = 'Replicate',
  Snapshot = 'Snapshot',
}

export const EMPTY = new Uint8Array(0);

export function emptyConfState(): ConfState {
  return { voters: [], learners: [], votersOutgoing: [], learnersNext: [], autoLeave: false };
}

export function emptySnapshot(): Snapshot {
  return { metadata: { index: 0, term: 0, confState: emptyConfState() }, data: EMPTY };
}

export function isEmptySnap(s: Snapshot | undefined): boolean {
  return s === undefined || s.metadata.index === 0;
}

export function isEmptyHardState(h: HardState): boolean {
  return h.term === 0 && h.vote === 0 && h.commit === 0;
}

export function hardStateEqual(a: HardState, b: HardState): boolean {
  return a.term === b.term && a.vote === b.vote && a.commit === b.commit;
}

/** Build a message with defaults for every field not given. */
export function msg(p: Partial<Message> & { type: MessageType }): Message {
  return {
    groupId: 0,
    from: NONE,
    to: NONE,
    term: 0,
    logTerm: 0,
    index: 0,
    entries: [],
    commit: 0,
    reject: false,
    rejectHint: 0,
    context: EMPTY,
    ...p,
  };
}

export function entry(p: Partial<Entry>): Entry {
  return { term: 0, index: 0, type: EntryType.Normal, data: EMPTY, ...p };
}

export function isLocalMsg(t: MessageType): boolean {
  return (
    t === MessageType.Hup ||
    t === MessageType.Beat ||
    t === MessageType.Unreachable ||
    t === MessageType.SnapStatus ||
    t === MessageType.CheckQuorum
  );
}

export function isResponseMsg(t: MessageType): boolean {
  return (
    t === MessageType.AppResp ||
    t === MessageType.VoteResp ||
    t === MessageType.HeartbeatResp ||
    t === MessageType.Unreachable ||
    t === MessageType.PreVoteResp
  );
}

export function voteRespMsgType(t: MessageType): MessageType {
  if (t === MessageType.Vote) return MessageType.VoteResp;
  if (t === MessageType.PreVote) return MessageType.PreVoteResp;
  throw new Error(`not a vote message: ${MessageType[t]}`);
}
