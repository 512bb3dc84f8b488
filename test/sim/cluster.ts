// Simulated cluster: Raft nodes driven by a host loop that follows the same persistence
// contract as a real host, a lossy network, and disks that lose unsynced writes on crash.

import {
  type ConfChange,
  type ConfState,
  type Message,
  type Ready,
  type RaftConfig,
  EntryType,
  MemoryStorage,
  MessageType,
  ProposalDroppedError,
  RawNode,
  SnapshotStatus,
  StateType,
  StepPeerNotFoundError,
  decodeConfChange,
  describeMessage,
  encodeMessage,
  decodeMessage,
  bytesToKey,
  ReadOnlyOption,
} from '../../node/src/raft/index.js';
import { Prng } from './prng.js';
import { KvStateMachine, decodeCommand, type Command, type OpResult, type Value } from './kv.js';
import { SafetyChecker, SafetyViolation } from './invariants.js';

export const TICK_MS = 10;
/** Lease reads run on per-node clocks drifting within this bound (the core's maxClockDrift). */
export const SIM_MAX_CLOCK_DRIFT = 0.1;

/**
 * A node's monotonic clock rate (µs per virtual µs), fixed per raft id without consuming the seed's
 * random stream: within ±SIM_MAX_CLOCK_DRIFT/2.2 of real time, so any two nodes differ by < the bound.
 */
export function simClockRate(id: number): number {
  const u = ((id * 2654435761) % 1000) / 1000;
  return 1 + (u - 0.5) * (SIM_MAX_CLOCK_DRIFT / 1.1);
}

export interface NetworkFaults {
  drop: number; // probability a message is lost
  dup: number; // probability a message is delivered twice
  maxDelay: number; // ms; delays are uniform in [1, maxDelay] (random delays reorder)
  longDelay: number; // probability of an extra-long delay (up to 10×maxDelay)
}

export interface NodeConfigKnobs {
  preVote: boolean;
  checkQuorum: boolean;
  maxSizePerMsg: number;
  maxInflightMsgs: number;
  electionTick: number;
  heartbeatTick: number;
  readOnlyOption: ReadOnlyOption;
  disableProposalForwarding: boolean;
  maxInflightBytes: number;
  maxCommittedSizePerReady: number;
  maxUncommittedEntriesSize: number;
}

interface PendingReady {
  rd: Ready;
  held: Message[];
  syncAt: number;
}

/** Callbacks the workload layer registers to learn about applied commands and reads. */
export interface ClusterHooks {
  onApplied(node: SimNode, cmd: Command, result: OpResult | undefined): void;
  onReadReady(node: SimNode, ctx: string, value: (key: string) => Value): void;
  onConfApplied(node: SimNode, cc: ConfChange, before: ConfState, after: ConfState): void;
}

export class SimNode {
  raw: RawNode | undefined;
  live: MemoryStorage;
  durable: MemoryStorage;
  sm = new KvStateMachine();
  pending: PendingReady | undefined;
  removed = false;
  tickOffset: number;
  /** Read states awaiting apply: ctx → index. */
  readStates: { index: number; ctx: string }[] = [];

  constructor(
    readonly id: number,
    storage: MemoryStorage,
    tickOffset: number,
  ) {
    this.durable = storage;
    this.live = storage.clone();
    this.tickOffset = tickOffset;
  }

  get up(): boolean {
    return this.raw !== undefined;
  }
}

type CalendarItem =
  | { kind: 'msg'; m: Message }
  | { kind: 'snapStatus'; node: number; to: number; status: SnapshotStatus }
  | { kind: 'unreachable'; node: number; to: number };

export class SimCluster {
  readonly nodes = new Map<number, SimNode>();
  readonly checker = new SafetyChecker();
  now = 0;
  faults: NetworkFaults = { drop: 0, dup: 0, maxDelay: 5, longDelay: 0 };
  /** Pairs that cannot talk ("a-b", both directions stored). */
  partitions = new Set<string>();
  trace: string[] | undefined;
  /** Test-only: break the persistence contract (send everything before fsync). */
  unsafeSendBeforeSync = false;
  private calendar = new Map<number, CalendarItem[]>();
  stats = {
    sent: 0,
    dropped: 0,
    duplicated: 0,
    delivered: 0,
    crashes: 0,
    crashesWithUnsynced: 0,
    restarts: 0,
    snapshotsSent: 0,
    snapshotsInstalled: 0,
    confChangesApplied: 0,
    readies: 0,
  };

  constructor(
    readonly rng: Prng,
    readonly knobs: NodeConfigKnobs,
    readonly hooks: ClusterHooks,
    verbose: boolean,
  ) {
    if (verbose) this.trace = [];
  }

  log(s: string): void {
    if (this.trace) this.trace.push(`[${String(this.now).padStart(6)}] ${s}`);
  }

  raftConfig(id: number, storage: MemoryStorage, applied: number): RaftConfig {
    const r = this.rng.fork();
    return {
      id,
      groupId: 1,
      electionTick: this.knobs.electionTick,
      heartbeatTick: this.knobs.heartbeatTick,
      storage,
      applied,
      preVote: this.knobs.preVote,
      checkQuorum: this.knobs.checkQuorum,
      maxSizePerMsg: this.knobs.maxSizePerMsg,
      maxInflightMsgs: this.knobs.maxInflightMsgs,
      readOnlyOption: this.knobs.readOnlyOption,
      disableProposalForwarding: this.knobs.disableProposalForwarding,
      maxInflightBytes: this.knobs.maxInflightBytes,
      maxCommittedSizePerReady: this.knobs.maxCommittedSizePerReady,
      maxUncommittedEntriesSize: this.knobs.maxUncommittedEntriesSize,
      rand: () => r.next(),
      // Lease reads on a drifting monotonic clock that runs on while a node is down (virtual time).
      ...(this.knobs.readOnlyOption === ReadOnlyOption.LeaseBased
        ? { leaseClock: { now: () => Math.floor(this.now * 1000 * simClockRate(id)), tickInterval: TICK_MS * 1000, maxClockDrift: SIM_MAX_CLOCK_DRIFT } }
        : {}),
    };
  }

  /** Create (and start) a node on the given disk image. */
  addNode(id: number, disk: MemoryStorage): SimNode {
    const n = new SimNode(id, disk, this.rng.int(0, TICK_MS - 1));
    this.nodes.set(id, n);
    this.start(n);
    return n;
  }

  private start(n: SimNode): void {
    n.live = n.durable.clone();
    const snap = n.durable.snapshot();
    n.sm = KvStateMachine.restore(snap.data);
    n.sm.appliedIndex = snap.metadata.index;
    n.raw = new RawNode(this.raftConfig(n.id, n.live, snap.metadata.index));
    n.pending = undefined;
    n.readStates = [];
    this.checker.onRestart(n.raw.raft);
  }

  /**
   * Crash: in-memory state is lost; the disk keeps what was synced. A write in progress may
   * have reached the disk partially (a prefix of its entries), never beyond what was written.
   */
  crash(n: SimNode): void {
    if (!n.raw) return;
    this.stats.crashes++;
    const p = n.pending;
    if (p) this.stats.crashesWithUnsynced++;
    if (p && !p.rd.snapshot && p.rd.entries.length > 0 && this.rng.chance(0.5)) {
      const k = this.rng.int(0, p.rd.entries.length);
      n.durable.append(p.rd.entries.slice(0, k));
      this.log(`n${n.id} CRASH (torn write: ${k}/${p.rd.entries.length} unsynced entries survived)`);
    } else {
      this.log(`n${n.id} CRASH${p ? ' (unsynced write lost)' : ''}`);
    }
    n.raw = undefined;
    n.pending = undefined;
    n.readStates = [];
  }

  restart(n: SimNode): void {
    if (n.raw || n.removed) return;
    this.stats.restarts++;
    this.start(n);
    this.log(`n${n.id} RESTART term=${n.raw!.raft.term} commit=${n.raw!.raft.raftLog.committed} last=${n.raw!.raft.raftLog.lastIndex()}`);
  }

  /** Permanently stop a node (removed from the group). */
  destroy(n: SimNode): void {
    n.raw = undefined;
    n.pending = undefined;
    n.removed = true;
    this.log(`n${n.id} DESTROYED (removed from config)`);
  }

  upNodes(): SimNode[] {
    return [...this.nodes.values()].filter((n) => n.up);
  }

  leader(): SimNode | undefined {
    let best: SimNode | undefined;
    for (const n of this.nodes.values()) {
      if (n.raw && n.raw.raft.state === StateType.Leader) {
        if (!best || n.raw.raft.term > best.raw!.raft.term) best = n;
      }
    }
    return best;
  }

  // ---- network -------------------------------------------------------------------------

  partitioned(a: number, b: number): boolean {
    return this.partitions.has(`${a}-${b}`);
  }

  private schedule(at: number, item: CalendarItem): void {
    let b = this.calendar.get(at);
    if (!b) this.calendar.set(at, (b = []));
    b.push(item);
  }

  send(m: Message): void {
    this.stats.sent++;
    const isSnap = m.type === MessageType.Snap;
    if (isSnap) this.stats.snapshotsSent++;
    if (this.partitioned(m.from, m.to) || this.rng.chance(this.faults.drop)) {
      this.stats.dropped++;
      if (this.trace) this.log(`drop ${describeMessage(m)}`);
      // A transport notices failed sends eventually: tell raft (snapshot failure / unreachable).
      if (isSnap) this.schedule(this.now + this.delay(), { kind: 'snapStatus', node: m.from, to: m.to, status: SnapshotStatus.Failure });
      else if (this.rng.chance(0.1)) this.schedule(this.now + this.delay(), { kind: 'unreachable', node: m.from, to: m.to });
      return;
    }
    // Through the wire codec, like a real transport: no object sharing between nodes.
    const wire = encodeMessage(m);
    this.schedule(this.now + this.delay(), { kind: 'msg', m: decodeMessage(wire) });
    if (this.rng.chance(this.faults.dup)) {
      this.stats.duplicated++;
      this.schedule(this.now + this.delay(), { kind: 'msg', m: decodeMessage(wire) });
    }
  }

  private delay(): number {
    let d = this.rng.int(1, this.faults.maxDelay);
    if (this.rng.chance(this.faults.longDelay)) d += this.rng.int(1, this.faults.maxDelay * 10);
    return d;
  }

  private deliver(item: CalendarItem): void {
    if (item.kind === 'msg') {
      const m = item.m;
      const n = this.nodes.get(m.to);
      if (!n || !n.raw || this.partitioned(m.from, m.to)) {
        // The transport learns the snapshot didn't make it (raft waits for this report).
        if (m.type === MessageType.Snap) {
          this.schedule(this.now + this.delay(), { kind: 'snapStatus', node: m.from, to: m.to, status: SnapshotStatus.Failure });
        }
        return;
      }
      this.stats.delivered++;
      if (this.trace) this.log(`recv ${describeMessage(m)}`);
      try {
        n.raw.step(m);
      } catch (e) {
        // Forwarded proposals may be dropped; responses from removed peers are ignored.
        if (!(e instanceof ProposalDroppedError) && !(e instanceof StepPeerNotFoundError)) throw e;
      }
      if (m.type === MessageType.Snap) {
        this.schedule(this.now + this.delay(), { kind: 'snapStatus', node: m.from, to: m.to, status: SnapshotStatus.Finish });
      }
      this.checker.checkNode(n.raw.raft);
    } else {
      const n = this.nodes.get(item.node);
      if (!n || !n.raw) return;
      if (item.kind === 'snapStatus') n.raw.reportSnapshot(item.to, item.status);
      else n.raw.reportUnreachable(item.to);
      this.checker.checkNode(n.raw.raft);
    }
  }

  // ---- host loop -----------------------------------------------------------------------

  /** Advance virtual time by 1 ms: deliver due messages, tick, process Readies. */
  stepTime(): void {
    const due = this.calendar.get(this.now);
    if (due) {
      this.calendar.delete(this.now);
      // Messages due at the same instant are delivered in random order.
      for (const item of this.rng.shuffle(due)) this.deliver(item);
    }
    for (const n of this.nodes.values()) {
      if (!n.raw) continue;
      if (this.now % TICK_MS === n.tickOffset) {
        n.raw.tick();
        this.checker.checkNode(n.raw.raft);
      }
    }
    for (const n of this.nodes.values()) this.processNode(n);
    if (this.knobs.readOnlyOption === ReadOnlyOption.LeaseBased) {
      this.checker.checkLeases([...this.nodes.values()].filter((n) => n.raw).map((n) => n.raw!.raft));
    }
    this.now++;
  }

  processNode(n: SimNode): void {
    for (let guard = 0; guard < 4 && n.raw; guard++) {
      if (n.pending) {
        if (n.pending.syncAt > this.now) return;
        this.phase2(n);
        continue;
      }
      if (!n.raw.hasReady()) return;
      this.phase1(n);
    }
  }

  /**
   * Phase 1: write the Ready to the disk (not yet synced). A leader may send its appends,
   * snapshots and heartbeats right away, in parallel with its own write — but only if this
   * Ready doesn't change term/vote (those must be durable before anyone hears of them).
   */
  private phase1(n: SimNode): void {
    const raw = n.raw!;
    const rd = raw.ready();
    this.stats.readies++;
    if (rd.snapshot) n.live.applySnapshot(rd.snapshot);
    if (rd.entries.length) {
      this.checker.onAppend(raw.raft, rd.entries);
      n.live.append(rd.entries);
    }
    if (rd.hardState) n.live.setHardState(rd.hardState);
    const dhs = n.durable.initialState().hardState;
    const early =
      raw.raft.state === StateType.Leader && (!rd.hardState || (rd.hardState.term === dhs.term && rd.hardState.vote === dhs.vote));
    const held: Message[] = [];
    for (const m of rd.messages) {
      if (this.unsafeSendBeforeSync || (early && (m.type === MessageType.App || m.type === MessageType.Snap || m.type === MessageType.Heartbeat))) {
        this.send(m);
      }
      else held.push(m);
    }
    if (this.trace && (rd.entries.length || rd.hardState || rd.snapshot || rd.softState)) {
      this.log(
        `n${n.id} ready: ${rd.softState ? `${rd.softState.raftState} lead=${rd.softState.lead} ` : ''}` +
          `${rd.hardState ? `hs=${rd.hardState.term}/${rd.hardState.vote}/${rd.hardState.commit} ` : ''}` +
          `ents=${rd.entries.length ? `${rd.entries[0]!.index}..${rd.entries[rd.entries.length - 1]!.index}` : 0} commit=${rd.committedEntries.length}${rd.snapshot ? ` snap=${rd.snapshot.metadata.index}` : ''}`,
      );
    }
    // Disk latency: often instant, sometimes a few ms, occasionally a slow fsync.
    const r = this.rng.next();
    const syncAt = r < 0.5 ? this.now : r < 0.95 ? this.now + this.rng.int(1, 4) : this.now + this.rng.int(5, 30);
    n.pending = { rd, held, syncAt };
  }

  /** Phase 2: fsync completes; send the held messages, apply, advance. */
  private phase2(n: SimNode): void {
    const raw = n.raw!;
    const { rd, held } = n.pending!;
    n.pending = undefined;
    if (this.trace && (rd.entries.length || rd.snapshot)) this.log(`n${n.id} synced`);
    if (rd.snapshot) n.durable.applySnapshot(rd.snapshot);
    if (rd.entries.length) n.durable.append(rd.entries);
    if (rd.hardState) n.durable.setHardState(rd.hardState);
    for (const m of held) this.send(m);

    let confChanged = false;
    if (rd.snapshot) {
      n.sm = KvStateMachine.restore(rd.snapshot.data);
      n.sm.appliedIndex = rd.snapshot.metadata.index;
      this.checkStateAt(n, rd.snapshot.metadata.index);
      this.stats.snapshotsInstalled++;
      this.log(`n${n.id} applied snapshot ${rd.snapshot.metadata.index}`);
    }
    for (const e of rd.committedEntries) {
      if (e.index !== n.sm.appliedIndex + 1) {
        throw new Error(`n${n.id}: applying ${e.index} after ${n.sm.appliedIndex} (gap or repeat)`);
      }
      this.checker.onApply(n.id, e);
      if (e.type === EntryType.ConfChange) {
        const cc = decodeConfChange(e.data);
        const before = raw.raft.trk.confState();
        const after = raw.applyConfChange(cc);
        confChanged = true;
        this.stats.confChangesApplied++;
        this.log(`n${n.id} applied conf change @${e.index}: voters=${after.voters} out=${after.votersOutgoing} learners=${after.learners}`);
        this.hooks.onConfApplied(n, cc, before, after);
      } else {
        const cmd = decodeCommand(e.data);
        if (cmd) {
          const res = n.sm.apply(cmd);
          this.hooks.onApplied(n, cmd, res);
        }
      }
      n.sm.appliedIndex = e.index;
    }
    for (const rs of rd.readStates) n.readStates.push({ index: rs.index, ctx: bytesToKey(rs.requestCtx) });
    if (!n.raw) return; // destroyed by a conf change hook
    raw.advance();
    this.checker.checkNode(raw.raft);
    this.serveReads(n);
    this.maybeSnapshot(n, confChanged);
  }

  private serveReads(n: SimNode): void {
    if (n.readStates.length === 0) return;
    const rest: { index: number; ctx: string }[] = [];
    for (const rs of n.readStates) {
      if (rs.index <= n.sm.appliedIndex) this.hooks.onReadReady(n, rs.ctx, (k) => n.sm.get(k));
      else rest.push(rs);
    }
    n.readStates = rest;
  }

  /** State machine contents at snapshot points, to compare replicas (and restored snapshots). */
  private statesAt = new Map<number, string>();

  private checkStateAt(n: SimNode, index: number): void {
    const dump = n.sm.dump();
    const prev = this.statesAt.get(index);
    if (prev === undefined) this.statesAt.set(index, dump);
    else if (prev !== dump) throw new SafetyViolation(`state machine safety: n${n.id} state at index ${index} differs from another replica's`);
  }

  snapshotEvery = 30;
  keepEntries = 10;

  /**
   * Log compaction: snapshot the state machine at the applied index every so often, and
   * always after a conf change (a new member needs a snapshot whose ConfState includes it).
   */
  private maybeSnapshot(n: SimNode, confChanged: boolean): void {
    const applied = n.sm.appliedIndex;
    const snapIndex = n.durable.snapshot().metadata.index;
    if (applied <= snapIndex || applied > n.live.lastIndex() || applied > n.durable.lastIndex()) return;
    if (!confChanged && applied - snapIndex < this.snapshotEvery) return;
    this.checkStateAt(n, applied);
    const data = n.sm.snapshot();
    const cs = n.raw!.raft.trk.confState();
    n.live.createSnapshot(applied, cs, data);
    n.durable.createSnapshot(applied, cs, data);
    const compactTo = applied - this.keepEntries;
    if (compactTo > n.live.firstIndex() && compactTo > n.durable.firstIndex()) {
      n.live.compact(compactTo);
      n.durable.compact(compactTo);
    }
    this.log(`n${n.id} snapshot @${applied}, compacted to ${compactTo}`);
  }
}
