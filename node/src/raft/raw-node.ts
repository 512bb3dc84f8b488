// RawNode: the host-facing, single-threaded API of one Raft group (etcd rawnode.go).
//
// Host loop (see docs/raft.md for the full persistence contract):
//   tick() every tick interval; step(m) for each received message; propose()/readIndex()...
//   if (hasReady()) {
//     const rd = ready();
//     1. persist rd.hardState, rd.entries (append, truncating conflicts), rd.snapshot — durably
//        if rd.mustSync — BEFORE sending rd.messages (a leader may send MsgApp/MsgSnap/
//        MsgHeartbeat in parallel with its own write, provided rd.hardState does not change
//        term or vote).
//     2. send rd.messages (report MsgSnap outcome with reportSnapshot()).
//     3. apply rd.snapshot (if any) then rd.committedEntries in order; for ConfChange entries
//        call applyConfChange(). Serve rd.readStates once applied ≥ readState.index.
//     4. advance().
//   }

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
  ProgressState,
  StateType,
  hardStateEqual,
  isEmptyHardState,
  isLocalMsg,
  isResponseMsg,
  msg,
  EMPTY,
} from './types.js';
import { Raft, type RaftConfig } from './raft.js';
import { encodeConfChange } from './codec.js';
import { RaftPanic, StepLocalMsgError, StepPeerNotFoundError } from './errors.js';

export interface Ready {
  groupId: number;
  /** Set when lead or role changed since the last Ready. Not persisted. */
  softState?: SoftState;
  /** Set when term, vote or commit changed; persist before sending messages. */
  hardState?: HardState;
  /** ReadIndex results: serve the read with that ctx once applied ≥ index. */
  readStates: ReadState[];
  /** Entries to append to stable storage (may overwrite a conflicting suffix). */
  entries: Entry[];
  /** Snapshot to persist and then apply to the state machine. */
  snapshot?: Snapshot;
  /** Committed entries to apply, in order (may overlap `entries`: persist first). */
  committedEntries: Entry[];
  /** Messages to send after persisting (see contract above). */
  messages: Message[];
  /** Whether the write must be fsynced (term/vote changed or entries appended). */
  mustSync: boolean;
}

export interface PeerProgress {
  id: number;
  match: number;
  next: number;
  state: ProgressState;
  paused: boolean;
  pendingSnapshot: number;
  recentActive: boolean;
  isLearner: boolean;
  inflight: number;
}

export interface Status {
  id: number;
  groupId: number;
  term: number;
  vote: number;
  commit: number;
  applied: number;
  lead: number;
  raftState: StateType;
  leadTransferee: number;
  firstIndex: number;
  lastIndex: number;
  config: ConfState;
  /** Progress of every peer; only populated on the leader. */
  progress: PeerProgress[];
}

export enum SnapshotStatus {
  Finish = 'Finish',
  Failure = 'Failure',
}

export class RawNode {
  readonly raft: Raft;
  private prevSoftState: SoftState;
  private prevHardState: HardState;
  /** The Ready handed out and not yet advanced. */
  private outstanding: Ready | undefined;

  constructor(config: RaftConfig) {
    this.raft = new Raft(config);
    this.prevSoftState = this.raft.softState();
    this.prevHardState = this.raft.hardState();
  }

  get id(): number {
    return this.raft.id;
  }

  get groupId(): number {
    return this.raft.groupId;
  }

  tick(): void {
    this.raft.tick();
  }

  /** Start an election now (pre-vote first if enabled). */
  campaign(): void {
    this.raft.step(msg({ type: MessageType.Hup, from: this.raft.id }));
  }

  /**
   * Propose data. On a follower it is forwarded to the leader (unless forwarding is
   * disabled). Throws ProposalDroppedError (with a leader hint) if it cannot be accepted;
   * acceptance does not mean commit — watch committed entries for the outcome.
   */
  propose(data: Uint8Array): void {
    this.raft.step(
      msg({ type: MessageType.Prop, from: this.raft.id, entries: [{ term: 0, index: 0, type: EntryType.Normal, data }] }),
    );
  }

  /** Propose a configuration change (refused by the leader while another is pending). */
  proposeConfChange(cc: ConfChange): void {
    this.raft.step(
      msg({
        type: MessageType.Prop,
        from: this.raft.id,
        entries: [{ term: 0, index: 0, type: EntryType.ConfChange, data: encodeConfChange(cc) }],
      }),
    );
  }

  /** Apply a committed conf change entry; must be called by the host when applying it. */
  applyConfChange(cc: ConfChange): ConfState {
    return this.raft.applyConfChange(cc);
  }

  /** Feed a message received from the network. */
  step(m: Message): void {
    if (isLocalMsg(m.type)) throw new StepLocalMsgError();
    if (isResponseMsg(m.type) && !this.raft.trk.progress.has(m.from)) throw new StepPeerNotFoundError();
    this.raft.step(m);
  }

  /**
   * Request a linearizable read. A ReadState with this ctx appears in a later Ready; ctx must
   * be unique among pending reads. Requests between two Readies share one heartbeat round.
   * Silently dropped if no leader is known (the caller should time out and retry).
   */
  readIndex(ctx: Uint8Array): void {
    this.raft.step(
      msg({ type: MessageType.ReadIndex, from: this.raft.id, entries: [{ term: 0, index: 0, type: EntryType.Normal, data: ctx }] }),
    );
  }

  /** Ask the leader to hand leadership to `transferee` (works from any node). */
  transferLeader(transferee: number): void {
    this.raft.step(msg({ type: MessageType.TransferLeader, from: transferee }));
  }

  reportUnreachable(id: number): void {
    this.raft.step(msg({ type: MessageType.Unreachable, from: id }));
  }

  reportSnapshot(id: number, status: SnapshotStatus): void {
    this.raft.step(msg({ type: MessageType.SnapStatus, from: id, reject: status === SnapshotStatus.Failure }));
  }

  hasReady(): boolean {
    if (this.outstanding) return false;
    const r = this.raft;
    const ss = r.softState();
    if (ss.lead !== this.prevSoftState.lead || ss.raftState !== this.prevSoftState.raftState) return true;
    const hs = r.hardState();
    if (!isEmptyHardState(hs) && !hardStateEqual(hs, this.prevHardState)) return true;
    if (r.raftLog.unstable.snapshot !== undefined) return true;
    if (r.msgs.length > 0 || r.hasPendingReadIndexBroadcast()) return true;
    if (r.raftLog.unstable.hasEntriesToPersist() || r.raftLog.hasNextCommittedEnts()) return true;
    return r.readStates.length > 0;
  }

  /** Collect the pending work. Must be followed by advance() before the next ready(). */
  ready(): Ready {
    if (this.outstanding) throw new RaftPanic('ready() called twice without advance()');
    const r = this.raft;
    r.flushReadIndex();
    const rd: Ready = {
      groupId: r.groupId,
      readStates: r.readStates,
      entries: r.raftLog.unstableEntries(),
      committedEntries: r.raftLog.nextCommittedEnts(),
      messages: r.msgs,
      mustSync: false,
    };
    const ss = r.softState();
    if (ss.lead !== this.prevSoftState.lead || ss.raftState !== this.prevSoftState.raftState) {
      rd.softState = ss;
      this.prevSoftState = ss;
    }
    const hs = r.hardState();
    if (!hardStateEqual(hs, this.prevHardState)) {
      rd.hardState = hs;
      rd.mustSync = hs.term !== this.prevHardState.term || hs.vote !== this.prevHardState.vote;
      this.prevHardState = hs;
    }
    if (r.raftLog.unstable.snapshot) rd.snapshot = r.raftLog.unstable.snapshot;
    if (rd.entries.length > 0) rd.mustSync = true;
    r.msgs = [];
    r.readStates = [];
    if (rd.committedEntries.length > 0) r.applyingIndex = rd.committedEntries[rd.committedEntries.length - 1]!.index;
    this.outstanding = rd;
    return rd;
  }

  /**
   * The last Ready has been persisted, sent and applied. Advances the applied/stable cursors
   * and, on a leader, acknowledges its own now-durable entries (which may commit them).
   */
  advance(): void {
    const rd = this.takeOutstanding('advance');
    const r = this.raft;
    if (rd.entries.length > 0) {
      const e = rd.entries[rd.entries.length - 1]!;
      r.raftLog.stableTo(e.index, e.term);
    }
    if (rd.snapshot) r.raftLog.stableSnapTo(rd.snapshot.metadata.index);
    const newApplied =
      rd.committedEntries.length > 0 ? rd.committedEntries[rd.committedEntries.length - 1]!.index : (rd.snapshot?.metadata.index ?? 0);
    if (newApplied > 0) r.appliedTo(newApplied);
    if (rd.entries.length > 0 && r.state === StateType.Leader) {
      // Everything below the unstable offset is now durable on this node.
      r.selfAck(r.raftLog.stableLastIndex());
    }
  }

  /**
   * advance() for a Ready whose entries (and hard state) the host is still writing: they are not
   * handed out again and stay unstable — the leader does not count itself for them — until the
   * host calls appendPersisted(). Everything else (applied cursor, messages, read states) advances,
   * so the host can take the next Ready meanwhile: follower acks commit entries while the leader's
   * own write is in flight, like etcd-raft's AsyncStorageWrites / raft-rs's advance_append_async.
   * The host must write Readies' entries in order and call appendPersisted in that order.
   */
  advanceAsync(): void {
    if (this.outstanding?.snapshot) throw new RaftPanic('advanceAsync() with a snapshot: persist it synchronously');
    const rd = this.takeOutstanding('advanceAsync');
    const r = this.raft;
    if (rd.committedEntries.length > 0) r.appliedTo(rd.committedEntries[rd.committedEntries.length - 1]!.index);
    if (rd.entries.length > 0) {
      const e = rd.entries[rd.entries.length - 1]!;
      r.raftLog.unstable.acceptInProgress(e.index, e.term);
    }
  }

  /**
   * The host's asynchronous write of a Ready's entries up to (index, term) is durable: they become
   * stable and a leader acknowledges them for itself. Ignored for entries replaced meanwhile.
   */
  appendPersisted(index: number, term: number): void {
    const r = this.raft;
    r.raftLog.stableTo(index, term);
    if (r.state === StateType.Leader) r.selfAck(r.raftLog.stableLastIndex());
  }

  /** The outstanding Ready, handed back: no apply in progress, its committed entries no longer uncommitted. */
  private takeOutstanding(caller: string): Ready {
    const rd = this.outstanding;
    if (!rd) throw new RaftPanic(`${caller}() without ready()`);
    this.outstanding = undefined;
    const r = this.raft;
    r.applyingIndex = 0;
    if (rd.committedEntries.length > 0) {
      let size = 0;
      for (const e of rd.committedEntries) size += e.data.length;
      r.reduceUncommittedSize(size);
    }
    return rd;
  }

  status(): Status {
    const r = this.raft;
    const s: Status = {
      id: r.id,
      groupId: r.groupId,
      term: r.term,
      vote: r.vote,
      commit: r.raftLog.committed,
      applied: r.raftLog.applied,
      lead: r.lead,
      raftState: r.state,
      leadTransferee: r.leadTransferee,
      firstIndex: r.raftLog.firstIndex(),
      lastIndex: r.raftLog.lastIndex(),
      config: r.trk.confState(),
      progress: [],
    };
    if (r.state === StateType.Leader) {
      r.trk.visit((id, pr) => {
        s.progress.push({
          id,
          match: pr.match,
          next: pr.next,
          state: pr.state,
          paused: pr.isPaused(),
          pendingSnapshot: pr.pendingSnapshot,
          recentActive: pr.recentActive,
          isLearner: pr.isLearner,
          inflight: pr.inflights.count(),
        });
      });
    }
    return s;
  }

  /** Convenience: the leader id this node believes in (NONE = 0 if unknown). */
  leader(): number {
    return this.raft.lead;
  }
}

/** Helper for hosts: empty ConfChange that leaves a joint config explicitly. */
export const LEAVE_JOINT: ConfChange = { transition: 0, changes: [], context: EMPTY };
