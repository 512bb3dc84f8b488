// One Raft group replica on this node: a RawNode plus its Ready loop (docs/raft.md host contract),
// the proposal table, batched ReadIndex, snapshots and log compaction. It is also the LocalStore's
// CommandSink: writes/transactions become proposals that resolve once applied here.
//
// Ready loop (one at a time, serial; everything that arrives meanwhile lands in the next Ready):
//   1. leader: MsgApp/MsgSnap/MsgHeartbeat are sent right away when the Ready keeps term and vote
//      (the leader appends to its disk in parallel with replication; its self-ack waits for advance);
//      any node sends everything right away when the Ready needs no sync (nothing it says depends on
//      an unsynced write: a commit-only hard state is never a promise);
//   2. persist: snapshot (if any: the apply stage is drained first; metadata + marker, then the state
//      import), entries + hard state in ONE engine batch, synced when mustSync (group commit). A
//      commit-only hard state is not written on its own: it rides in the next log write (restart
//      raises a stale commit to the applied index, which only ever covers committed entries);
//   3. send the remaining messages;
//   4. hand committed entries to the APPLY STAGE (a FIFO worker: StateMachine.apply, resolve the
//      proposals as soon as their results are computed, then the unsynced engine write, then the
//      applied index / read states), and go on with the next Ready without waiting: applying batch N
//      overlaps persisting batch N+1 (etcd's applier, TiKV's apply pool). A Ready carrying a conf
//      change waits for the stage to drain and applies synchronously before advance (raft must see the
//      new config before anything else, as etcd's waitApply); so do snapshots (generate / install);
//   5. advance; then maybe compact the log / generate a snapshot that raft asked for.
import type { Logger } from '../common/logger.js';
import type { Engine, EngineEntry, EngineOp } from '../engine/engine.js';
import type { CommandSink } from '../kv/commit-pipeline.js';
import { decodeCommand, encodeCommand, type Command, type CommandResult } from '../kv/commands.js';
import { NotLeaderError, OutcomeUnknownError, PreconditionFailedError, StoreClosedError, StorageError } from '../kv/errors.js';
import { importState, exportState } from '../kv/snapshot.js';
import { StateMachine } from '../kv/state-machine.js';
import { CommandTooLargeError } from '../kv/command-size.js';
import {
  type ConfChange,
  type ConfState,
  type Entry,
  type HardState,
  type Message,
  type ReadState,
  type Ready,
  type Status,
  ConfChangeRefusedError,
  ConfChangeType,
  EntryType,
  MessageType,
  ProgressState,
  ProposalDroppedError,
  RawNode,
  SnapshotStatus,
  StateType,
  decodeConfChange,
  encodeConfChange,
  msg,
} from '../raft/index.js';
import { RaftMetrics, since } from './metrics.js';
import { type IdentityRegistry, decodeIdentityEntry, encodeIdentityEntry, isIdentityEntry } from './identity.js';
import { PeerStorage } from './peer-storage.js';
import { SPLIT_INIT_INDEX } from '../kv/state-machine.js';
import { decodeDescriptor, type RangeDescriptor, type ReplicaDescriptor } from '../meta/range-descriptor.js';
import { metaKey, metaSpace, sessionSpace } from '../mvcc/keyspace.js';
import { readModeConfig, type LeaseTuning } from './read-lease.js';
import type { LogWriter } from './log-writer.js';
import { decodePromiseMarker, encodePromiseMarker } from './ts-promise-wire.js';
import { QUIESCE_IDLE_TICKS, decodeQuiesceMarker, encodeQuiesceMarker, followerMayQuiesce, leaderLivenessWake, leaderQuiesceBlocker } from './quiesce.js';
import type { RaftTransport, SnapshotSource } from './transport.js';
import { bufferView } from '../common/buffer-view.js';

export interface PeerConfig {
  groupId: number;
  raftId: number;
  engine: Engine;
  storage: PeerStorage;
  transport: RaftTransport;
  logger: Logger;
  /** ticks (default electionTick 10, heartbeatTick 1) */
  electionTick?: number;
  heartbeatTick?: number;
  /** Serve reads from the leader's lease (default; read-lease.ts) — false: a ReadIndex heartbeat round per batch. */
  leaseRead?: boolean;
  lease?: LeaseTuning;
  /** Compact the log when more than this many entries are applied beyond its start (default 10 000). */
  compactThreshold?: number;
  /** Entries kept behind the applied index when compacting (default 1 000). */
  compactKeep?: number;
  /** A pending proposal fails (retryable, outcome unknown) after this long (default 10 s). */
  proposalTimeoutMs?: number;
  /** How long one ReadIndex attempt waits before asking again (default 2 s; a read retries until readTimeoutMs). */
  readAttemptMs?: number;
  readTimeoutMs?: number;
  /**
   * Largest encoded command an entry may carry (common/raft-limits.ts). The store refuses big batches and
   * transactions earlier with the field at fault; this refuses any other command that would not reach
   * the followers (it would be retransmitted forever and stall the group). Undefined = unbounded.
   */
  maxCommandBytes?: number;
  /** TEST ONLY: see StateMachineOptions.unsafeSnapshotIsolation (used when the state machine is reopened). */
  unsafeSnapshotIsolation?: boolean;
  /**
   * Called once a split of this range is applied and written (both halves' state is in the engine,
   * including the right half's Raft state): the host starts the right half's peer.
   */
  onSplit?: (left: RangeDescriptor, right: RangeDescriptor) => void;
  /**
   * TEST ONLY (KVS_TEST_CRASH_AT_SPLIT): the process dies at this point of applying a split — before its
   * apply batch is written, or after it and before the right half's replica opens. The crash tests of
   * issue 12 restart the store and check it recovers either way.
   */
  testCrashAtSplit?: { at: 'before-apply' | 'after-apply'; crash: () => void };
  /**
   * TEST ONLY (negative control of timestamp promises): a new term's first entry does not lift the
   * range's timestamps to its ceiling, so a new leader may write below what the old one promised.
   */
  unsafeNoTermFloor?: boolean;
  /**
   * Whether a split's right half may be created from the split (its local state written in this apply
   * batch): false when the store already holds a replica of it (created on demand, waiting for a
   * snapshot) — then that replica's state must not be overwritten.
   */
  canCreateSplit?: (rangeId: number) => boolean;
  /**
   * A snapshot about to be installed covers `span`: false refuses it (it would overlap another local
   * range that has not split yet; the sender retries later).
   */
  admitSnapshotSpan?: (span: { start: Buffer; end: Buffer }) => boolean;
  /** After a snapshot was installed (the range's descriptor may have changed). */
  onSnapshotInstalled?: () => void;
  /** This store's replica was removed from the range (applied conf change): the host destroys it. */
  onRemoved?: () => void;
  /** A message came from a peer that this replica's configuration does not hold (a removed replica). */
  onNonMember?: (from: number) => void;
  /** The store's group-commit writer of Raft log writes and apply batches (log-writer.ts); default: this peer writes alone. */
  logWriter?: LogWriter;
  /**
   * A leader takes its next Ready while its own log write is in flight (needs `logWriter`, whose FIFO
   * keeps every later write behind it): follower acks commit without waiting for the leader's fsync.
   */
  asyncAppend?: boolean;
  /** Hibernate when idle (quiesce.ts); the host must then drive ticks and store liveness. Default off. */
  quiesce?: boolean;
  /** Store liveness of a member (store id = raft id); members of dead stores do not keep a leader awake. */
  isStoreLive?: (id: number) => boolean;
  /**
   * The replica went to sleep (`awake` false) or woke (`reason` says why: wake-reason counters, and the
   * store's set of awake replicas, the only ones its tick pass visits).
   */
  onAwakeChange?: (awake: boolean, reason?: WakeReason) => void;
}

/** Why a quiesced replica woke (kvs_store_wakes_by_reason). */
export type WakeReason = 'message' | 'proposal' | 'gc' | 'read' | 'conf-change' | 'transfer' | 'campaign' | 'leader-down' | 'liveness' | 'admin';

/** Key prefixes of a group's local state (meta, sessions) in the engine. */
function localKeysOf(groupId: number): Buffer[] {
  return [metaSpace(groupId).start, sessionSpace(groupId).start];
}

/** The replica list of a range as its applied configuration says (peer id = store raft id at this stage). */
export function replicasOf(cs: ConfState): ReplicaDescriptor[] {
  const voters = [...new Set([...cs.voters, ...cs.votersOutgoing])].sort((a, b) => a - b);
  const learners = [...new Set([...cs.learners, ...cs.learnersNext])].filter((id) => !voters.includes(id)).sort((a, b) => a - b);
  return [...voters.map((id) => ({ storeId: id, peerId: id, role: 'voter' as const })), ...learners.map((id) => ({ storeId: id, peerId: id, role: 'learner' as const }))];
}

interface PendingProposal {
  resolve: (r: CommandResult) => void;
  reject: (e: Error) => void;
  term: number;
  timer: NodeJS.Timeout;
  /** performance.now() at submit (stage latencies). */
  t0: number;
}

interface ReadBatch {
  ctx: Uint8Array;
  key: string;
  waiters: Array<{ resolve: () => void; reject: (e: Error) => void }>;
  /** Read index once the ReadState came back. */
  index?: number;
  timer?: NodeJS.Timeout;
  /** performance.now(): first waiter joined, ReadIndex issued, read state received. */
  t0: number;
  tIssued?: number;
  tState?: number;
}

interface Exclusive {
  fn: () => Promise<unknown>;
  resolve: (v: unknown) => void;
  reject: (e: Error) => void;
}

/** Proposal payload: magic 0x4b, version 1, proposer raft id (u32), proposal seq (u64), command bytes. */
const PROPOSAL_MAGIC = 0x4b;
const HEADER_LEN = 14;

export function encodeProposal(id: string, cmd: Command): Uint8Array {
  // The command is encoded behind room for the header: no second buffer, no copy.
  const out = encodeCommand(cmd, HEADER_LEN);
  out[0] = PROPOSAL_MAGIC;
  out[1] = 1;
  const colon = id.indexOf(':');
  out.writeUInt32BE(Number(id.slice(0, colon)), 2);
  // The seq as two u32 halves (a safe integer): the same bytes as a u64, without a BigInt per proposal.
  const seq = Number(id.slice(colon + 1));
  out.writeUInt32BE(Math.floor(seq / 0x1_0000_0000), 6);
  out.writeUInt32BE(seq % 0x1_0000_0000, 10);
  return out;
}

/** `proposer:seq` from a proposal header (the u64 seq read as two u32 halves: no BigInt). */
function headerId(b: Buffer): string {
  return `${b.readUInt32BE(2)}:${b.readUInt32BE(6) * 0x1_0000_0000 + b.readUInt32BE(10)}`;
}

/** The proposal id of an entry payload without decoding the command (undefined: not a kvs proposal). */
export function proposalId(data: Uint8Array): string | undefined {
  if (data.length < HEADER_LEN || data[0] !== PROPOSAL_MAGIC || data[1] !== 1) return undefined;
  const b = bufferView(data);
  return headerId(b);
}

function opsBytes(ops: readonly EngineOp[]): number {
  let n = 0;
  for (const op of ops) n += op.key.length + (op.type === 'put' ? op.value.length : 0);
  return n;
}

function entriesBytes(entries: readonly Entry[]): number {
  let n = 0;
  for (const e of entries) n += e.data.length;
  return n;
}

export function decodeProposal(data: Uint8Array): { id: string; cmd: Command } {
  const b = bufferView(data);
  if (b.length < HEADER_LEN || b[0] !== PROPOSAL_MAGIC || b[1] !== 1) throw new Error('not a kvs proposal');
  const id = headerId(b);
  return { id, cmd: decodeCommand(b.subarray(HEADER_LEN)) };
}

/** Conf change context: the new member's raft address (address book entry, replicated). */
export function encodeConfContext(address: string | undefined): Uint8Array {
  return Buffer.from(JSON.stringify(address ? { address } : {}));
}

function confContextAddress(ctx: Uint8Array): string | undefined {
  if (ctx.length === 0) return undefined;
  try {
    return (JSON.parse(Buffer.from(ctx).toString('utf8')) as { address?: string }).address;
  } catch {
    return undefined;
  }
}

export class Peer implements CommandSink {
  readonly groupId: number;
  readonly raftId: number;
  rn!: RawNode;
  sm!: StateMachine;
  private onApplied: (lastTs: number) => void = () => undefined;
  private replaceSm: (sm: StateMachine | null) => void = () => undefined;
  private readonly log: Logger;
  private readonly storage: PeerStorage;
  private readonly engine: Engine;
  private readonly transport: RaftTransport;
  private readonly pending = new Map<string, PendingProposal>();
  private readonly exclusive: Exclusive[] = [];
  private readonly readBatches = new Map<string, ReadBatch>();
  /** Reads collected during this turn; one ReadIndex for all of them. */
  private openRead: ReadBatch | undefined;
  /** Reads waiting for applied ≥ index. */
  private readonly waitingReads: ReadBatch[] = [];
  private readonly stagedSnapshots = new Map<number, EngineEntry[]>();
  private proposalSeq: bigint;
  private readSeq = 0;
  private running = false;
  private scheduled = false;
  private closed = false;
  private failed: Error | undefined;
  /** Hibernating: the store does not tick this replica until traffic, a fault or admin work wakes it (quiesce.ts). */
  private quiescedFlag = false;
  /** Consecutive ticks a leader found its range idle. */
  private idleTicks = 0;
  private idleWaiters: Array<() => void> = [];
  private lastTerm = 0;
  private leaderId = 0;
  private role: StateType = StateType.Follower;
  appliedIndex = 0;
  /** Listeners for applied-index / role changes (admin waits). */
  private readonly appliedWaiters: Array<{ index: number; resolve: () => void }> = [];
  private readonly roleListeners = new Set<() => void>();
  private compacting = false;
  /** Identity records this leader proposed and has not seen applied yet: raft id → when (ms). */
  private readonly identityProposed = new Map<number, number>();
  /** Committed entries handed to the apply stage, oldest first; the worker merges what is queued. */
  private readonly applyQueue: Entry[][] = [];
  private applyWorker: Promise<void> | undefined;
  /** Log writes of this leader's Readies still in flight (asyncAppend), and who waits for none. */
  private appendsInFlight = 0;
  private appendWaiters: Array<() => void> = [];
  /** The latest hard state has a commit not yet on disk (rides in the next log write). */
  private commitDirty = false;
  /** Between ready() and the end of handleReady (see midReadyFlush). */
  private inReady = false;
  private midFlushScheduled = false;
  /** Stage latency histograms (attached to the node's registry by registerRaftMetrics). */
  readonly metrics: RaftMetrics;
  stats = { quiesced: 0, wakes: 0, midReadySends: 0, floorNoops: 0, readies: 0, syncedWrites: 0, proposals: 0, applied: 0, readIndexRounds: 0, reads: 0, snapshotsInstalled: 0, snapshotsGenerated: 0 };

  constructor(private readonly cfg: PeerConfig) {
    this.groupId = cfg.groupId;
    this.raftId = cfg.raftId;
    this.log = cfg.logger.child({ component: 'raft', group: cfg.groupId, raftId: cfg.raftId });
    this.storage = cfg.storage;
    this.engine = cfg.engine;
    this.transport = cfg.transport;
    this.metrics = new RaftMetrics(cfg.groupId);
    // Unique across restarts: wall-clock microseconds as the starting sequence.
    this.proposalSeq = BigInt(Date.now()) * 1000n;
  }

  /**
   * Wires the state machine (called from LocalStore's commandSink factory) and starts Raft. The store ticks
   * it every `tickMs` (RaftNode: one timer for all its replicas) while it is not quiesced.
   */
  start(sm: StateMachine, onApplied: (lastTs: number) => void, replaceSm: (sm: StateMachine | null) => void, tickMs = 100): void {
    this.sm = sm;
    this.onApplied = onApplied;
    this.replaceSm = replaceSm;
    this.adoptReplicas();
    // An empty storage after a crash in the middle of a snapshot install (peer-storage.ts: the marker)
    // holds a partial state whose applied index means nothing: start from 0 and wait for the leader's
    // next snapshot, which replaces the state (a snapshot it must be: every log starts after the
    // bootstrap snapshot at index 1, so no leader can append to an empty log). Raft would refuse an
    // applied index above its empty log.
    const applied = this.storage.empty ? 0 : Math.max(sm.appliedIndex, this.storage.firstIndex() - 1);
    this.appliedIndex = applied;
    // The commit index is written lazily (with the next log write), the applied index with the data:
    // after a crash the state may be ahead of the stored commit. Applied entries were committed.
    this.storage.raiseCommit(applied);
    this.rn = new RawNode({
      id: this.raftId,
      groupId: this.groupId,
      electionTick: this.cfg.electionTick ?? 10,
      heartbeatTick: this.cfg.heartbeatTick ?? 1,
      storage: this.storage,
      applied,
      maxSizePerMsg: 1 << 20,
      maxInflightMsgs: 256,
      checkQuorum: true,
      preVote: true,
      // A commit rides on the next append instead of a message of its own (raft.ts). It was off for a
      // while: jepsen's bank seed 68 saw members' final audits differ with it on — a read-only
      // transaction's snapshot could trail acknowledged writes (fixed since: TxnManager.certainRead,
      // and the bank's freshness check); its later timing only exposed that more often.
      lazyCommitBroadcast: true,
      // A follower sent an append since the last heartbeat tick gets no heartbeat (raft.ts): with many
      // ranges under load the heartbeats were a third of the Raft messages and a quarter of the Readies.
      skipHeartbeatsAfterAppends: true,
      ...readModeConfig(this.cfg.leaseRead, tickMs, this.cfg.lease),
      rand: Math.random,
      logger: {
        debug: () => undefined,
        info: (msg: string) => this.log.debug(msg),
        warn: (msg: string) => this.log.warn(msg),
      },
    } as ConstructorParameters<typeof RawNode>[0]);
    this.lastTerm = this.rn.raft.term;
    this.log.info('raft peer started', { applied, firstIndex: this.storage.firstIndex(), lastIndex: this.storage.lastIndex(), term: this.lastTerm, config: this.storage.confState });
    // A single voter elects itself right away.
    const cs = this.storage.confState;
    if (cs.voters.length === 1 && cs.voters[0] === this.raftId && cs.votersOutgoing.length === 0) this.rn.campaign();
    this.schedule();
  }

  /**
   * A range that never stored a descriptor (bootstrapped before sharding, or a fresh cluster before its
   * first replica change) takes its replicas from the applied configuration — replicated state at this
   * log position, so every replica derives the same list (a split needs it).
   */
  private adoptReplicas(): void {
    if (!this.sm.descriptorStored && this.storage.confState.voters.length > 0) {
      this.sm.setDescriptor({ ...this.sm.descriptor, replicas: replicasOf(this.storage.confState) });
    }
  }

  /** One tick of the store's timer (skipped while quiesced); an idle leader may quiesce here. */
  tick(): void {
    if (this.closed || this.failed || this.rn === undefined || this.quiescedFlag) return;
    this.rn.tick();
    if (this.cfg.quiesce === true) this.maybeQuiesce();
    this.schedule();
  }

  get quiesced(): boolean {
    return this.quiescedFlag;
  }

  /** Proposals, reads or exclusive tasks waiting here: they need this group's timers (retries, timeouts). */
  private clientWorkPending(): boolean {
    return this.pending.size > 0 || this.readBatches.size > 0 || this.openRead !== undefined || this.exclusive.length > 0;
  }

  /** A leader also keeps ticking while it applies, snapshots, runs its loop or awaits an identity record. */
  private hostBusy(): boolean {
    return this.clientWorkPending() || this.applyQueueLength > 0 || this.storage.snapshotRequested || this.running || this.identityProposed.size > 0;
  }

  private maybeQuiesce(): void {
    const r = this.rn.raft;
    if (r.state !== StateType.Leader) {
      this.idleTicks = 0;
      return;
    }
    const cs = r.trk.confState();
    const progress = new Map<number, { match: number; replicating: boolean }>();
    r.trk.visit((id, pr) => {
      if (id !== this.raftId) progress.set(id, { match: pr.match, replicating: pr.state === ProgressState.Replicate });
    });
    const blocker = leaderQuiesceBlocker({
      self: this.raftId,
      lastIndex: r.raftLog.lastIndex(),
      committed: r.raftLog.committed,
      applied: this.appliedIndex,
      hostBusy: this.hostBusy(),
      raftBusy: r.raftLog.unstable.entries.length > 0 || r.leadTransferee !== 0 || cs.votersOutgoing.length > 0 || r.pendingConfIndex > this.appliedIndex,
      voters: cs.voters,
      learners: cs.learners,
      progress,
      live: (id) => this.cfg.isStoreLive?.(id) ?? true,
    });
    if (blocker !== undefined) {
      this.idleTicks = 0;
      return;
    }
    if (++this.idleTicks < QUIESCE_IDLE_TICKS) return;
    if (!r.quiesceHeartbeat(encodeQuiesceMarker(r.raftLog.lastIndex()))) return;
    this.quiescedFlag = true;
    this.stats.quiesced++;
    this.cfg.onAwakeChange?.(false);
  }

  /** A quiesce heartbeat was stepped: a caught-up follower with nothing pending stops ticking too. */
  private maybeFollowQuiesce(m: Message, leaderLastIndex: number): void {
    const r = this.rn.raft;
    const ok = followerMayQuiesce({
      isFollower: r.state === StateType.Follower,
      fromLeader: r.lead === m.from && r.term === m.term,
      lastIndex: r.raftLog.lastIndex(),
      committed: r.raftLog.committed,
      leaderLastIndex,
      hostBusy: this.clientWorkPending(),
    });
    if (ok && !this.quiescedFlag) {
      this.quiescedFlag = true;
      this.stats.quiesced++;
      this.cfg.onAwakeChange?.(false);
    }
  }

  /** Resumes ticking (traffic, admin work, a store liveness change). */
  wake(reason: WakeReason = 'admin'): void {
    if (!this.quiescedFlag || this.closed || this.failed) return;
    this.quiescedFlag = false;
    this.idleTicks = 0;
    this.stats.wakes++;
    this.cfg.onAwakeChange?.(true, reason);
    this.rn.raft.unquiesce();
    this.schedule();
  }

  /**
   * A store liveness change while this quiesced leader sleeps: wakes it only when it has something to do
   * (quiesce.ts leaderLivenessWake); returns the reason, or undefined when it sleeps on.
   */
  wakeLeaderOnLiveness(change: { down: readonly number[]; up: readonly number[]; restarted: readonly number[] }): string | undefined {
    if (!this.quiescedFlag || this.closed || this.failed || this.rn === undefined) return undefined;
    const r = this.rn.raft;
    if (r.state !== StateType.Leader) return undefined;
    const cs = r.trk.confState();
    const progress = new Map<number, { match: number; replicating: boolean }>();
    r.trk.visit((id, pr) => {
      if (id !== this.raftId) progress.set(id, { match: pr.match, replicating: pr.state === ProgressState.Replicate });
    });
    const why = leaderLivenessWake({
      self: this.raftId,
      lastIndex: r.raftLog.lastIndex(),
      voters: cs.voters,
      votersOutgoing: cs.votersOutgoing,
      learners: cs.learners,
      progress,
      ...change,
      live: (id) => this.cfg.isStoreLive?.(id) ?? true,
    });
    if (why !== undefined) this.wake('liveness');
    return why;
  }

  /** The store of this replica's leader went silent: wake, and stop deferring to that leader. */
  wakeLeaderDown(): void {
    if (!this.quiescedFlag) return;
    this.wake('leader-down');
    this.rn.raft.forgetLeader();
    this.schedule();
  }

  /** Starts an election now (the new range of a split, on the parent leader's store). */
  campaign(): void {
    if (this.closed || this.failed) return;
    this.wake('campaign');
    this.rn.campaign();
    this.schedule();
  }

  /** The range this peer serves. */
  get descriptor(): Readonly<RangeDescriptor> {
    return this.sm.descriptor;
  }

  // ---------------- status ----------------

  status(): Status {
    return this.rn.status();
  }
  get leader(): number {
    return this.leaderId;
  }
  get isLeader(): boolean {
    return this.role === StateType.Leader;
  }
  /** The current Raft term (0 before start). */
  get term(): number {
    return this.rn === undefined ? 0 : this.rn.raft.term;
  }
  leaderClientAddress(): string | undefined {
    return this.leaderId ? this.transport.clientAddressOf(this.leaderId) : undefined;
  }
  addresses(): Map<number, string> {
    return this.storage.addresses;
  }
  /**
   * Readiness (/readyz): a member of its group's configuration that knows a current leader (or leads),
   * not failed or closed. A joining node (empty configuration until its first snapshot), a node cut off
   * from the leader (its election timeout passed: pre-candidate, no leader) or a group without a
   * quorum answers with a fixed code and a reason.
   */
  readiness(): true | { code: 'RAFT_FAILED' | 'RAFT_CLOSED' | 'RAFT_NOT_STARTED' | 'RAFT_IDENTITY_REFUSED' | 'RAFT_NOT_MEMBER' | 'RAFT_NO_LEADER'; reason: string } {
    if (this.failed !== undefined) return { code: 'RAFT_FAILED', reason: `raft group ${this.groupId} failed: ${this.failed.message}` };
    if (this.closed) return { code: 'RAFT_CLOSED', reason: `raft group ${this.groupId} is closed` };
    if (this.rn === undefined) return { code: 'RAFT_NOT_STARTED', reason: `raft group ${this.groupId} is not started` };
    // Before membership: a wiped node still believes it is a voter (its bootstrap config says so).
    const refused = this.identity.selfRefused;
    if (refused !== undefined) {
      return {
        code: 'RAFT_IDENTITY_REFUSED',
        reason: `raft id ${this.raftId} is refused by the group (peer ${refused.by}: ${refused.reason}); this data dir is not the one the group knows for this id: replace the member with a new raft id (--join)`,
      };
    }
    const cs = this.rn.raft.trk.confState();
    const id = this.raftId;
    if (!cs.voters.includes(id) && !cs.learners.includes(id) && !cs.votersOutgoing.includes(id) && !cs.learnersNext.includes(id)) {
      return { code: 'RAFT_NOT_MEMBER', reason: `raft id ${id} is not a member of group ${this.groupId} (voters [${cs.voters.join(',')}], learners [${cs.learners.join(',')}])` };
    }
    const lead = this.rn.raft.lead;
    if (lead === 0) return { code: 'RAFT_NO_LEADER', reason: `no known leader of group ${this.groupId} (term ${this.rn.raft.term}, ${StateType[this.rn.raft.state]})` };
    return true;
  }

  /** "Not proposed": the command never reached the log (certainly not applied). */
  notLeader(message?: string): NotLeaderError {
    return new NotLeaderError(this.leaderId, this.leaderClientAddress(), message);
  }

  /** A proposal that may be in the log but whose result this node will not learn. */
  private outcomeUnknown(why: string): OutcomeUnknownError {
    return new OutcomeUnknownError(this.leaderId, this.leaderClientAddress(), `${why} (outcome unknown); retry with the same session`);
  }

  // ---------------- identity (raftstore/identity.ts) ----------------

  get identity(): IdentityRegistry {
    return this.storage.identity;
  }

  /**
   * An admitted frame from `from` carried `incarnation`. The leader makes the group remember the first
   * incarnation of every raft id it hears (an identity entry; first writer wins when applied), so every
   * member, including ones that never talked to `from`, can refuse a wiped data dir under that id later.
   */
  noteIncarnation(from: number, incarnation: string): void {
    if (this.closed || this.failed || this.rn === undefined || this.role !== StateType.Leader) return;
    if (this.identity.recorded.has(from)) return;
    const at = this.identityProposed.get(from);
    const now = Date.now();
    // A proposal can be lost with a leadership change or a truncated log: ask again after a while.
    if (at !== undefined && now - at < 3000) return;
    try {
      this.rn.propose(encodeIdentityEntry({ raftId: from, incarnation }));
    } catch (e) {
      if (e instanceof ProposalDroppedError) return;
      throw e;
    }
    this.identityProposed.set(from, now);
    this.schedule();
  }

  /** Once refused, this node never helps an election: nobody may count a vote from a wiped data dir. */
  private muteIfRefused(msgs: Message[]): Message[] {
    if (this.identity.selfRefused === undefined) return msgs;
    return msgs.filter((m) => m.type !== MessageType.Vote && m.type !== MessageType.VoteResp && m.type !== MessageType.PreVote && m.type !== MessageType.PreVoteResp);
  }

  // ---------------- network input ----------------

  step(msg: Message): void {
    if (this.closed || this.failed) return;
    let m = msg;
    const quiesceAt = m.type === MessageType.Heartbeat ? decodeQuiesceMarker(m.context) : undefined;
    // The marker is ours, not raft's: raft would echo it as a read-index context.
    if (quiesceAt !== undefined) m = { ...m, context: new Uint8Array(0) };
    // Heartbeat answers to a quiesced leader (its own last round) leave it asleep; anything else wakes.
    else if (this.quiescedFlag && m.type !== MessageType.HeartbeatResp) this.wake('message');
    if (m.type === MessageType.Prop) this.coverFloor();
    if (m.type === MessageType.ReadIndex || m.type === MessageType.ReadIndexResp) {
      const req = decodePromiseMarker(m.context);
      if (req !== undefined) {
        this.onPromiseMessage(m, req);
        return;
      }
    }
    if (!this.rn.raft.trk.progress.has(m.from)) this.cfg.onNonMember?.(m.from);
    try {
      this.rn.step(m);
    } catch (e) {
      this.log.debug('step failed', { type: MessageType[m.type], from: m.from, err: (e as Error).message });
    }
    if (quiesceAt !== undefined && this.cfg.quiesce === true) this.maybeFollowQuiesce(m, quiesceAt);
    this.schedule();
    this.scheduleMidReadyFlush();
  }

  /** A complete snapshot transfer: stage its state, then hand the MsgSnap to raft. */
  async receiveSnapshot(m: Message, entries: EngineEntry[]): Promise<void> {
    if (this.closed || this.failed) throw new Error('peer closed');
    const index = m.snapshot?.metadata.index ?? 0;
    const descKey = metaKey(this.groupId, 'descriptor');
    const desc = entries.find(([k]) => k.equals(descKey));
    if (desc !== undefined && this.cfg.admitSnapshotSpan !== undefined) {
      const d = decodeDescriptor(Buffer.from(desc[1]));
      if (!this.cfg.admitSnapshotSpan({ start: d.start, end: d.end })) throw new Error(`snapshot of range ${d.rangeId} overlaps a local range that has not split yet; retry later`);
    }
    this.stagedSnapshots.clear(); // only the newest matters
    this.stagedSnapshots.set(index, entries);
    this.step(m);
    // Raft ignores a stale snapshot, or one whose config lacks this node: tell the sender (it then
    // reports Failure and retries later instead of believing the follower caught up).
    if (this.rn.raft.raftLog.unstable.snapshot?.metadata.index !== index) {
      this.stagedSnapshots.delete(index);
      throw new Error(`snapshot ${index} not accepted by raft (stale, or this node is not in its configuration)`);
    }
  }

  reportUnreachable(to: number): void {
    if (this.closed || this.failed) return;
    this.rn.reportUnreachable(to);
    this.schedule();
  }

  // ---------------- timestamp promises ----------------

  /** The highest snapshot ts this replica promised as leader (in memory: a new term floors at the ceiling). */
  private tsFloor = 0;
  /** An entry above tsFloor is already in the log after every promise up to this. */
  private floorCovered = 0;

  /** A follower's promise requests waiting for the leader's answer: seq → waiter. */
  private readonly promiseWaiters = new Map<number, (answer: { index: number } | undefined) => void>();
  private promiseSeq = 0;

  /**
   * Promises that no version at or below `ts` will be written here after the returned promise resolves
   * true, without a Raft round: what a snapshot read above the applied ts needs (the max-ts rule). False
   * or undefined: not promised (no leader known, or it could not); the caller then proposes a noop at
   * ts. The caller has checked ts ≤ this replica's applied ceiling.
   *
   * Why it holds, on the leader (leaderPromise): entries it appends from now on carry a version above ts
   * (submit stamps its own proposals; a forwarded one gets a noop at ts before it, coverFloor), and the
   * entries already in its log are applied here before this resolves. Every later term's first entry
   * lifts the range's timestamps to the ceiling, which is at least ts — also when this leader was
   * already deposed without knowing it (committed entries, the ceiling's among them, are in every later
   * leader's log before its first entry). A follower asks the leader (a marked ReadIndex message, no
   * Raft round) and waits until it has applied the leader's last index at the time of the promise.
   */
  promiseTs(ts: number): Promise<boolean> | undefined {
    if (this.closed || this.failed) return undefined;
    if (this.rn.raft.state === StateType.Leader) {
      const last = this.leaderPromise(ts);
      return last === undefined ? undefined : this.appliedThrough(last);
    }
    const lead = this.rn.raft.lead;
    if (lead === 0 || lead === this.raftId) return undefined;
    const seq = ++this.promiseSeq;
    const context = encodePromiseMarker({ ts, seq });
    return new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => this.promiseWaiters.get(seq)?.(undefined), this.cfg.readAttemptMs ?? 2_000);
      timer.unref();
      this.promiseWaiters.set(seq, (answer) => {
        clearTimeout(timer);
        this.promiseWaiters.delete(seq);
        if (answer === undefined) resolve(false);
        else this.appliedThrough(answer.index).then(resolve, () => resolve(false));
      });
      this.sendMessages([msg({ groupId: this.groupId, type: MessageType.ReadIndex, from: this.raftId, to: lead, term: this.rn.raft.term, context })]);
    });
  }

  /** The leader's side: records the promise; its last index then, or undefined if it cannot promise. */
  private leaderPromise(ts: number): number | undefined {
    if (this.closed || this.failed || this.rn.raft.state !== StateType.Leader) return undefined;
    const log = this.rn.raft.raftLog;
    // Its term's first entry applied: every earlier leader's entries are applied here, floored or not.
    let appliedTerm: number;
    try {
      appliedTerm = log.term(this.appliedIndex);
    } catch {
      return undefined;
    }
    if (appliedTerm !== this.rn.raft.term) return undefined;
    if (ts > this.tsFloor) this.tsFloor = ts;
    return log.lastIndex();
  }

  private appliedThrough(index: number): Promise<boolean> {
    if (this.appliedIndex >= index) return Promise.resolve(true);
    return this.waitApplied(index, this.cfg.readTimeoutMs ?? 10_000).then(
      () => true,
      () => {
        throw this.notLeader('timed out applying the log before a snapshot read; retry');
      },
    );
  }

  /** A promise request or answer (ts-promise-wire.ts): handled here, never stepped into raft. */
  private onPromiseMessage(m: Message, req: { ts: number; seq: number }): void {
    if (m.type === MessageType.ReadIndexResp) {
      this.promiseWaiters.get(req.seq)?.(m.reject ? undefined : { index: m.index });
      return;
    }
    const last = this.leaderPromise(req.ts);
    this.sendMessages([msg({ groupId: this.groupId, type: MessageType.ReadIndexResp, from: this.raftId, to: m.from, term: this.rn.raft.term, index: last ?? 0, reject: last === undefined, context: m.context })]);
    if (last !== undefined) {
      // The follower answers its read once it applied `last`: with the lazy commit broadcast it would
      // learn that commit only from the next append or heartbeat (up to a tick; the reads of a
      // transaction on a store that leads none of its ranges waited ~30 ms at p90).
      this.rn.raft.commitPromptlyTo(m.from, last);
      this.schedule();
    }
  }

  /** A proposal forwarded to this leader is appended after a noop above every promise it made. */
  private coverFloor(): void {
    if (this.tsFloor <= this.floorCovered || this.rn.raft.state !== StateType.Leader) return;
    const id = `${this.raftId}:${++this.proposalSeq}`;
    try {
      this.rn.propose(encodeProposal(id, { type: 'noop', proposedTs: this.tsFloor }));
      this.floorCovered = this.tsFloor;
      this.stats.floorNoops++;
    } catch {
      // Dropped (a leadership transfer): so is the forwarded proposal after it.
    }
  }

  // ---------------- CommandSink ----------------

  submit(cmd: Command): Promise<CommandResult> {
    if (this.failed) return Promise.reject(new StorageError(`raft group failed: ${this.failed.message}`));
    if (this.closed) return Promise.reject(new StoreClosedError());
    const id = `${this.raftId}:${++this.proposalSeq}`;
    // Above every snapshot this leader promised (promiseTs): the command's version will exceed it.
    if (this.tsFloor >= cmd.proposedTs) cmd = { ...cmd, proposedTs: this.tsFloor + 1 };
    const data = encodeProposal(id, cmd);
    const limit = this.cfg.maxCommandBytes;
    if (limit !== undefined && data.length - HEADER_LEN > limit) {
      return Promise.reject(new CommandTooLargeError('command', data.length - HEADER_LEN, limit, `${cmd.type} command`));
    }
    this.wake(cmd.type === 'setSafePoint' ? 'gc' : 'proposal');
    try {
      this.rn.propose(data);
      if (this.tsFloor > this.floorCovered && this.rn.raft.state === StateType.Leader) this.floorCovered = this.tsFloor;
      // Followers route by their own descriptors: let them apply a split at once, not a tick later.
      if (cmd.type === 'split') this.rn.raft.commitEagerlyThrough(this.rn.raft.raftLog.lastIndex());
    } catch (e) {
      if (e instanceof ProposalDroppedError) return Promise.reject(this.notLeader(`not proposed (${e.reason}); retry${this.leaderId ? ' at the leader' : ''}`));
      return Promise.reject(e);
    }
    this.stats.proposals++;
    this.schedule();
    this.scheduleMidReadyFlush();
    return new Promise<CommandResult>((resolve, reject) => {
      const timer = setTimeout(() => {
        if (this.pending.delete(id)) reject(this.outcomeUnknown('proposal timed out'));
      }, this.cfg.proposalTimeoutMs ?? 10_000);
      timer.unref();
      this.pending.set(id, { resolve, reject, term: this.rn.raft.term, timer, t0: performance.now() });
    });
  }

  runExclusive<T>(fn: () => Promise<T>): Promise<T> {
    if (this.failed) return Promise.reject(new StorageError(`raft group failed: ${this.failed.message}`));
    if (this.closed) return Promise.reject(new StoreClosedError());
    return new Promise<T>((resolve, reject) => {
      this.exclusive.push({ fn, resolve: resolve as (v: unknown) => void, reject });
      this.schedule();
    });
  }

  /**
   * Linearizable read barrier: resolves when this replica has applied everything the leader had
   * committed when the read began (on a leader holding its lease: its commit index, in place; otherwise
   * ReadIndex, concurrent reads of one event-loop turn sharing one round).
   */
  readBarrier(): Promise<void> {
    if (this.failed) return Promise.reject(new StorageError(`raft group failed: ${this.failed.message}`));
    if (this.closed) return Promise.reject(new StoreClosedError());
    this.stats.reads++;
    // The leader's lease covers the read: its commit index is the read index now, no Ready round (at
    // 64 ranges each read was a Ready of its own range; TiKV's LocalReader serves these the same way).
    // A quiesced leader too, without waking: its lease is measured on the clock from the quiesce
    // round's acks (the voters' vote hold runs on their clocks, ticking or not), so it lapses by itself
    // and the next read takes the round below, which wakes the range.
    const at = this.rn === undefined ? undefined : this.rn.raft.localLeaseReadIndex();
    if (at !== undefined) {
      this.idleTicks = 0; // reads keep an awake range awake, as when they waited in a Ready round
      if (this.appliedIndex >= at) return Promise.resolve();
      // An apply that does not get there in time (or a group that fails meanwhile): the round below.
      return new Promise<void>((resolve, reject) => this.awaitApplied(at, { resolve, reject })).catch(() => this.readRound());
    }
    return this.readRound();
  }

  /** A read confirmed by a ReadIndex round (retried until the read timeout). */
  private readRound(): Promise<void> {
    if (this.failed) return Promise.reject(new StorageError(`raft group failed: ${this.failed.message}`));
    if (this.closed) return Promise.reject(new StoreClosedError());
    const deadline = Date.now() + (this.cfg.readTimeoutMs ?? 10_000);
    return new Promise<void>((resolve, reject) => {
      const attempt = () => {
        const w = {
          resolve,
          reject: (e: Error) => {
            if (Date.now() < deadline && !this.closed && !this.failed) setTimeout(attempt, 20);
            else reject(e);
          },
        };
        this.joinRead(w);
      };
      attempt();
    });
  }

  private joinRead(w: { resolve: () => void; reject: (e: Error) => void }): void {
    this.wake('read');
    if (this.openRead === undefined) {
      this.openRead = this.newReadBatch('read index timed out; retry');
      this.schedule();
    }
    this.openRead.waiters.push(w);
    this.scheduleMidReadyFlush();
  }

  /** A read whose index is known (a local lease read) waits for the apply stage to reach it. */
  private awaitApplied(index: number, w: { resolve: () => void; reject: (e: Error) => void }): void {
    const b = this.newReadBatch('read timed out waiting for the apply; retry');
    b.waiters.push(w);
    b.index = index;
    b.tState = b.t0;
    this.waitingReads.push(b);
  }

  /** A read batch with its own context, registered (failRead / rejectAll find it) and failed after the read attempt time. */
  private newReadBatch(timeoutReason: string): ReadBatch {
    const ctx = Buffer.allocUnsafe(12);
    ctx.writeUInt32BE(this.raftId, 0);
    ctx.writeDoubleBE(++this.readSeq, 4);
    const b: ReadBatch = { ctx, key: ctx.toString('hex'), waiters: [], t0: performance.now() };
    this.readBatches.set(b.key, b);
    b.timer = setTimeout(() => this.failRead(b, this.notLeader(timeoutReason)), this.cfg.readAttemptMs ?? 2000);
    b.timer.unref();
    return b;
  }

  private failRead(b: ReadBatch, e: Error): void {
    if (!this.readBatches.delete(b.key)) return;
    if (b.timer) clearTimeout(b.timer);
    if (this.openRead === b) this.openRead = undefined;
    const i = this.waitingReads.indexOf(b);
    if (i >= 0) this.waitingReads.splice(i, 1);
    for (const w of b.waiters) w.reject(e);
  }

  private finishRead(b: ReadBatch): void {
    this.readBatches.delete(b.key);
    if (b.timer) clearTimeout(b.timer);
    // Per batch, not per waiter: a round serves ~50 reads at c=64 and an observation costs ~0.7 µs.
    if (b.tState !== undefined) this.metrics.readStage('wait_apply', since(b.tState));
    this.metrics.readStage('barrier', since(b.t0));
    for (const w of b.waiters) w.resolve();
  }

  // ---------------- admin ----------------

  /** Proposes a conf change; typed errors for a refused (another change pending) or dropped proposal. */
  proposeConfChange(cc: ConfChange): void {
    this.wake('conf-change');
    try {
      this.rn.proposeConfChange(cc);
    } catch (e) {
      if (e instanceof ConfChangeRefusedError) throw new PreconditionFailedError(`configuration change refused: ${e.reason}; retry when the pending change is applied`);
      if (e instanceof ProposalDroppedError) throw this.notLeader(`not proposed (${e.reason}); retry${this.leaderId ? ' at the leader' : ''}`);
      throw e;
    }
    this.schedule();
  }

  transferLeader(to: number): void {
    this.wake('transfer');
    this.rn.transferLeader(to);
    this.schedule();
  }

  /** Resolves once applied ≥ index (or rejects after timeoutMs). */
  waitApplied(index: number, timeoutMs: number): Promise<void> {
    if (this.appliedIndex >= index) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const w = { index, resolve };
      this.appliedWaiters.push(w);
      setTimeout(() => {
        const i = this.appliedWaiters.indexOf(w);
        if (i >= 0) {
          this.appliedWaiters.splice(i, 1);
          reject(new Error(`timed out waiting for applied index ${index}`));
        }
      }, timeoutMs).unref();
    });
  }

  /** Calls fn on every role/leader change until it returns true or the timeout passes. */
  waitFor(pred: () => boolean, timeoutMs: number): Promise<boolean> {
    if (pred()) return Promise.resolve(true);
    return new Promise<boolean>((resolve) => {
      const check = () => {
        if (pred()) {
          done(true);
        }
      };
      const timer = setTimeout(() => done(false), timeoutMs);
      const poll = setInterval(check, 20);
      const done = (v: boolean) => {
        clearTimeout(timer);
        clearInterval(poll);
        this.roleListeners.delete(check);
        resolve(v);
      };
      this.roleListeners.add(check);
    });
  }

  /** Triggers a snapshot at the applied index (admin); resolves with its index. */
  snapshotNow(): Promise<number> {
    return this.runExclusive(async () => this.storage.generateSnapshot(this.appliedIndex, this.span()).snapshot.metadata.index);
  }

  /** Compacts the log up to `index` (0 = applied − keep); resolves with the new first index. */
  compactNow(index: number): Promise<number> {
    return this.runExclusive(async () => {
      const target = index > 0 ? Math.min(index, this.appliedIndex) : this.appliedIndex - (this.cfg.compactKeep ?? 1000);
      if (target >= this.storage.firstIndex()) await this.storage.compact(target);
      return this.storage.firstIndex();
    });
  }

  /** The user-key span of the range right now (between applies: the span at the applied index). */
  private span(): { start: Buffer; end: Buffer } {
    const d = this.sm.descriptor;
    return { start: Buffer.from(d.start), end: Buffer.from(d.end) };
  }

  // ---------------- the Ready loop ----------------

  schedule(): void {
    if (this.scheduled || this.running || this.closed || this.failed) return;
    this.scheduled = true;
    // A microtask, not setImmediate: everything of the current callback (a frame's messages, a batch of
    // requests) still goes into one Ready, but an idle group starts at once instead of after the
    // event loop's next check phase (0.05–1 ms on a busy box, on every hop of the commit path). Under
    // load, work arriving while a Ready is in flight batches into the next one by itself.
    queueMicrotask(() => {
      this.scheduled = false;
      void this.loop();
    });
  }

  private async loop(): Promise<void> {
    if (this.running || this.failed) return;
    this.running = true;
    try {
      for (;;) {
        if (this.exclusive.length > 0 || this.storage.snapshotRequested) await this.appendsIdle();
        if (this.exclusive.length > 0) await this.applyIdle();
        while (this.exclusive.length > 0) {
          const x = this.exclusive.shift()!;
          try {
            x.resolve(await x.fn());
          } catch (e) {
            x.reject(e instanceof Error ? e : new Error(String(e)));
          }
        }
        if (this.storage.snapshotRequested) {
          // The engine must hold exactly the state at the applied index: no apply in flight.
          await this.applyIdle();
          this.storage.generateSnapshot(this.appliedIndex, this.span());
          this.stats.snapshotsGenerated++;
          this.log.info('snapshot generated', { index: this.appliedIndex });
        }
        if (this.openRead !== undefined) {
          const b = this.openRead;
          this.openRead = undefined;
          b.tIssued = performance.now();
          this.rn.readIndex(b.ctx);
          this.stats.readIndexRounds++;
        }
        if (this.closed || this.failed || !this.rn.hasReady()) break;
        const rd = this.rn.ready();
        const tReady = performance.now();
        this.stats.readies++;
        this.inReady = true;
        let writing: boolean;
        try {
          writing = await this.handleReady(rd);
        } finally {
          this.inReady = false;
        }
        if (writing) this.rn.advanceAsync();
        else this.rn.advance();
        this.metrics.stage('ready', since(tReady));
        await this.maybeCompact();
      }
    } catch (e) {
      this.fail(e instanceof Error ? e : new Error(String(e)));
    } finally {
      this.running = false;
      if (!this.failed && !this.closed && (this.exclusive.length > 0 || this.openRead !== undefined || this.rn.hasReady())) this.schedule();
      this.releaseIfIdle();
    }
  }

  /**
   * While a Ready is in flight (mostly: its fsync), messages that promise nothing about it leave at once
   * instead of after it — when term and vote are as durable (a leader's do not change while it leads):
   * a leader's heartbeats (a read round does not wait for the fsync; reads arriving meanwhile get their
   * ReadIndex now), MsgReadIndexResp and entry-less MsgApp (a commit advance reaches the followers now);
   * a follower's MsgHeartbeatResp (it acknowledges the durable term only), forwarded MsgReadIndex and
   * MsgProp. MsgApp with entries waits for the Ready: sending each new proposal on its own split the
   * batches into many small appends and follower fsyncs (measured: fewer puts/s at c=64 on 2 cores). Everything else (append/vote responses, snapshots, transfers) keeps the
   * Ready order. Confirmed read states are served too (they need only applied ≥ index). A microtask:
   * everything of the current callback goes in one frame.
   */
  private scheduleMidReadyFlush(): void {
    if (!this.inReady || this.midFlushScheduled) return;
    this.midFlushScheduled = true;
    queueMicrotask(() => {
      this.midFlushScheduled = false;
      this.midReadyFlush();
    });
  }

  private midReadyFlush(): void {
    if (!this.inReady || this.closed || this.failed !== undefined) return;
    const r = this.rn.raft;
    const durable = this.storage.hardState;
    if (r.term !== durable.term || r.vote !== durable.vote) return;
    const leader = r.state === StateType.Leader;
    if (!leader && r.state !== StateType.Follower) return;
    if (this.openRead !== undefined && r.lead !== 0) {
      const b = this.openRead;
      this.openRead = undefined;
      b.tIssued = performance.now();
      this.rn.readIndex(b.ctx);
      this.stats.readIndexRounds++;
    }
    if (leader) r.flushReadIndex();
    // Read states are confirmed read points; serving them needs only applied ≥ index.
    if (r.readStates.length > 0) {
      const states = r.readStates;
      r.readStates = [];
      for (const rs of states) this.onReadState(rs);
      this.serveReads();
    }
    if (r.msgs.length === 0) return;
    const now: Message[] = [];
    const keep: Message[] = [];
    for (const m of r.msgs) {
      const ok = leader
        ? m.type === MessageType.Heartbeat || m.type === MessageType.ReadIndexResp || (m.type === MessageType.App && m.entries.length === 0)
        : m.type === MessageType.HeartbeatResp || m.type === MessageType.ReadIndex || m.type === MessageType.Prop;
      (ok ? now : keep).push(m);
    }
    if (now.length === 0) return;
    r.msgs = keep;
    this.stats.midReadySends += now.length;
    this.transport.send(now);
  }

  private fail(err: Error): void {
    if (this.failed !== undefined) return;
    this.failed = err;
    this.log.error('raft group failed; the node needs a restart', { err: err.message, stack: err.stack });
    this.rejectAll(new StorageError(`raft group failed: ${err.message}`), this.outcomeUnknown('raft group failed'));
  }

  /**
   * Fails every pending proposal, exclusive task and read (group failed or closed). Proposals get
   * `proposalError`: they may already be in the log, so they are never reported as "not applied".
   */
  private rejectAll(e: Error, proposalError: Error): void {
    for (const [, p] of this.pending) {
      clearTimeout(p.timer);
      p.reject(proposalError);
    }
    this.pending.clear();
    for (const x of this.exclusive.splice(0)) x.reject(e);
    for (const b of [...this.readBatches.values()]) this.failRead(b, e);
  }

  /** Handles one Ready; true when its log write is still in flight (then the loop advances it asynchronously). */
  private async handleReady(rd: Ready): Promise<boolean> {
    if (rd.softState !== undefined) {
      const prevLeader = this.leaderId;
      this.leaderId = rd.softState.lead;
      this.role = rd.softState.raftState;
      if (prevLeader !== this.leaderId) this.log.info('leader changed', { leader: this.leaderId, role: this.role, term: this.rn.raft.term });
      for (const f of this.roleListeners) f();
      if (this.role === StateType.Leader && this.identity.selfIncarnation !== '') this.noteIncarnation(this.raftId, this.identity.selfIncarnation);
    }
    if (rd.hardState !== undefined && rd.hardState.term > this.lastTerm) {
      this.lastTerm = rd.hardState.term;
      // Proposals of older terms may have been lost with their leader: fail them (retryable; with a
      // client session the retry is exactly-once even if the entry does commit later).
      for (const [id, p] of this.pending) {
        if (p.term < this.lastTerm) {
          clearTimeout(p.timer);
          this.pending.delete(id);
          p.reject(this.outcomeUnknown('leadership changed while the proposal was pending'));
        }
      }
    }
    if (this.pending.size > 0 && this.metrics.recording) {
      for (const e of rd.entries) {
        const id = proposalId(e.data);
        const p = id === undefined ? undefined : this.pending.get(id);
        if (p !== undefined) this.metrics.proposalStage('queued', since(p.t0));
      }
    }
    // 1. Send early. A Ready that needs no sync changes nothing a message could promise (no entries, no
    // term/vote; a commit index is never a promise): everything leaves now, e.g. a follower's heartbeat
    // response for a read round. Otherwise a leader whose Ready keeps term and vote replicates in
    // parallel with its own write (its self-ack waits for advance).
    let later: Message[] = rd.messages;
    const hs = rd.hardState;
    const sameTermVote = hs === undefined || (hs.term === this.storage.hardState.term && hs.vote === this.storage.hardState.vote);
    // A leader keeping term and vote promises nothing by its own log write (commit needs a quorum's
    // acks, its own counted at appendPersisted), so this Ready may overlap its earlier writes and leave
    // its own in flight. Anything else (a term or vote change, a snapshot, a follower's write it must
    // finish before acking) first waits for the writes in flight, then runs as before.
    const overlap = this.cfg.asyncAppend === true && this.cfg.logWriter !== undefined && this.role === StateType.Leader && sameTermVote && rd.snapshot === undefined;
    if (!overlap) await this.appendsIdle();
    const ts = performance.now();
    if (overlap) {
      // Everything a leader sends promises nothing about its own write (etcd sends all of it first too).
      this.sendMessages(rd.messages);
      later = [];
    } else if (!rd.mustSync && rd.snapshot === undefined) {
      this.sendMessages(rd.messages);
      later = [];
    } else if (this.role === StateType.Leader && sameTermVote && rd.snapshot === undefined) {
      const early: Message[] = [];
      later = [];
      for (const m of rd.messages) {
        if (m.type === MessageType.App || m.type === MessageType.Heartbeat || m.type === MessageType.Snap) early.push(m);
        else later.push(m);
      }
      this.sendMessages(early);
    }
    let sendSeconds = since(ts);
    let writing = false;
    // 2. Persist.
    if (rd.snapshot !== undefined) {
      // The state import replaces the state machine: everything queued before it is applied first.
      await this.applyIdle();
      await this.installSnapshot(rd);
    }
    if (rd.entries.length === 0 && !rd.mustSync && rd.snapshot === undefined) {
      // Commit-only hard state (or none): no write of its own, it rides in the next log write.
      if (rd.hardState !== undefined) {
        this.storage.noteHardState(rd.hardState);
        this.commitDirty = true;
      }
    } else if (rd.entries.length > 0 || rd.hardState !== undefined) {
      const hsToWrite = rd.hardState ?? (this.commitDirty ? this.storage.hardState : undefined);
      const ops = this.storage.appendOps(rd.entries, hsToWrite);
      const tp = performance.now();
      if (overlap && rd.entries.length > 0) {
        this.writeAsync(rd, ops, hsToWrite, tp);
        writing = true;
      } else {
        // Through the store's log writer when there is one: one engine batch (one fsync) for every range's
        // log write of this round (log-writer.ts).
        if (this.cfg.logWriter !== undefined) await this.cfg.logWriter.write(ops, rd.mustSync);
        else await this.engine.write(ops, { sync: rd.mustSync });
        this.persistMetrics(rd, ops, since(tp), this.role === StateType.Leader ? 'leader' : this.role === StateType.Follower ? 'follower' : 'candidate');
        if (rd.mustSync) this.stats.syncedWrites++;
        if (hsToWrite !== undefined) this.commitDirty = false;
        this.storage.appended(rd.entries, hsToWrite);
      }
    }
    // 3. Send the rest.
    if (later.length > 0) {
      const t3 = performance.now();
      this.sendMessages(later);
      sendSeconds += since(t3);
    }
    this.metrics.stage('send', sendSeconds);
    // 4. Apply: in the apply stage, except conf changes (raft must see the new config before advance).
    if (rd.committedEntries.length > 0) {
      this.metrics.readySize('committed', rd.committedEntries.length, entriesBytes(rd.committedEntries));
      if (this.pending.size > 0 && this.metrics.recording) {
        for (const e of rd.committedEntries) {
          const id = proposalId(e.data);
          const p = id === undefined ? undefined : this.pending.get(id);
          if (p !== undefined) this.metrics.proposalStage('committed', since(p.t0));
        }
      }
      if (rd.committedEntries.some((e) => e.type === EntryType.ConfChange)) {
        await this.applyIdle();
        const ta = performance.now();
        await this.applyEntries(rd.committedEntries);
        this.metrics.stage('apply', since(ta));
        this.serveReads();
      } else this.enqueueApply(rd.committedEntries);
    }
    for (const rs of rd.readStates) this.onReadState(rs);
    this.serveReads();
    return writing;
  }

  /**
   * A leader's log write left in flight (asyncAppend). The in-memory log and hard state follow the
   * Ready order at once (raft reads the entries from its unstable log until appendPersisted); the
   * store's log writer keeps every later write, apply batches included, behind this one, so the engine
   * never holds an entry's applied state without the entry. Once durable, the leader counts itself.
   */
  private writeAsync(rd: Ready, ops: EngineOp[], hs: HardState | undefined, t0: number): void {
    const last = rd.entries[rd.entries.length - 1]!;
    this.stats.syncedWrites++;
    if (hs !== undefined) this.commitDirty = false;
    this.storage.appended(rd.entries, hs);
    this.appendsInFlight++;
    this.cfg.logWriter!.write(ops, true).then(
      () => {
        this.persistMetrics(rd, ops, since(t0), 'leader');
        this.appendDone();
        if (this.closed || this.failed !== undefined) return;
        this.rn.appendPersisted(last.index, last.term);
        this.schedule();
      },
      (e: unknown) => {
        this.appendDone();
        this.fail(e instanceof Error ? e : new Error(String(e)));
      },
    );
  }

  /**
   * An apply batch (unsynced unless `sync`). Through the store's log writer when there is one: its FIFO
   * keeps it behind the log writes of its entries, which may still be in flight (asyncAppend).
   */
  private applyWrite(ops: EngineOp[], sync = false): Promise<void> {
    return this.cfg.logWriter !== undefined ? this.cfg.logWriter.writeApply(ops, sync) : this.engine.write(ops, { sync });
  }

  private appendDone(): void {
    if (--this.appendsInFlight > 0) return;
    const w = this.appendWaiters;
    this.appendWaiters = [];
    for (const f of w) f();
    this.releaseIfIdle();
  }

  /** Wakes close() and other idle waiters once no loop, exclusive task or log write is running. */
  private releaseIfIdle(): void {
    if (this.running || this.exclusive.length > 0 || this.appendsInFlight > 0) return;
    const w = this.idleWaiters;
    this.idleWaiters = [];
    for (const f of w) f();
  }

  /** The persist stage's metrics of one log write (`seconds` from its start until durable). */
  private persistMetrics(rd: Ready, ops: readonly EngineOp[], seconds: number, role: 'leader' | 'follower' | 'candidate'): void {
    this.metrics.stage('persist', seconds);
    this.metrics.engineWrite('log', ops.length, opsBytes(ops));
    if (rd.entries.length === 0) return;
    this.metrics.appendPersisted(role, seconds);
    this.metrics.readySize('appended', rd.entries.length, entriesBytes(rd.entries));
  }

  /** Resolves once no log write of this replica is in flight; throws if the group failed. */
  private async appendsIdle(): Promise<void> {
    if (this.appendsInFlight > 0) await new Promise<void>((r) => this.appendWaiters.push(r));
    if (this.failed !== undefined) throw this.failed;
  }

  // ---------------- the apply stage ----------------

  /** Hands committed entries (no conf change) to the apply worker; they are applied in order. */
  private enqueueApply(entries: Entry[]): void {
    this.applyQueue.push(entries);
    this.applyWorker ??= this.runApply();
  }

  private async runApply(): Promise<void> {
    try {
      while (this.applyQueue.length > 0 && this.failed === undefined) {
        // Everything queued meanwhile goes into one state-machine batch and one engine write.
        const batches = this.applyQueue.splice(0);
        const entries = batches.length === 1 ? batches[0]! : batches.flat();
        const ta = performance.now();
        await this.applyEntries(entries);
        this.metrics.stage('apply', since(ta));
        this.serveReads();
      }
    } catch (e) {
      this.fail(e instanceof Error ? e : new Error(String(e)));
    } finally {
      this.applyWorker = undefined;
    }
  }

  /** Resolves once the apply stage is empty (everything handed to it is applied); throws if the group failed. */
  private async applyIdle(): Promise<void> {
    while (this.applyWorker !== undefined) await this.applyWorker;
    if (this.failed !== undefined) throw this.failed;
  }

  /** Entries handed to the apply stage and not yet applied (batches). */
  get applyQueueLength(): number {
    return this.applyQueue.length + (this.applyWorker !== undefined ? 1 : 0);
  }

  private sendMessages(all: Message[]): void {
    const msgs = this.muteIfRefused(all);
    if (msgs.length === 0) return;
    const normal: Message[] = [];
    for (const m of msgs) {
      if (m.type === MessageType.Snap) this.sendSnapshot(m);
      else normal.push(m);
    }
    this.transport.send(normal);
  }

  private sendSnapshot(m: Message): void {
    const index = m.snapshot!.metadata.index;
    const g = this.storage.acquireSnapshot(index);
    if (g === undefined) {
      this.rn.reportSnapshot(m.to, SnapshotStatus.Failure);
      return;
    }
    const engine = this.engine;
    const groupId = this.groupId;
    // Export from the pinned engine snapshot: exactly the state at `index`.
    const pinned = Object.create(engine) as Engine;
    pinned.snapshot = () => ({ release: async () => undefined });
    const realIterator = engine.iterator.bind(engine);
    pinned.iterator = (opts) => realIterator({ ...opts, snapshot: g.engineSnapshot });
    const source: SnapshotSource = {
      // Only this range's keys: the engine holds every range of the store.
      chunks: () => exportState(pinned, groupId, { batchSize: 1024, ...(g.span !== undefined ? { userRange: g.span } : {}) }),
      release: () => this.storage.releaseSnapshot(g),
    };
    this.log.info('sending snapshot', { to: m.to, index });
    void this.transport.sendSnapshot(m, source).then((ok) => {
      if (this.closed || this.failed) return;
      this.rn.reportSnapshot(m.to, ok ? SnapshotStatus.Finish : SnapshotStatus.Failure);
      this.schedule();
    });
  }

  private async installSnapshot(rd: Ready): Promise<void> {
    const snap = rd.snapshot!;
    const index = snap.metadata.index;
    const entries = this.stagedSnapshots.get(index);
    if (entries === undefined) throw new Error(`snapshot ${index} accepted by raft but its state was not received`);
    this.stagedSnapshots.delete(index);
    const hs = rd.hardState ?? { ...this.storage.hardState, commit: Math.max(this.storage.hardState.commit, index) };
    // Reads of this replica overlapping the import are refused (they could see part of it).
    this.replaceSm(null);
    // (a) metadata + marker, synced: a crash during the import restarts as an empty member.
    await this.engine.write(this.storage.snapshotOps(snap, hs), { sync: true });
    this.storage.snapshotApplied(snap, hs);
    // (b) the state.
    const batches: EngineEntry[][] = [];
    for (let i = 0; i < entries.length; i += 4096) batches.push(entries.slice(i, i + 4096));
    // The span the snapshot covers is its own descriptor's (a range that never stored one covers all).
    const descKey = metaKey(this.groupId, 'descriptor');
    const descEntry = entries.find(([k]) => k.equals(descKey));
    const d = descEntry !== undefined ? decodeDescriptor(Buffer.from(descEntry[1])) : undefined;
    await importState(this.engine, this.groupId, batches, { sync: false, ...(d !== undefined ? { userRange: { start: d.start, end: d.end } } : {}) });
    await this.engine.write([this.storage.markerClearOp(), this.storage.addressesOp(), this.storage.identitiesOp()], { sync: true });
    // (c) reopen the state machine over the new state.
    this.sm = await StateMachine.open(this.engine, { groupId: this.groupId, unsafeSnapshotIsolation: this.cfg.unsafeSnapshotIsolation === true, logger: this.log });
    this.adoptReplicas();
    this.replaceSm(this.sm);
    this.appliedIndex = Math.max(index, this.sm.appliedIndex);
    this.onApplied(this.sm.lastTs);
    this.stats.snapshotsInstalled++;
    this.cfg.onSnapshotInstalled?.();
    this.log.info('snapshot installed', { index, term: snap.metadata.term, entries: entries.length, config: snap.metadata.confState });
  }

  /**
   * Applies committed entries in order: runs of commands → StateMachine.apply → proposals resolved with
   * their results (deterministic and final: the entries are committed, a crash before the write
   * re-applies them to the same results) → the unsynced engine write → applied index advanced. Readers
   * wait for the applied index, so nobody observes the state before the write lands.
   */
  private async applyEntries(entries: Entry[]): Promise<void> {
    let run: Array<{ e: Entry; id?: string; cmd: Command; t0?: number }> = [];
    const flush = async () => {
      if (run.length === 0) return;
      const batch = run;
      run = [];
      const last = batch[batch.length - 1]!.e.index;
      const r = await this.sm.apply(
        batch.map((x) => x.cmd),
        { appliedIndex: last },
      );
      for (let i = 0; i < batch.length; i++) {
        const id = batch[i]!.id;
        if (id === undefined) continue;
        const p = this.pending.get(id);
        if (p !== undefined) {
          this.pending.delete(id);
          clearTimeout(p.timer);
          p.resolve(r.results[i]!);
          this.metrics.proposalStage('resolved', since(p.t0));
        }
      }
      const splits: Array<{ left: RangeDescriptor; right: RangeDescriptor }> = [];
      for (const res of r.results) {
        if (res.type !== 'split') continue;
        const right = decodeDescriptor(res.right);
        splits.push({ left: decodeDescriptor(res.left), right });
        if (this.cfg.canCreateSplit?.(right.rangeId) === false) {
          // A replica of the new range already exists here (created on demand from its leader's
          // messages): keep its state; it gets the range by snapshot.
          const local = localKeysOf(right.rangeId);
          for (let i = r.ops.length - 1; i >= 0; i--) if (local.some((pre) => r.ops[i]!.key.subarray(0, pre.length).equals(pre))) r.ops.splice(i, 1);
          continue;
        }
        // The right half's Raft state rides in the same batch as the split itself.
        r.ops.push(...PeerStorage.splitInitOps(right.rangeId, SPLIT_INIT_INDEX, this.storage.confState, this.storage.addresses, this.identity.toJSON()));
      }
      // With every range's log and apply writes of the store round in one engine write (log-writer.ts);
      // this range's next batch still waits for this one, so its apply order is unchanged.
      if (splits.length > 0 && this.cfg.testCrashAtSplit?.at === 'before-apply') this.cfg.testCrashAtSplit.crash();
      // A split's batch syncs LevelDB: the new range's Raft state must be durable before its own log
      // writes are (they go to the store's WAL, log-wal.ts, while this batch would stay unsynced).
      await this.applyWrite(r.ops, splits.length > 0);
      // (An unsynced LevelDB write is in the OS once it returns: a process crash keeps it.)
      if (splits.length > 0 && this.cfg.testCrashAtSplit?.at === 'after-apply') this.cfg.testCrashAtSplit.crash();
      this.metrics.engineWrite('apply', r.ops.length, opsBytes(r.ops));
      this.appliedIndex = last;
      this.stats.applied += batch.length;
      this.onApplied(r.lastTs);
      for (const sp of splits) {
        this.log.info('range split applied', { index: last, left: { rangeId: sp.left.rangeId, end: sp.left.end.toString('hex') }, right: { rangeId: sp.right.rangeId, start: sp.right.start.toString('hex') }, version: sp.right.epoch.version });
        this.cfg.onSplit?.(sp.left, sp.right);
      }
      const now = performance.now();
      for (const x of batch) {
        const t0 = x.id === undefined ? undefined : x.t0;
        if (t0 !== undefined) this.metrics.proposalStage('applied', (now - t0) / 1000);
      }
    };
    for (const e of entries) {
      if (e.index <= this.sm.appliedIndex) continue; // already in the state (snapshot newer than raft knew)
      if (e.type === EntryType.ConfChange) {
        await flush();
        const cc = decodeConfChange(e.data);
        const cs = this.rn.applyConfChange(cc);
        const ops: EngineOp[] = [this.storage.confStateOp(cs, e.index)];
        for (const ch of cc.changes) {
          const addr = confContextAddress(cc.context);
          if (addr !== undefined && (ch.type === ConfChangeType.AddLearner || ch.type === ConfChangeType.AddNode)) this.storage.learnAddress(ch.nodeId, addr);
        }
        ops.push(this.storage.addressesOp());
        // The descriptor follows the configuration: replicas + confVer (TiKV: +1 per change).
        const d = this.sm.descriptor;
        ops.push(this.sm.setDescriptor({ ...d, epoch: { confVer: d.epoch.confVer + Math.max(1, cc.changes.length), version: d.epoch.version }, replicas: replicasOf(cs) }));
        const r = await this.sm.apply([], { appliedIndex: e.index });
        await this.applyWrite([...r.ops, ...ops]);
        this.appliedIndex = e.index;
        this.log.info('conf change applied', { index: e.index, changes: cc.changes.map((c) => `${ConfChangeType[c.type]}(${c.nodeId})`), config: cs });
        if (cs.voters.length + cs.learners.length > 0 && !cs.voters.includes(this.raftId) && !cs.learners.includes(this.raftId) && !cs.votersOutgoing.includes(this.raftId)) {
          if (this.cfg.onRemoved !== undefined) this.cfg.onRemoved();
          else this.log.warn('this node was removed from the group; it should be shut down');
        }
        continue;
      }
      if (isIdentityEntry(e.data)) {
        // Identity record (raftstore/identity.ts): in the same engine write as the applied index.
        await flush();
        const rec = decodeIdentityEntry(e.data);
        const added = rec !== undefined && this.identity.apply(rec);
        if (rec !== undefined) this.identityProposed.delete(rec.raftId);
        const r = await this.sm.apply([], { appliedIndex: e.index });
        await this.applyWrite(added ? [...r.ops, this.storage.identitiesOp()] : r.ops);
        this.appliedIndex = e.index;
        if (added) this.log.info('member incarnation recorded', { index: e.index, member: rec.raftId, incarnation: rec.incarnation, term: this.rn.raft.term });
        continue;
      }
      if (e.data.length === 0) {
        // The leader's empty entry of its term: consumes an index, and lifts the range's timestamps to
        // the ceiling (promiseTs: an earlier leader may have promised reads up to it).
        run.push({ e, cmd: this.cfg.unsafeNoTermFloor === true ? { type: 'noop', proposedTs: 0 } : { type: 'noop', proposedTs: 0, termStart: true } });
        continue;
      }
      let p: { id: string; cmd: Command };
      try {
        p = decodeProposal(e.data);
      } catch (err) {
        this.log.error('undecodable committed entry: applying as noop', { index: e.index, err: (err as Error).message });
        run.push({ e, cmd: { type: 'noop', proposedTs: 0 } });
        continue;
      }
      const pp = this.pending.get(p.id);
      run.push({ e, id: p.id, cmd: p.cmd, t0: pp?.t0 });
    }
    await flush();
    for (let i = this.appliedWaiters.length - 1; i >= 0; i--) {
      const w = this.appliedWaiters[i]!;
      if (this.appliedIndex >= w.index) {
        this.appliedWaiters.splice(i, 1);
        w.resolve();
      }
    }
  }

  private onReadState(rs: ReadState): void {
    const key = Buffer.from(rs.requestCtx).toString('hex');
    const b = this.readBatches.get(key);
    if (b === undefined) return;
    b.index = rs.index;
    b.tState = performance.now();
    if (b.tIssued !== undefined) this.metrics.readStage('round', since(b.tIssued));
    this.waitingReads.push(b);
  }

  private serveReads(): void {
    for (let i = this.waitingReads.length - 1; i >= 0; i--) {
      const b = this.waitingReads[i]!;
      if (b.index !== undefined && this.appliedIndex >= b.index) {
        this.waitingReads.splice(i, 1);
        this.finishRead(b);
      }
    }
  }

  private async maybeCompact(): Promise<void> {
    const threshold = this.cfg.compactThreshold ?? 10_000;
    if (this.compacting) return;
    const first = this.storage.firstIndex();
    if (this.appliedIndex - first < threshold) return;
    const target = this.appliedIndex - (this.cfg.compactKeep ?? 1000);
    if (target < first) return;
    this.compacting = true;
    try {
      await this.storage.compact(target);
      this.log.debug('raft log compacted', { upTo: target });
    } finally {
      this.compacting = false;
    }
  }

  /** Stops ticking and accepting; fails pending proposals; waits for the loop to go idle. */
  async close(): Promise<void> {
    if (this.closed) return;
    // Let queued work (proposals already in the log) settle briefly.
    if (this.running || this.appendsInFlight > 0) await new Promise<void>((r) => this.idleWaiters.push(r));
    this.closed = true;
    await this.applyIdle().catch(() => undefined);
    // The lazily written commit index, so a clean restart starts where it stopped.
    if (this.commitDirty && this.failed === undefined) {
      await this.engine.write(this.storage.appendOps([], this.storage.hardState), { sync: false }).catch(() => undefined);
      this.commitDirty = false;
    }
    this.rejectAll(new StoreClosedError(), this.outcomeUnknown('node shutting down'));
    this.storage.close();
  }
}

export { ConfChangeType, encodeConfChange };
