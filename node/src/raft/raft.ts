// The Raft state machine (etcd-io/raft raft.go, classic synchronous-storage flavour).
// Pure and deterministic: no timers, I/O or global randomness. Inputs are step()/tick();
// outputs accumulate in `msgs`, the unstable log and `readStates`, drained via RawNode.

import {
  type ConfChange,
  type ConfState,
  type Entry,
  type HardState,
  type Message,
  type ReadState,
  type Snapshot,
  type SoftState,
  EntryType,
  MessageType,
  NONE,
  ProgressState,
  ReadOnlyOption,
  StateType,
  msg,
  voteRespMsgType,
  isEmptyHardState,
  EMPTY,
} from './types.js';
import type { Storage } from './storage.js';
import { RaftLog } from './log.js';
import type { Progress } from './progress.js';
import { ProgressTracker, type ProgressMap, type TrackerConfig, describeConfig, isJoint } from './tracker.js';
import { VoteResult, jointCommitted } from './quorum.js';
import { Changer, enterJoint, isLeaveJoint, restoreConfState } from './confchange.js';
import { ReadOnly } from './read-only.js';
import { LeaseClock, decodeLeaseStamp, encodeLeaseStamp, type LeaseClockConfig } from './lease.js';
import { decodeConfChange } from './codec.js';
import {
  CodecError,
  CompactedError,
  ConfChangeRefusedError,
  ConfigError,
  ProposalDroppedError,
  RaftPanic,
  SnapshotTemporarilyUnavailableError,
  UnavailableError,
} from './errors.js';
import { keyToBytes, payloadSize, bytesEqual } from './util.js';
import { mulberry32 } from '../common/prng.js';

export interface RaftLogger {
  debug(msg: string): void;
  info(msg: string): void;
  warn(msg: string): void;
}

const noopLogger: RaftLogger = { debug() {}, info() {}, warn() {} };

export interface RaftConfig {
  /** This node's id (non-zero). */
  id: number;
  /** Raft group (range) id, stamped on every outgoing message. Default 0. */
  groupId?: number;
  /** Ticks without leader contact before a follower campaigns (randomized in [n, 2n)). */
  electionTick: number;
  /** Ticks between leader heartbeats; must be < electionTick. */
  heartbeatTick: number;
  storage: Storage;
  /** Last applied index when restarting (entries ≤ applied are not re-delivered). */
  applied?: number;
  /** Max bytes of entries per MsgApp (batching). Default 1 MiB; at least one entry is always sent. */
  maxSizePerMsg?: number;
  /** Max bytes of committed entries per Ready. Default: maxSizePerMsg. */
  maxCommittedSizePerReady?: number;
  /** Leader drops proposals once this many uncommitted payload bytes are outstanding. 0 = no limit. */
  maxUncommittedEntriesSize?: number;
  /** Max in-flight MsgApp per follower in Replicate state (pipelining window). Default 256. */
  maxInflightMsgs?: number;
  /** Optional byte bound for the inflight window. 0 = none. */
  maxInflightBytes?: number;
  /** Leader steps down if it has not heard from a quorum within an election timeout. */
  checkQuorum?: boolean;
  /** Run a pre-vote round before incrementing the term (avoids disruption by partitioned nodes). */
  preVote?: boolean;
  readOnlyOption?: ReadOnlyOption;
  /**
   * Time for leader leases (ReadOnlyOption.LeaseBased): a monotonic clock the core reads itself, so a
   * leader that was stopped finds its lease expired at once. Without it, lease time is the tick count,
   * which stalls with the process (a SIGSTOPped leader would resume believing its lease holds): tests only.
   */
  leaseClock?: LeaseClockConfig;
  /** Reject proposals on followers instead of forwarding them to the leader. */
  disableProposalForwarding?: boolean;
  /**
   * When an append acknowledgement advances the commit index, send followers only entries they lack,
   * not an append carrying nothing but the new commit index: they learn it with the next append or
   * heartbeat (within heartbeatTick; a quiescing leader's last heartbeat carries it too). A write with
   * no other write behind it in its group then costs two messages and two follower Readies less (a
   * range with one request in flight: one client, or load spread over many ranges). Nothing waits on a
   * follower's commit index: the leader answers writes, and a follower's ReadIndex is confirmed by a
   * heartbeat round that carries the commit index to it. A commit that may cover a conf change is still
   * sent to every member at once: a removed replica would otherwise never learn it (it gets no more
   * heartbeats). Default false (etcd-raft's behaviour).
   */
  lazyCommitBroadcast?: boolean;
  /**
   * On its heartbeat tick the leader skips a follower that it sent an append since the previous one
   * (etcd-raft heartbeats every follower every time). The append did what the heartbeat would: it reset
   * the follower's election timer and vote hold, carried a commit index, and — stamped like a heartbeat
   * (lease.ts encodeLeaseStamp), its answer echoing the stamp — renews the lease. Under load across many
   * ranges the heartbeats were a third of a store's Raft messages (docs/benchmarks.md). Still heartbeated:
   * a follower in Probe or Snapshot state or with a full window (the answer's retries unstick it), and
   * everyone when a ReadIndex context is pending. A follower thus hears from the leader at least every
   * two heartbeat intervals, and learns a commit index at most that late when the range goes idle.
   * Default false.
   */
  skipHeartbeatsAfterAppends?: boolean;
  /** Leader steps down when it applies a config that removes (or demotes) it. Default true. */
  stepDownOnRemoval?: boolean;
  /** Source of randomness in [0, 1) for election timeouts. Default: a fixed-seed PRNG from id. */
  rand?: () => number;
  logger?: RaftLogger;
}

/** Tiny deterministic PRNG (mulberry32; used when no rand is injected). */
export { mulberry32 };

enum CampaignType {
  PreElection = 'CampaignPreElection',
  Election = 'CampaignElection',
  Transfer = 'CampaignTransfer',
}

const CAMPAIGN_TRANSFER_CTX = keyToBytes(CampaignType.Transfer);

export class Raft {
  readonly id: number;
  readonly groupId: number;
  term = 0;
  vote = NONE;
  readStates: ReadState[] = [];
  readonly raftLog: RaftLog;
  readonly maxMsgSize: number;
  readonly maxUncommittedSize: number;
  trk: ProgressTracker;
  state: StateType = StateType.Follower;
  isLearner = false;
  msgs: Message[] = [];
  lead = NONE;
  /** Target of an in-progress leadership transfer (NONE if none). */
  leadTransferee = NONE;
  /** Only one conf change may be pending (proposed but not applied): its index. */
  pendingConfIndex = 0;
  /** With lazyCommitBroadcast: a commit advancing through this index still goes to every member at once. */
  private eagerCommitIndex = 0;
  /**
   * With lazyCommitBroadcast: followers that wait to apply an index not committed yet (a proposal they
   * forwarded, a timestamp promise) → that index. When the commit advances through it, that follower
   * alone is told at once; the others learn it lazily.
   */
  private readonly promptCommitTo = new Map<number, number>();
  uncommittedSize = 0;
  readOnly: ReadOnly;
  /** Last index handed to the host for applying in an outstanding Ready (RawNode sets it). */
  applyingIndex = 0;
  /** ReadIndex requests queued because the leader hasn't committed in its term yet. */
  pendingReadIndexMessages: Message[] = [];
  /** A ReadIndex batch was queued since the last heartbeat broadcast (see flushReadIndex). */
  private readIndexBroadcastPending = false;
  electionElapsed = 0;
  heartbeatElapsed = 0;
  /** Ticks since this Raft instance was created (monotonic); the lease clock when no clock is injected. */
  ticks = 0;
  /** Lease time is the tick count (no clock injected): a group that stops ticking must not serve lease reads. */
  private readonly leaseOnTicks: boolean;
  /** Lease time source and bounds (lease.ts). */
  readonly lease: LeaseClock;
  /** ReadIndex requests this node answered from its lease as leader (monotonic; a metric). */
  leaseReadCount = 0;
  /** Lease clock reading of the last message from a leader (append, heartbeat, snapshot). */
  private leaderContactAt = Number.MIN_SAFE_INTEGER;
  /** Set once the leader has sent MsgTimeoutNow: its lease can no longer be trusted this term. */
  private leaseVoid = false;
  readonly checkQuorum: boolean;
  readonly preVote: boolean;
  readonly heartbeatTimeout: number;
  readonly electionTimeout: number;
  randomizedElectionTimeout = 0;
  readonly disableProposalForwarding: boolean;
  private readonly lazyCommitBroadcast: boolean;
  private readonly skipHeartbeatsAfterAppends: boolean;
  readonly stepDownOnRemoval: boolean;
  private readonly rand: () => number;
  readonly logger: RaftLogger;
  private tickFn: () => void = () => this.tickElection();
  private stepFn: (m: Message) => void = (m) => this.stepFollower(m);

  constructor(c: RaftConfig) {
    validateConfig(c);
    this.id = c.id;
    this.groupId = c.groupId ?? 0;
    this.maxMsgSize = c.maxSizePerMsg ?? 1024 * 1024;
    this.raftLog = new RaftLog(c.storage, c.maxCommittedSizePerReady ?? this.maxMsgSize);
    this.maxUncommittedSize = c.maxUncommittedEntriesSize || Number.MAX_SAFE_INTEGER;
    this.trk = new ProgressTracker(c.maxInflightMsgs ?? 256, c.maxInflightBytes ?? 0);
    this.electionTimeout = c.electionTick;
    this.heartbeatTimeout = c.heartbeatTick;
    this.checkQuorum = c.checkQuorum ?? false;
    this.preVote = c.preVote ?? false;
    this.readOnly = new ReadOnly(c.readOnlyOption ?? ReadOnlyOption.Safe);
    this.lease = new LeaseClock(c.electionTick, () => this.ticks, c.leaseClock);
    this.leaseOnTicks = c.leaseClock === undefined;
    this.disableProposalForwarding = c.disableProposalForwarding ?? false;
    this.lazyCommitBroadcast = c.lazyCommitBroadcast ?? false;
    this.skipHeartbeatsAfterAppends = c.skipHeartbeatsAfterAppends ?? false;
    this.stepDownOnRemoval = c.stepDownOnRemoval ?? true;
    this.rand = c.rand ?? mulberry32(c.id * 7919 + 1);
    this.logger = c.logger ?? noopLogger;

    const { hardState, confState } = c.storage.initialState();
    const { config, progress } = restoreConfState(this.trk, this.raftLog.lastIndex(), confState);
    this.switchToConfig(config, progress);
    if (!isEmptyHardState(hardState)) this.loadState(hardState);
    if (c.applied && c.applied > 0) this.raftLog.appliedTo(c.applied);
    this.becomeFollower(this.term, NONE);
    this.logger.info(
      `newRaft ${this.id} [${describeConfig(this.trk.config)}] term: ${this.term}, commit: ${this.raftLog.committed}, ` +
        `applied: ${this.raftLog.applied}, lastindex: ${this.raftLog.lastIndex()}`,
    );
  }

  // ---- state accessors -------------------------------------------------------------------

  softState(): SoftState {
    return { lead: this.lead, raftState: this.state };
  }

  hardState(): HardState {
    return { term: this.term, vote: this.vote, commit: this.raftLog.committed };
  }

  /** Load a persisted HardState (restart; also used by tests). */
  loadState(hs: HardState): void {
    if (hs.commit < this.raftLog.committed || hs.commit > this.raftLog.lastIndex()) {
      throw new RaftPanic(`${this.id} state.commit ${hs.commit} is out of range [${this.raftLog.committed}, ${this.raftLog.lastIndex()}]`);
    }
    this.raftLog.committed = hs.commit;
    this.term = hs.term;
    this.vote = hs.vote;
  }

  /** Can this node campaign? (voter in the config and not waiting on a snapshot to apply) */
  promotable(): boolean {
    const pr = this.trk.progress.get(this.id);
    return pr !== undefined && !pr.isLearner && this.raftLog.unstable.snapshot === undefined;
  }

  // ---- sending ---------------------------------------------------------------------------

  send(m: Message): void {
    if (m.from === NONE) m.from = this.id;
    m.groupId = this.groupId;
    if (
      m.type === MessageType.Vote ||
      m.type === MessageType.VoteResp ||
      m.type === MessageType.PreVote ||
      m.type === MessageType.PreVoteResp
    ) {
      // Vote messages carry the term they are *for* (pre-votes: a future term).
      if (m.term === 0) throw new RaftPanic(`term should be set when sending ${MessageType[m.type]}`);
    } else {
      if (m.term !== 0) throw new RaftPanic(`term should not be set when sending ${MessageType[m.type]} (was ${m.term})`);
      // Proposals and read requests are forwarded without a term: they are term-independent.
      if (m.type !== MessageType.Prop && m.type !== MessageType.ReadIndex) m.term = this.term;
    }
    this.msgs.push(m);
  }

  /** Send an append (or a snapshot if the needed entries are compacted) to `to`. */
  sendAppend(to: number): void {
    this.maybeSendAppend(to, true);
  }

  /**
   * Returns true if a message was sent. With sendIfEmpty=false, an append without entries
   * is not sent (used to drain the pipeline without spamming commit-only messages).
   */
  maybeSendAppend(to: number, sendIfEmpty: boolean): boolean {
    const pr = this.trk.progress.get(to);
    if (!pr || pr.isPaused()) return false;

    const term = this.raftLog.maybeTerm(pr.next - 1);
    let ents: Entry[] = [];
    let failed = term === undefined;
    if (!failed) {
      try {
        ents = this.raftLog.entries(pr.next, this.maxMsgSize);
      } catch (e) {
        // Compacted (or not yet available): fall back to a snapshot. Anything else is a bug.
        if (!(e instanceof CompactedError) && !(e instanceof UnavailableError)) throw e;
        failed = true;
      }
    }
    if (ents.length === 0 && !sendIfEmpty) return false;

    if (failed || term === undefined) {
      if (!pr.recentActive) {
        this.logger.debug(`${this.id} ignore sending snapshot to ${to} since it is not recently active`);
        return false;
      }
      let snapshot: Snapshot;
      try {
        snapshot = this.raftLog.snapshot();
      } catch (e) {
        if (e instanceof SnapshotTemporarilyUnavailableError) {
          this.logger.debug(`${this.id} failed to send snapshot to ${to} because snapshot is temporarily unavailable`);
          return false;
        }
        throw e;
      }
      if (snapshot.metadata.index === 0) throw new RaftPanic('need non-empty snapshot');
      pr.becomeSnapshot(snapshot.metadata.index);
      this.logger.debug(`${this.id} sends snapshot ${snapshot.metadata.index} to ${to}`);
      this.send(msg({ type: MessageType.Snap, to, snapshot, gen: pr.gen }));
      return true;
    }

    const m = msg({
      type: MessageType.App,
      to,
      index: pr.next - 1,
      logTerm: term,
      entries: ents,
      commit: this.raftLog.committed,
      gen: pr.gen,
      // The lease stamp: an acknowledged append renews the lease as a heartbeat does (lease.ts).
      context: this.leaseReads() ? encodeLeaseStamp(this.lease.now()) : EMPTY,
    });
    pr.appSentSinceBeat = true;
    if (ents.length > 0) {
      if (pr.state === ProgressState.Replicate) {
        const last = ents[ents.length - 1]!.index;
        pr.optimisticUpdate(last);
        pr.inflights.add(last, payloadSize(ents));
      } else if (pr.state === ProgressState.Probe) {
        pr.probeSent = true;
      } else {
        throw new RaftPanic(`${this.id} is sending append in unhandled state ${pr.state}`);
      }
    }
    this.send(m);
    return true;
  }

  private sendHeartbeat(to: number, ctx: Uint8Array): void {
    // Only commit up to what the follower is known to have, so it never commits beyond its log.
    const pr = this.trk.progress.get(to)!;
    const commit = Math.min(pr.match, this.raftLog.committed);
    // `index` carries our lease clock (stamped before the real send); the follower echoes it so we know
    // when the acknowledged heartbeat was *sent* (lease reads measure from the send time).
    this.send(msg({ type: MessageType.Heartbeat, to, commit, context: ctx, index: this.lease.now(), gen: pr.gen }));
  }

  /**
   * With lazyCommitBroadcast: when the commit index reaches `index`, send it to every member at once, as
   * without the option (the host flags entries whose prompt apply on followers matters: a split).
   */
  commitEagerlyThrough(index: number): void {
    if (index > this.eagerCommitIndex) this.eagerCommitIndex = index;
  }

  /**
   * With lazyCommitBroadcast: `to` learns the commit index through `index` promptly — a heartbeat now if
   * it is committed (the follower may not have heard), else the commit goes to every member as soon as it
   * advances through it. For a follower that waits to apply `index` (a timestamp promise's answer).
   */
  commitPromptlyTo(to: number, index: number): void {
    if (!this.lazyCommitBroadcast || this.state !== StateType.Leader || to === this.id) return;
    if (index > this.raftLog.committed) {
      if (index > (this.promptCommitTo.get(to) ?? 0)) this.promptCommitTo.set(to, index);
    } else if (this.trk.progress.has(to)) this.sendHeartbeat(to, EMPTY);
  }

  /**
   * The commit just advanced (lazily broadcast): each follower waiting for it through an index now
   * committed gets an append at once — with the entries it lacks, or empty to carry the commit.
   */
  private sendPromptCommits(): void {
    if (this.promptCommitTo.size === 0) return;
    const committed = this.raftLog.committed;
    for (const [to, index] of this.promptCommitTo) {
      if (index > committed) continue;
      this.promptCommitTo.delete(to);
      if (this.trk.progress.has(to)) this.sendAppend(to);
    }
  }

  /** Sends each follower the entries it lacks (pipelined), and nothing to one that has them all. */
  private bcastEntries(): void {
    this.trk.visit((id, pr) => {
      if (id === this.id) return;
      while (this.maybeSendAppend(id, false) && pr.state === ProgressState.Replicate) {
        /* keep sending */
      }
    });
  }

  bcastAppend(): void {
    this.trk.visit((id, pr) => {
      if (id === this.id) return;
      this.sendAppend(id);
      // Pipelining: a large batch goes out as several size-limited messages at once, up to
      // the inflight window, instead of one message per round trip.
      while (pr.state === ProgressState.Replicate && this.maybeSendAppend(id, false)) {
        /* keep sending */
      }
    });
  }

  /**
   * The heartbeat tick. With skipHeartbeatsAfterAppends (see RaftConfig) a follower sent an append since
   * the last tick is skipped, unless a ReadIndex context is pending (every follower must echo it).
   */
  private tickBeat(): void {
    if (!this.skipHeartbeatsAfterAppends) {
      this.bcastHeartbeat();
      return;
    }
    const readPending = this.readOnly.lastPendingRequestCtx() !== undefined;
    this.bcastHeartbeat((pr) => {
      const appended = pr.appSentSinceBeat && pr.state === ProgressState.Replicate && !pr.inflights.full();
      pr.appSentSinceBeat = false;
      return readPending || !appended;
    });
  }

  bcastHeartbeat(due?: (pr: Progress) => boolean): void {
    const lastCtx = this.readOnly.lastPendingRequestCtx();
    this.bcastHeartbeatWithCtx(lastCtx === undefined ? EMPTY : keyToBytes(lastCtx), due);
  }

  /** Heartbeats to every follower (for which `due`, if given, says so). */
  private bcastHeartbeatWithCtx(ctx: Uint8Array, due?: (pr: Progress) => boolean): void {
    this.readIndexBroadcastPending = false;
    this.trk.visit((id, pr) => {
      if (id !== this.id && (due === undefined || due(pr))) this.sendHeartbeat(id, ctx);
    });
  }

  /**
   * ReadIndex batching: requests arriving between two Readies share one heartbeat round.
   * RawNode calls this before building a Ready.
   */
  flushReadIndex(): void {
    if (this.readIndexBroadcastPending && this.state === StateType.Leader) this.bcastHeartbeat();
    this.readIndexBroadcastPending = false;
  }

  hasPendingReadIndexBroadcast(): boolean {
    return this.readIndexBroadcastPending && this.state === StateType.Leader;
  }

  // ---- commit / append -------------------------------------------------------------------

  /** Advance commit to the quorum-acked index if it is from the current term (§5.4.2). */
  maybeCommit(): boolean {
    return this.raftLog.maybeCommit(this.trk.committed(), this.term);
  }

  reset(term: number): void {
    if (this.term !== term) {
      this.term = term;
      this.vote = NONE;
    }
    this.lead = NONE;
    this.electionElapsed = 0;
    this.heartbeatElapsed = 0;
    this.resetRandomizedElectionTimeout();
    this.abortLeaderTransfer();
    this.trk.resetVotes();
    const last = this.raftLog.lastIndex();
    this.trk.visit((id, pr) => {
      pr.match = 0;
      pr.next = last + 1;
      pr.state = ProgressState.Probe;
      pr.probeSent = false;
      pr.pendingSnapshot = 0;
      pr.recentActive = false;
      pr.inflights.reset();
      pr.leaseAck = Number.MIN_SAFE_INTEGER;
      pr.appSentSinceBeat = false;
      if (id === this.id) pr.match = last;
    });
    this.pendingConfIndex = 0;
    this.eagerCommitIndex = 0;
    this.promptCommitTo.clear();
    this.uncommittedSize = 0;
    this.readOnly = new ReadOnly(this.readOnly.option);
    this.pendingReadIndexMessages = [];
    this.readIndexBroadcastPending = false;
  }

  /**
   * Leader appends entries to its own (unstable) log. Its own Progress is NOT advanced here:
   * the self-ack arrives via RawNode.advance once the host has persisted the entries, so a
   * leader never counts its own non-durable entries toward a commit quorum.
   */
  appendEntry(es: Entry[]): boolean {
    const li = this.raftLog.lastIndex();
    for (let i = 0; i < es.length; i++) {
      es[i]!.term = this.term;
      es[i]!.index = li + 1 + i;
    }
    if (!this.increaseUncommittedSize(es)) {
      this.logger.warn(`${this.id} appending new entries to log would exceed uncommitted entry size limit; dropping proposal`);
      return false;
    }
    this.raftLog.append(es);
    return true;
  }

  private increaseUncommittedSize(ents: Entry[]): boolean {
    const s = payloadSize(ents);
    // Always allow at least one proposal when nothing is outstanding, and empty entries.
    if (this.uncommittedSize > 0 && s > 0 && this.uncommittedSize + s > this.maxUncommittedSize) return false;
    this.uncommittedSize += s;
    return true;
  }

  reduceUncommittedSize(s: number): void {
    this.uncommittedSize = s > this.uncommittedSize ? 0 : this.uncommittedSize - s;
  }

  // ---- quiescence (the host stops ticking an idle group: raftstore/quiesce.ts) ---------------

  /**
   * Leader: one heartbeat round carrying `ctx` (the host's quiesce marker) before the host stops ticking
   * this group. Refused (false) when lease time is the tick count: a leader that does not tick would never
   * see its lease expire.
   */
  quiesceHeartbeat(ctx: Uint8Array): boolean {
    if (this.state !== StateType.Leader || (this.leaseReads() && this.leaseOnTicks)) return false;
    this.bcastHeartbeatWithCtx(ctx);
    return true;
  }

  /**
   * Leader resuming after quiescence: a fresh check-quorum window (the elapsed ticks were frozen, maybe
   * just short of a check), with follower activity re-learned from a heartbeat round now instead of
   * trusting acknowledgements from before the pause (admin quorum checks read recentActive).
   */
  unquiesce(): void {
    if (this.state !== StateType.Leader) return;
    this.electionElapsed = 0;
    this.heartbeatElapsed = 0;
    this.trk.visit((id, pr) => {
      if (id !== this.id) pr.recentActive = false;
    });
    this.bcastHeartbeat();
  }

  /**
   * Follower whose leader's store went silent (host liveness) while this group was not ticking: forget
   * the leader so this node grants pre-votes at once, and campaign within the next election timeout.
   * Lease-read safety does not rest on this: with a clock-based lease the vote hold is checked on the
   * clock (holdsVote); with tick-based lease time this is refused.
   */
  forgetLeader(): void {
    if (this.state !== StateType.Follower || this.lead === NONE) return;
    if (this.leaseReads() && this.leaseOnTicks) return;
    this.lead = NONE;
    this.electionElapsed = Math.max(this.electionElapsed, this.electionTimeout - 1);
  }

  // ---- ticks -----------------------------------------------------------------------------

  tick(): void {
    this.tickFn();
  }

  private tickElection(): void {
    this.ticks++;
    this.electionElapsed++;
    if (this.promotable() && this.pastElectionTimeout()) {
      // Our own vote is part of a lease we acknowledged: with lease reads, campaign only once the vote
      // hold has passed on the clock too (ticks may come early: a host catching up on timers).
      if (this.leaseReads() && this.lease.holdsVote(this.leaderContactAt)) return;
      this.electionElapsed = 0;
      this.step(msg({ type: MessageType.Hup, from: this.id }));
    }
  }

  private tickHeartbeat(): void {
    this.ticks++;
    this.heartbeatElapsed++;
    this.electionElapsed++;
    if (this.electionElapsed >= this.electionTimeout) {
      this.electionElapsed = 0;
      if (this.checkQuorum) this.step(msg({ type: MessageType.CheckQuorum, from: this.id }));
      // A transfer that didn't finish within an election timeout is aborted.
      if (this.state === StateType.Leader && this.leadTransferee !== NONE) this.abortLeaderTransfer();
    }
    if (this.state !== StateType.Leader) return;
    if (this.heartbeatElapsed >= this.heartbeatTimeout) {
      this.heartbeatElapsed = 0;
      this.step(msg({ type: MessageType.Beat, from: this.id }));
    }
    this.maybeAutoLeave();
  }

  pastElectionTimeout(): boolean {
    return this.electionElapsed >= this.randomizedElectionTimeout;
  }

  private resetRandomizedElectionTimeout(): void {
    this.randomizedElectionTimeout = this.electionTimeout + Math.floor(this.rand() * this.electionTimeout);
  }

  // ---- role transitions --------------------------------------------------------------------

  becomeFollower(term: number, lead: number): void {
    this.stepFn = (m) => this.stepFollower(m);
    this.reset(term);
    this.tickFn = () => this.tickElection();
    this.lead = lead;
    this.state = StateType.Follower;
    this.logger.info(`${this.id} became follower at term ${this.term}`);
  }

  becomeCandidate(): void {
    if (this.state === StateType.Leader) throw new RaftPanic('invalid transition [leader -> candidate]');
    this.stepFn = (m) => this.stepCandidate(m);
    this.reset(this.term + 1);
    this.tickFn = () => this.tickElection();
    this.vote = this.id;
    this.state = StateType.Candidate;
    this.logger.info(`${this.id} became candidate at term ${this.term}`);
  }

  becomePreCandidate(): void {
    if (this.state === StateType.Leader) throw new RaftPanic('invalid transition [leader -> pre-candidate]');
    // Pre-candidacy changes neither term nor vote: a failed pre-vote leaves no trace.
    this.stepFn = (m) => this.stepCandidate(m);
    this.trk.resetVotes();
    this.tickFn = () => this.tickElection();
    this.lead = NONE;
    this.state = StateType.PreCandidate;
    this.logger.info(`${this.id} became pre-candidate at term ${this.term}`);
  }

  becomeLeader(): void {
    if (this.state === StateType.Follower) throw new RaftPanic('invalid transition [follower -> leader]');
    this.stepFn = (m) => this.stepLeader(m);
    this.reset(this.term);
    this.tickFn = () => this.tickHeartbeat();
    this.lead = this.id;
    this.state = StateType.Leader;
    this.leaseVoid = false;
    const pr = this.trk.progress.get(this.id)!;
    pr.becomeReplicate();
    pr.recentActive = true;
    // Conservatively treat anything in our log as a possibly pending conf change.
    this.pendingConfIndex = this.raftLog.lastIndex();
    // An empty entry of the new term: committing it commits all prior entries (§5.4.2) and
    // is the precondition for ReadIndex and conf changes in this term.
    if (!this.appendEntry([{ term: 0, index: 0, type: EntryType.Normal, data: EMPTY }])) {
      throw new RaftPanic('empty entry was dropped');
    }
    this.logger.info(`${this.id} became leader at term ${this.term}`);
  }

  private hup(t: CampaignType): void {
    if (this.state === StateType.Leader) return;
    if (!this.promotable()) {
      this.logger.warn(`${this.id} is unpromotable and can not campaign`);
      return;
    }
    if (this.hasUnappliedConfChanges()) {
      // A pending conf change might remove us or change the quorum; wait until applied.
      this.logger.warn(`${this.id} cannot campaign at term ${this.term} since there are still pending configuration changes to apply`);
      return;
    }
    this.campaign(t);
  }

  private hasUnappliedConfChanges(): boolean {
    if (this.raftLog.applied >= this.raftLog.committed) return false;
    const lo = Math.max(this.raftLog.applied + 1, this.raftLog.firstIndex());
    const ents = this.raftLog.slice(lo, this.raftLog.committed + 1, Number.MAX_SAFE_INTEGER);
    return ents.some((e) => e.type === EntryType.ConfChange);
  }

  private campaign(t: CampaignType): void {
    let term: number;
    let voteMsg: MessageType;
    if (t === CampaignType.PreElection) {
      this.becomePreCandidate();
      voteMsg = MessageType.PreVote;
      term = this.term + 1; // pre-votes are for the next term; our term doesn't change yet
    } else {
      this.becomeCandidate();
      voteMsg = MessageType.Vote;
      term = this.term;
    }
    const { result } = this.poll(this.id, voteRespMsgType(voteMsg), true);
    if (result === VoteResult.Won) {
      // Single voter: we won by voting for ourselves.
      if (t === CampaignType.PreElection) this.campaign(CampaignType.Election);
      else this.becomeLeader();
      return;
    }
    const lastIndex = this.raftLog.lastIndex();
    const lastTerm = this.raftLog.lastTerm();
    for (const id of this.trk.voterIds()) {
      if (id === this.id) continue;
      this.logger.info(`${this.id} [logterm: ${lastTerm}, index: ${lastIndex}] sent ${MessageType[voteMsg]} request to ${id} at term ${this.term}`);
      this.send(
        msg({
          type: voteMsg,
          to: id,
          term,
          index: lastIndex,
          logTerm: lastTerm,
          context: t === CampaignType.Transfer ? CAMPAIGN_TRANSFER_CTX : EMPTY,
        }),
      );
    }
  }

  private poll(id: number, t: MessageType, v: boolean): { granted: number; rejected: number; result: VoteResult } {
    this.logger.info(`${this.id} received ${MessageType[t]} ${v ? '' : 'rejection '}from ${id} at term ${this.term}`);
    this.trk.recordVote(id, v);
    return this.trk.tallyVotes();
  }

  // ---- step ----------------------------------------------------------------------------

  /** Process one message. Throws ProposalDroppedError for proposals that cannot be accepted. */
  step(m: Message): void {
    // Term handling (§5.1): newer term → step down; stale term → mostly ignore.
    if (m.term === 0) {
      // local message (or term-less forwarded proposal / read index)
    } else if (m.term > this.term) {
      if (m.type === MessageType.Vote || m.type === MessageType.PreVote) {
        const force = bytesEqual(m.context, CAMPAIGN_TRANSFER_CTX);
        // With lease reads, also for voteHold after the last leader contact on the lease clock (whatever
        // happened to `lead` since), and after a (re)start: we forgot whom we acknowledged before it.
        const inLease =
          this.checkQuorum &&
          ((this.lead !== NONE && this.electionElapsed < this.electionTimeout) ||
            (this.leaseReads() && this.lease.holdsVote(this.leaderContactAt)));
        if (!force && inLease) {
          // Leader stickiness (§6 of the thesis / check-quorum): while we hear from a current
          // leader, ignore disruptive votes; don't even update our term.
          this.logger.info(
            `${this.id} [term: ${this.term}] ignored ${MessageType[m.type]} from ${m.from} at term ${m.term}: lease is not expired`,
          );
          return;
        }
      }
      if (m.type === MessageType.PreVote) {
        // Never change our term in response to a PreVote.
      } else if (m.type === MessageType.PreVoteResp && !m.reject) {
        // Granted pre-votes carry the future term; we bump the term only once we win.
      } else {
        this.logger.info(`${this.id} [term: ${this.term}] received a ${MessageType[m.type]} message with higher term from ${m.from} [term: ${m.term}]`);
        if (m.type === MessageType.App || m.type === MessageType.Heartbeat || m.type === MessageType.Snap) {
          this.becomeFollower(m.term, m.from);
        } else {
          this.becomeFollower(m.term, NONE);
        }
      }
    } else if (m.term < this.term) {
      if (m.type === MessageType.Heartbeat || m.type === MessageType.App) {
        // Tell a stale leader our term (as the paper's AppendEntries reply does) so it steps
        // down. etcd answers only under check-quorum/pre-vote and otherwise relies on our vote
        // requests to spread the term — but those go to *our* (possibly stale) configuration:
        // a voter that missed conf changes would then campaign forever at ever higher terms
        // while the real leader's lower-term heartbeats are ignored (found by the simulator).
        this.send(msg({ type: MessageType.AppResp, to: m.from }));
      } else if (m.type === MessageType.PreVote) {
        // Reject explicitly so a stale pre-candidate learns the newer term (avoids deadlock).
        this.send(msg({ type: MessageType.PreVoteResp, to: m.from, term: this.term, reject: true }));
      }
      return;
    }

    switch (m.type) {
      case MessageType.Hup:
        this.hup(this.preVote ? CampaignType.PreElection : CampaignType.Election);
        return;
      case MessageType.Vote:
      case MessageType.PreVote: {
        // Grant if we already voted for this candidate, or haven't voted and know no leader,
        // or this is a pre-vote for a future term — and the candidate's log is up to date.
        const canVote =
          this.vote === m.from ||
          (this.vote === NONE && this.lead === NONE) ||
          (m.type === MessageType.PreVote && m.term > this.term);
        if (canVote && this.raftLog.isUpToDate(m.index, m.logTerm)) {
          this.logger.info(`${this.id} cast ${MessageType[m.type]} for ${m.from} at term ${this.term}`);
          this.send(msg({ type: voteRespMsgType(m.type), to: m.from, term: m.term }));
          if (m.type === MessageType.Vote) {
            // Only record real votes.
            this.electionElapsed = 0;
            this.vote = m.from;
          }
        } else {
          this.logger.info(`${this.id} rejected ${MessageType[m.type]} from ${m.from} at term ${this.term}`);
          this.send(msg({ type: voteRespMsgType(m.type), to: m.from, term: this.term, reject: true }));
        }
        return;
      }
      default:
        this.stepFn(m);
    }
  }

  private stepLeader(m: Message): void {
    switch (m.type) {
      case MessageType.Beat:
        this.tickBeat();
        return;
      case MessageType.CheckQuorum:
        if (!this.trk.quorumActive()) {
          this.logger.warn(`${this.id} stepped down to follower since quorum is not active`);
          this.becomeFollower(this.term, NONE);
        }
        // Mark everyone (but ourselves) inactive in preparation for the next check.
        this.trk.visit((id, pr) => {
          if (id !== this.id) pr.recentActive = false;
        });
        return;
      case MessageType.Prop: {
        if (m.entries.length === 0) throw new RaftPanic(`${this.id} stepped empty MsgProp`);
        if (!this.trk.progress.has(this.id)) {
          // Removed from the config while leader: drop new proposals.
          throw new ProposalDroppedError('leader is not a member of the group', NONE);
        }
        if (this.leadTransferee !== NONE) {
          throw new ProposalDroppedError(`leader transfer to ${this.leadTransferee} in progress`, this.leadTransferee);
        }
        // Copy: appendEntry assigns term/index, and the caller's (or a duplicated
        // message's) entry objects must never alias entries of our log.
        const entries = m.entries.map((e) => ({ ...e }));
        let pendingConfIndex = this.pendingConfIndex;
        for (let i = 0; i < entries.length; i++) {
          const e = entries[i]!;
          if (e.type !== EntryType.ConfChange) continue;
          let cc: ConfChange;
          try {
            cc = decodeConfChange(e.data);
          } catch (err) {
            // Never let an undecodable conf change into the log: every replica would fail to apply it.
            if (!(err instanceof CodecError)) throw err;
            entries[i] = { term: 0, index: 0, type: EntryType.Normal, data: EMPTY };
            continue;
          }
          const alreadyPending = pendingConfIndex > this.raftLog.applied;
          const alreadyJoint = isJoint(this.trk.config);
          const wantsLeaveJoint = isLeaveJoint(cc);
          let failed = '';
          if (alreadyPending) {
            failed = `possible unapplied conf change at index ${pendingConfIndex} (applied to ${this.raftLog.applied})`;
          } else if (alreadyJoint && !wantsLeaveJoint) {
            failed = 'must transition out of joint config first';
          } else if (!alreadyJoint && wantsLeaveJoint) {
            failed = 'not in joint state; refusing empty conf change';
          }
          if (failed) {
            // Proposed right here (e.g. by an operator via the admin API): tell the caller.
            if (m.from === this.id && entries.length === 1) throw new ConfChangeRefusedError(failed, this.id);
            // Forwarded or batched: replace by an empty normal entry so the batch keeps its indexes.
            this.logger.info(`${this.id} ignoring conf change at config ${describeConfig(this.trk.config)}: ${failed}`);
            entries[i] = { term: 0, index: 0, type: EntryType.Normal, data: EMPTY };
          } else {
            pendingConfIndex = this.raftLog.lastIndex() + i + 1;
          }
        }
        if (!this.appendEntry(entries)) {
          throw new ProposalDroppedError('uncommitted entry size limit exceeded', this.id);
        }
        this.pendingConfIndex = pendingConfIndex;
        // A proposal a follower forwarded is answered by that follower once it applies the entry, which
        // with lazyCommitBroadcast would wait for the next append or heartbeat (up to a tick): its
        // commit goes to that follower at once (to it alone: the others have no one waiting).
        if (m.from !== this.id) this.commitPromptlyTo(m.from, this.raftLog.lastIndex());
        this.bcastAppend();
        return;
      }
      case MessageType.ReadIndex:
        if (this.trk.isSingleton()) {
          // Only voter: our commit index is trivially up to date.
          const resp = this.responseToReadIndexReq(m, this.raftLog.committed);
          if (resp) this.send(resp);
          return;
        }
        if (!this.committedEntryInCurrentTerm()) {
          // Our commit index may be stale until we commit an entry of our term (§6.4).
          this.pendingReadIndexMessages.push(m);
          return;
        }
        this.sendReadIndexResponse(m);
        return;
      default:
        break;
    }

    // All other messages need the sender's progress.
    const pr = this.trk.progress.get(m.from);
    if (!pr) {
      this.logger.debug(`${this.id} no progress available for ${m.from}`);
      return;
    }
    if ((m.type === MessageType.AppResp || m.type === MessageType.HeartbeatResp) && m.gen !== undefined && m.gen !== 0 && m.gen !== pr.gen) {
      // An answer to a message sent under an earlier Progress of this peer id (removed and added back
      // since): its replica is gone, what it acknowledged says nothing about the new one.
      this.logger.debug(`${this.id} ignored ${MessageType[m.type]} from ${m.from} of progress generation ${m.gen} (now ${pr.gen})`);
      return;
    }
    switch (m.type) {
      case MessageType.AppResp: {
        pr.recentActive = true;
        // The echoed send stamp of the append answered (see handleAppendEntries): the lease, as for heartbeats.
        const stamp = decodeLeaseStamp(m.context);
        if (stamp !== undefined && stamp > pr.leaseAck) pr.leaseAck = stamp;
        if (m.reject) {
          // rejectHint/logTerm: follower's guess of where logs may match; skip whole terms.
          let nextProbeIdx = m.rejectHint;
          if (m.logTerm > 0) [nextProbeIdx] = this.raftLog.findConflictByTerm(m.rejectHint, m.logTerm);
          if (pr.maybeDecrTo(m.index, nextProbeIdx)) {
            this.logger.debug(`${this.id} decreased progress of ${m.from} to next=${pr.next}`);
            if (pr.state === ProgressState.Replicate) pr.becomeProbe();
            this.sendAppend(m.from);
          }
        } else {
          const oldPaused = pr.isPaused();
          const oldCommit = this.raftLog.committed;
          if (pr.maybeUpdate(m.index) || (pr.match === m.index && pr.state === ProgressState.Probe)) {
            if (pr.state === ProgressState.Probe) {
              pr.becomeReplicate();
            } else if (pr.state === ProgressState.Snapshot && pr.match + 1 >= this.raftLog.firstIndex()) {
              // Caught up far enough to continue from the log, whichever snapshot got applied.
              pr.becomeProbe();
              pr.becomeReplicate();
            } else if (pr.state === ProgressState.Replicate) {
              pr.inflights.freeLE(m.index);
            }
            if (this.maybeCommit()) {
              // Commit advanced in our term: queued reads can now be served.
              this.releasePendingReadIndexMessages();
              // A conf change may be among the entries just committed (pendingConfIndex is at or past
              // any unapplied one): every member, the removed one included, must hear of it now — a
              // replica learns of its own removal only from this commit index, never from a heartbeat.
              // So may an entry the host flagged (commitEagerlyThrough: a split every replica should apply
              // before routing by its old descriptor).
              if (this.lazyCommitBroadcast && this.pendingConfIndex <= oldCommit && this.eagerCommitIndex <= oldCommit) {
                this.sendPromptCommits();
                this.bcastEntries();
              } else {
                this.bcastAppend();
                for (const [to, index] of this.promptCommitTo) if (index <= this.raftLog.committed) this.promptCommitTo.delete(to);
              }
            } else if (m.from !== this.id && oldPaused) {
              // The peer may have missed the latest commit index while paused.
              this.sendAppend(m.from);
            }
            if (m.from !== this.id) {
              // Flow control may have opened up: drain as much as the window allows.
              while (this.maybeSendAppend(m.from, false)) {
                /* keep sending */
              }
            }
            if (m.from === this.leadTransferee && pr.match === this.raftLog.lastIndex()) {
              this.logger.info(`${this.id} sent MsgTimeoutNow to ${m.from} after received MsgAppResp`);
              this.sendTimeoutNow(m.from);
            }
          }
        }
        return;
      }
      case MessageType.HeartbeatResp:
        pr.recentActive = true;
        pr.probeSent = false;
        if (m.index > pr.leaseAck) pr.leaseAck = m.index;
        // Free one slot so a window full of lost appends can't stall replication forever.
        if (pr.state === ProgressState.Replicate && pr.inflights.full()) pr.inflights.freeFirstOne();
        // Lagging: resend. Caught up but still probing (e.g. after MsgUnreachable): an empty
        // append lets its answer move the peer back to Replicate.
        if (pr.match < this.raftLog.lastIndex() || pr.state === ProgressState.Probe) this.sendAppend(m.from);
        if (m.context.length === 0) return;
        {
          const acks = this.readOnly.recvAck(m.from, m.context);
          if (!acks || this.trk.voteResult(acks) !== VoteResult.Won) return;
          for (const rs of this.readOnly.advance(m.context)) {
            const resp = this.responseToReadIndexReq(rs.req, rs.index);
            if (resp) this.send(resp);
          }
        }
        return;
      case MessageType.SnapStatus:
        if (pr.state !== ProgressState.Snapshot) return;
        if (!m.reject) {
          pr.becomeProbe();
          this.logger.debug(`${this.id} snapshot succeeded, resumed sending replication messages to ${m.from}`);
        } else {
          // Order matters: clear pendingSnapshot first so we don't probe from the failed snapshot.
          pr.pendingSnapshot = 0;
          pr.becomeProbe();
          this.logger.debug(`${this.id} snapshot failed, resumed sending replication messages to ${m.from}`);
        }
        // Wait for the follower's MsgAppResp (or a heartbeat response) before the next append.
        pr.probeSent = true;
        return;
      case MessageType.Unreachable:
        // Optimistic replication to an unreachable peer probably lost messages: probe again.
        if (pr.state === ProgressState.Replicate) pr.becomeProbe();
        return;
      case MessageType.TransferLeader: {
        if (pr.isLearner) {
          this.logger.debug(`${this.id} is learner. Ignored transferring leadership`);
          return;
        }
        const leadTransferee = m.from;
        const last = this.leadTransferee;
        if (last !== NONE) {
          if (last === leadTransferee) return; // same transfer already in progress
          this.abortLeaderTransfer();
        }
        if (leadTransferee === this.id) return; // already leader
        // The transfer must complete within one election timeout (see tickHeartbeat).
        this.electionElapsed = 0;
        this.leadTransferee = leadTransferee;
        if (pr.match === this.raftLog.lastIndex()) {
          this.sendTimeoutNow(leadTransferee);
        } else {
          this.sendAppend(leadTransferee);
        }
        return;
      }
      default:
        return;
    }
  }

  private stepCandidate(m: Message): void {
    const myVoteRespType = this.state === StateType.PreCandidate ? MessageType.PreVoteResp : MessageType.VoteResp;
    switch (m.type) {
      case MessageType.Prop:
        throw new ProposalDroppedError('no leader (election in progress)', NONE);
      case MessageType.App:
        this.becomeFollower(m.term, m.from); // m.term === this.term here
        this.handleAppendEntries(m);
        return;
      case MessageType.Heartbeat:
        this.becomeFollower(m.term, m.from);
        this.handleHeartbeat(m);
        return;
      case MessageType.Snap:
        this.becomeFollower(m.term, m.from);
        this.handleSnapshot(m);
        return;
      case myVoteRespType: {
        const { result } = this.poll(m.from, m.type, !m.reject);
        if (result === VoteResult.Won) {
          if (this.state === StateType.PreCandidate) {
            this.campaign(CampaignType.Election);
          } else {
            this.becomeLeader();
            this.bcastAppend();
          }
        } else if (result === VoteResult.Lost) {
          // A pre-vote response carries a future term; stay at our term.
          this.becomeFollower(this.term, NONE);
        }
        return;
      }
      default:
        return;
    }
  }

  private stepFollower(m: Message): void {
    switch (m.type) {
      case MessageType.Prop:
        if (this.lead === NONE) throw new ProposalDroppedError('no leader', NONE);
        if (this.disableProposalForwarding) throw new ProposalDroppedError('proposal forwarding disabled', this.lead);
        m.to = this.lead;
        this.send(m);
        return;
      case MessageType.App:
        this.electionElapsed = 0;
        this.lead = m.from;
        this.handleAppendEntries(m);
        return;
      case MessageType.Heartbeat:
        this.electionElapsed = 0;
        this.lead = m.from;
        this.handleHeartbeat(m);
        return;
      case MessageType.Snap:
        this.electionElapsed = 0;
        this.lead = m.from;
        this.handleSnapshot(m);
        return;
      case MessageType.TransferLeader:
        if (this.lead === NONE) return;
        m.to = this.lead;
        this.send(m);
        return;
      case MessageType.TimeoutNow:
        // Leader transfer: campaign immediately, skipping pre-vote (we know the leader agrees).
        this.logger.info(`${this.id} [term ${this.term}] received MsgTimeoutNow from ${m.from} and starts an election`);
        this.hup(CampaignType.Transfer);
        return;
      case MessageType.ReadIndex:
        if (this.lead === NONE) return; // dropped: caller times out and retries
        m.to = this.lead;
        this.send(m);
        return;
      case MessageType.ReadIndexResp:
        if (m.entries.length !== 1) return;
        this.readStates.push({ index: m.index, requestCtx: m.entries[0]!.data });
        return;
      default:
        return;
    }
  }

  // ---- follower handlers -------------------------------------------------------------------

  private handleAppendEntries(m: Message): void {
    this.leaderContactAt = this.lease.now();
    const gen = m.gen ?? 0;
    // Every answer echoes the leader's lease stamp: this replica took the append as leader contact above
    // (it holds its vote from now on), so the leader may count it toward its lease as a heartbeat ack.
    const context = m.context;
    if (m.index < this.raftLog.committed) {
      this.send(msg({ type: MessageType.AppResp, to: m.from, index: this.raftLog.committed, gen, context }));
      return;
    }
    const lastNew = this.raftLog.maybeAppend(m.index, m.logTerm, m.commit, m.entries);
    if (lastNew !== undefined) {
      this.send(msg({ type: MessageType.AppResp, to: m.from, index: lastNew, gen, context }));
      return;
    }
    // Reject with a hint: the largest index ≤ m.index whose term ≤ m.logTerm, so the leader
    // can skip the whole divergent suffix in one round trip.
    const hintIndex0 = Math.min(m.index, this.raftLog.lastIndex());
    const [hintIndex, hintTerm] = this.raftLog.findConflictByTerm(hintIndex0, m.logTerm);
    this.send(
      msg({ type: MessageType.AppResp, to: m.from, index: m.index, reject: true, rejectHint: hintIndex, logTerm: hintTerm, gen, context }),
    );
  }

  private handleHeartbeat(m: Message): void {
    this.leaderContactAt = this.lease.now();
    this.raftLog.commitTo(m.commit);
    this.send(msg({ type: MessageType.HeartbeatResp, to: m.from, context: m.context, index: m.index, gen: m.gen ?? 0 }));
  }

  private handleSnapshot(m: Message): void {
    this.leaderContactAt = this.lease.now();
    const s = m.snapshot!;
    if (this.restore(s)) {
      this.logger.info(`${this.id} [commit: ${this.raftLog.committed}] restored snapshot [index: ${s.metadata.index}, term: ${s.metadata.term}]`);
      this.send(msg({ type: MessageType.AppResp, to: m.from, index: this.raftLog.lastIndex(), gen: m.gen ?? 0 }));
    } else {
      this.logger.info(`${this.id} [commit: ${this.raftLog.committed}] ignored snapshot [index: ${s.metadata.index}, term: ${s.metadata.term}]`);
      this.send(msg({ type: MessageType.AppResp, to: m.from, index: this.raftLog.committed, gen: m.gen ?? 0 }));
    }
  }

  /** Restore from a leader snapshot. Returns false if ignored (stale, or log already matches). */
  restore(s: Snapshot): boolean {
    if (s.metadata.index <= this.raftLog.committed) return false;
    if (this.applyingIndex > this.raftLog.applied) {
      // The host is applying committed entries of an outstanding Ready (possibly conf changes
      // that it will feed to applyConfChange): swapping the log and config underneath it would
      // make those stale. Ignore; the leader retries the snapshot later.
      this.logger.info(`${this.id} ignored snapshot ${s.metadata.index} while applying up to ${this.applyingIndex}`);
      return false;
    }
    if (this.state !== StateType.Follower) {
      // Defense in depth: never apply a snapshot while leader/candidate.
      this.logger.warn(`${this.id} attempted to restore snapshot as leader; should never happen`);
      this.becomeFollower(this.term + 1, NONE);
      return false;
    }
    const cs = s.metadata.confState;
    if (![...cs.voters, ...cs.learners, ...cs.votersOutgoing].includes(this.id)) {
      // A snapshot from before we joined: ignore, the leader will send a newer one.
      this.logger.warn(`${this.id} attempted to restore snapshot but it is not in the ConfState; should never happen`);
      return false;
    }
    if (this.raftLog.matchTerm(s.metadata.index, s.metadata.term)) {
      // We already have the snapshot's last entry: just fast-forward the commit index.
      this.raftLog.commitTo(s.metadata.index);
      return false;
    }
    this.raftLog.restore(s);
    this.trk = new ProgressTracker(this.trk.maxInflight, this.trk.maxInflightBytes);
    const { config, progress } = restoreConfState(this.trk, this.raftLog.lastIndex(), cs);
    this.switchToConfig(config, progress);
    return true;
  }

  // ---- read index --------------------------------------------------------------------------

  committedEntryInCurrentTerm(): boolean {
    return this.raftLog.zeroTermOnOutOfBounds(this.raftLog.committed) === this.term;
  }

  private responseToReadIndexReq(req: Message, readIndex: number): Message | undefined {
    if (req.from === NONE || req.from === this.id) {
      this.readStates.push({ index: readIndex, requestCtx: req.entries[0]!.data });
      return undefined;
    }
    return msg({ type: MessageType.ReadIndexResp, to: req.from, index: readIndex, entries: req.entries });
  }

  private sendReadIndexResponse(m: Message): void {
    if (this.leaseReads() && this.leaseValid()) {
      // Lease read: no other leader can have been elected yet (see leaseValid).
      this.leaseReadCount++;
      const resp = this.responseToReadIndexReq(m, this.raftLog.committed);
      if (resp) {
        this.send(resp);
        // The follower serves the read once it applied through the read index; with lazyCommitBroadcast
        // its commit index may trail that until the next append or heartbeat (up to a tick): send it now.
        // (A safe ReadIndex's heartbeat round carries it already.)
        this.commitPromptlyTo(m.from, this.raftLog.committed);
      }
      return;
    }
    // Safe ReadIndex (also the fallback when the lease is not currently held).
    this.readOnly.addRequest(this.raftLog.committed, m);
    // The leader acks itself; a quorum of heartbeat acks confirms it is still leader.
    this.readOnly.recvAck(this.id, m.entries[0]!.data);
    this.readIndexBroadcastPending = true;
  }

  /**
   * A lease read by the leader itself, answered in place: the index a ReadIndex from this node would get
   * right now (its commit index, once it committed an entry of its term, while it holds the lease), or
   * undefined when it would need a Ready round (no lease, not leader, fresh term, Safe reads). The host
   * serves the read once it applied through that index — the rule of sendReadIndexResponse, without the
   * message and the Ready that carries its read state back.
   */
  localLeaseReadIndex(): number | undefined {
    if (!this.leaseReads() || this.state !== StateType.Leader) return undefined;
    if (!this.committedEntryInCurrentTerm() || !this.leaseValid()) return undefined;
    this.leaseReadCount++;
    return this.raftLog.committed;
  }

  private releasePendingReadIndexMessages(): void {
    if (this.pendingReadIndexMessages.length === 0) return;
    if (!this.committedEntryInCurrentTerm()) return;
    const msgs = this.pendingReadIndexMessages;
    this.pendingReadIndexMessages = [];
    for (const m of msgs) this.sendReadIndexResponse(m);
  }

  // ---- leader transfer -------------------------------------------------------------------

  private sendTimeoutNow(to: number): void {
    // The transferee will campaign with a forced vote that bypasses followers' leases.
    this.leaseVoid = true;
    this.send(msg({ type: MessageType.TimeoutNow, to }));
  }

  private leaseReads(): boolean {
    return this.readOnly.option === ReadOnlyOption.LeaseBased;
  }

  /**
   * Leader lease (ReadOnlyOption.LeaseBased; arithmetic and argument in lease.ts, docs/raft.md). S is the
   * latest send stamp a quorum of the current config echoed (our own "ack" is now); the lease holds
   * while now − S < lease.duration. Void while a transfer is pending and once MsgTimeoutNow was sent
   * (the transferee's forced campaign bypasses the followers' vote hold); gone on step-down (state,
   * and reset() forgets every ack).
   */
  leaseValid(): boolean {
    if (this.state !== StateType.Leader || this.leaseVoid || this.leadTransferee !== NONE) return false;
    const now = this.lease.now();
    const start = jointCommitted(this.trk.config.voters, (id) => (id === this.id ? now : (this.trk.progress.get(id)?.leaseAck ?? Number.MIN_SAFE_INTEGER)));
    return this.lease.valid(start, now);
  }

  abortLeaderTransfer(): void {
    this.leadTransferee = NONE;
  }

  // ---- configuration -----------------------------------------------------------------------

  /** Apply a committed conf change (host calls this via RawNode when applying the entry). */
  applyConfChange(cc: ConfChange): ConfState {
    const changer = new Changer(this.trk, this.raftLog.lastIndex());
    let res;
    if (isLeaveJoint(cc)) {
      res = changer.leaveJoint();
    } else {
      const { joint, autoLeave } = enterJoint(cc);
      res = joint ? changer.enterJoint(autoLeave, cc.changes) : changer.simple(cc.changes);
    }
    return this.switchToConfig(res.config, res.progress);
  }

  switchToConfig(config: TrackerConfig, progress: ProgressMap): ConfState {
    this.trk.config = config;
    this.trk.progress = progress;
    this.logger.info(`${this.id} switched to configuration ${describeConfig(config)}`);
    const cs = this.trk.confState();
    const pr = this.trk.progress.get(this.id);
    this.isLearner = pr !== undefined && pr.isLearner;

    if ((pr === undefined || this.isLearner) && this.state === StateType.Leader) {
      // Removed or demoted leader.
      if (this.stepDownOnRemoval) this.becomeFollower(this.term, NONE);
      return cs;
    }
    if (this.state !== StateType.Leader || cs.voters.length === 0) return cs;

    if (this.maybeCommit()) {
      // The new quorum may commit more.
      this.bcastAppend();
    } else {
      // Probe newly added peers right away rather than waiting for a heartbeat.
      this.trk.visit((id) => {
        if (id !== this.id) this.maybeSendAppend(id, false);
      });
    }
    if (this.leadTransferee !== NONE && !this.trk.isVoter(this.leadTransferee)) this.abortLeaderTransfer();
    return cs;
  }

  /** Called after entries are applied (RawNode.advance). */
  appliedTo(index: number): void {
    const newApplied = Math.max(index, this.raftLog.applied);
    this.raftLog.appliedTo(newApplied);
    this.maybeAutoLeave();
  }

  /** Leader proposes leaving the joint config once the entering entry is applied. */
  private maybeAutoLeave(): void {
    if (
      this.state === StateType.Leader &&
      this.trk.config.autoLeave &&
      this.raftLog.applied >= this.pendingConfIndex &&
      this.leadTransferee === NONE
    ) {
      // Empty data decodes to the empty "leave joint" ConfChange and has zero payload size,
      // so the uncommitted-size limit can never refuse it.
      const ent: Entry = { term: 0, index: 0, type: EntryType.ConfChange, data: EMPTY };
      try {
        this.step(msg({ type: MessageType.Prop, from: this.id, entries: [ent] }));
      } catch (e) {
        // Dropped (e.g. removed leader); retried on a later tick/apply.
        if (e instanceof ProposalDroppedError) return;
        throw e;
      }
      this.logger.info(`${this.id} initiating automatic transition out of joint configuration ${describeConfig(this.trk.config)}`);
    }
  }

  /** Leader self-ack of entries the host has persisted (sent by RawNode.advance). */
  selfAck(index: number): void {
    if (this.state !== StateType.Leader) return;
    this.step(msg({ type: MessageType.AppResp, from: this.id, to: this.id, term: this.term, index }));
  }
}

function validateConfig(c: RaftConfig): void {
  if (!c.id) throw new ConfigError('cannot use none as id');
  if (!(c.heartbeatTick > 0)) throw new ConfigError('heartbeat tick must be greater than 0');
  if (!(c.electionTick > c.heartbeatTick)) throw new ConfigError('election tick must be greater than heartbeat tick');
  if (!c.storage) throw new ConfigError('storage cannot be nil');
  if (c.maxInflightMsgs !== undefined && !(c.maxInflightMsgs > 0)) throw new ConfigError('max inflight messages must be greater than 0');
  if (c.readOnlyOption === ReadOnlyOption.LeaseBased && !c.checkQuorum) {
    throw new ConfigError('CheckQuorum must be enabled when ReadOnlyOption is ReadOnlyLeaseBased');
  }
}
