// Durable Raft state of one group on the node's engine, mirrored in a MemoryStorage for the
// synchronous reads the Raft core does (docs/raft.md "Storage on a real disk").
//
// Engine key layout (a key space of its own, beside the data 'z'/'l' and the local 0x01 spaces):
//   0x02 | groupId (u64 BE) | 0x01                 → HardState (encodeHardState)
//   0x02 | groupId | 0x02                          → truncated state: SnapshotMetadata {index, term, confState}
//                                                    (the log starts after `index`)
//   0x02 | groupId | 0x03                          → applied ConfState (written in the apply batch of
//                                                    every conf change; the config the node restarts with)
//   0x02 | groupId | 0x04                          → address book (JSON {raftId: raftAddress})
//   0x02 | groupId | 0x05                          → "snapshot being installed" marker
//   0x02 | groupId | 0x06                          → identity registry (JSON {raftId: incarnation}; applied
//                                                    identity entries, raftstore/identity.ts)
//   0x02 | groupId | 0x10 | index (u64 BE)         → Entry (encodeEntry)
//
// Snapshots are generated on demand (see `snapshot()`): the host takes an engine snapshot between two
// applies, so its contents are exactly the state at the applied index; the Raft snapshot carries only a
// small header (address book) and the state itself is streamed by the transport.
import { deleteSpan, type Engine, type EngineOp, type EngineSnapshot } from '../engine/engine.js';
import {
  type ConfState,
  type Entry,
  type HardState,
  type InitialState,
  type Snapshot,
  type SnapshotMetadata,
  type Storage,
  MemoryStorage,
  SnapshotTemporarilyUnavailableError,
  decodeConfState,
  decodeEntry,
  decodeHardState,
  decodeSnapshotMetadata,
  emptyConfState,
  encodeConfState,
  encodeEntry,
  encodeHardState,
  encodeSnapshotMetadata,
} from '../raft/index.js';
import { IdentityRegistry } from './identity.js';
import { bufferView } from '../common/buffer-view.js';

export const RAFT_PREFIX = 0x02;
const K_HARD = 0x01;
const K_TRUNC = 0x02;
const K_CONF = 0x03;
const K_ADDRS = 0x04;
const K_MARKER = 0x05;
const K_IDENT = 0x06;
const K_ENTRY = 0x10;

function groupKey(groupId: number, kind: number, index?: number): Buffer {
  const b = Buffer.alloc(index === undefined ? 10 : 18);
  b[0] = RAFT_PREFIX;
  b.writeBigUInt64BE(BigInt(groupId), 1);
  b[9] = kind;
  if (index !== undefined) b.writeBigUInt64BE(BigInt(index), 10);
  return b;
}

export const raftKeys = {
  hardState: (g: number) => groupKey(g, K_HARD),
  truncated: (g: number) => groupKey(g, K_TRUNC),
  confState: (g: number) => groupKey(g, K_CONF),
  addresses: (g: number) => groupKey(g, K_ADDRS),
  marker: (g: number) => groupKey(g, K_MARKER),
  identities: (g: number) => groupKey(g, K_IDENT),
  entry: (g: number, i: number) => groupKey(g, K_ENTRY, i),
  entriesStart: (g: number) => groupKey(g, K_ENTRY),
  entriesEnd: (g: number) => groupKey(g, K_ENTRY + 1),
  /** Every Raft key of group g: [0x02 | g, 0x02 | g+1). */
  group: (g: number) => ({ start: groupPrefix(g), end: groupPrefix(g + 1) }),
};

function groupPrefix(groupId: number): Buffer {
  const b = Buffer.alloc(9);
  b[0] = RAFT_PREFIX;
  b.writeBigUInt64BE(BigInt(groupId), 1);
  return b;
}

/** The small payload of a Raft snapshot; the state travels separately (transport snapshot stream). */
export interface SnapshotHeader {
  addresses: Record<string, string>;
  /** Identity registry at the snapshot's index (raft id → incarnation): a new member must know it too. */
  incarnations?: Record<string, string>;
}

export function encodeSnapshotHeader(h: SnapshotHeader): Uint8Array {
  return Buffer.from(JSON.stringify(h));
}

export function decodeSnapshotHeader(data: Uint8Array): SnapshotHeader {
  if (data.length === 0) return { addresses: {} };
  try {
    const h = JSON.parse(Buffer.from(data).toString('utf8')) as SnapshotHeader;
    return { addresses: h.addresses ?? {}, incarnations: h.incarnations ?? {} };
  } catch {
    return { addresses: {} };
  }
}

/** A generated snapshot: metadata + an engine snapshot holding the state at metadata.index. */
export interface GeneratedSnapshot {
  snapshot: Snapshot;
  engineSnapshot: EngineSnapshot;
  refs: number;
  stale: boolean;
  /** The user-key span of the range at the snapshot's index (what the transfer exports). */
  span?: { start: Buffer; end: Buffer };
}

export interface OpenOptions {
  /** Initial voters when the group is new here (bootstrap); undefined = start empty (join). */
  bootstrapVoters?: number[];
  /** Initial address book written at bootstrap. */
  addresses?: Map<number, string>;
  /** This node's identity registry (filled from the engine here); default: one without an incarnation. */
  identity?: IdentityRegistry;
}

export class PeerStorage implements Storage {
  readonly mem = new MemoryStorage();
  /** Durable hard state (what is on disk). */
  hardState: HardState = { term: 0, vote: 0, commit: 0 };
  /** The applied configuration as persisted. */
  confState: ConfState = emptyConfState();
  addresses = new Map<number, string>();
  /** Replicated identity registry (raft id → data-dir incarnation) and this node's refusals. */
  readonly identity: IdentityRegistry;
  /** Ids whose address came from this start's config: replicated address updates never override them. */
  private readonly configured = new Set<number>();

  /** Records a replicated address (conf change context, snapshot header) unless configured locally. */
  learnAddress(id: number, address: string): void {
    if (!this.configured.has(id)) this.addresses.set(id, address);
  }
  /** Set by snapshot() when raft asked for a snapshot that does not exist yet. */
  snapshotRequested = false;
  private generated: GeneratedSnapshot | undefined;
  /** Whether the storage was found empty (a joining node). */
  empty = false;

  private constructor(readonly engine: Engine, readonly groupId: number, identity: IdentityRegistry | undefined) {
    this.identity = identity ?? new IdentityRegistry(0, '');
  }

  /**
   * The Raft state of a range created by a split (written in the parent's apply batch, docs/sharding.md
   * "Splits"): log truncated at SPLIT_INIT_INDEX/term, the parent's configuration and address book and
   * identity records. Every replica of the parent writes the same state at the same log position.
   */
  static splitInitOps(groupId: number, initIndex: number, confState: ConfState, addresses: ReadonlyMap<number, string>, identities: Record<string, string>): EngineOp[] {
    const meta: SnapshotMetadata = { index: initIndex, term: initIndex, confState: structuredClone(confState) };
    const addrs: Record<string, string> = {};
    for (const [k, v] of [...addresses].sort((a, b) => a[0] - b[0])) addrs[String(k)] = v;
    return [
      { type: 'put', key: raftKeys.truncated(groupId), value: Buffer.from(encodeSnapshotMetadata(meta)) },
      { type: 'put', key: raftKeys.confState(groupId), value: Buffer.from(encodeConfState(confState)) },
      { type: 'put', key: raftKeys.hardState(groupId), value: Buffer.from(encodeHardState({ term: initIndex, vote: 0, commit: initIndex })) },
      { type: 'put', key: raftKeys.addresses(groupId), value: Buffer.from(JSON.stringify(addrs)) },
      { type: 'put', key: raftKeys.identities(groupId), value: Buffer.from(JSON.stringify(identities)) },
    ];
  }

  /** Group ids with Raft state in the engine (every range replica this store holds). */
  static async groupsIn(engine: Engine): Promise<number[]> {
    const out: number[] = [];
    let from: Buffer = Buffer.from([RAFT_PREFIX]);
    const end = Buffer.from([RAFT_PREFIX + 1]);
    // One seek per group: jump past each group's keys.
    for (;;) {
      const it = engine.iterator({ gte: from, lt: end, limit: 1 });
      let batch: Array<[Buffer, Buffer]>;
      try {
        batch = await it.nextBatch(1);
      } finally {
        await it.close();
      }
      if (batch.length === 0) return out;
      const k = batch[0]![0];
      const g = Number(k.readBigUInt64BE(1));
      out.push(g);
      from = raftKeys.group(g).end;
    }
  }

  static async open(engine: Engine, groupId: number, opts: OpenOptions = {}): Promise<PeerStorage> {
    const s = new PeerStorage(engine, groupId, opts.identity);
    await s.load(opts);
    return s;
  }

  private async load(opts: OpenOptions): Promise<void> {
    const g = this.groupId;
    const [hs, trunc, conf, addrs, marker, idents] = await this.engine.getMany([
      raftKeys.hardState(g),
      raftKeys.truncated(g),
      raftKeys.confState(g),
      raftKeys.addresses(g),
      raftKeys.marker(g),
      raftKeys.identities(g),
    ]);
    // Kept even across a half-installed snapshot: records only ever come from committed entries.
    if (idents !== undefined) this.identity.load(JSON.parse(idents.toString('utf8')) as Record<string, string>);
    if (addrs !== undefined) this.addresses = new Map(Object.entries(JSON.parse(addrs.toString('utf8')) as Record<string, string>).map(([k, v]) => [Number(k), v]));
    // Peer addresses are plain config: what this start was given wins over the persisted book (a member
    // whose address changed, or a proxy put in between); members added later keep their recorded address.
    for (const [id, a] of opts.addresses ?? []) {
      this.addresses.set(id, a);
      this.configured.add(id);
    }
    if (marker !== undefined) {
      // Crashed while installing a snapshot: the state is partial. Forget log and config (keep term and
      // vote: never vote twice in a term) and wait for the leader to send a snapshot again.
      const hard = hs !== undefined ? decodeHardState(hs) : { term: 0, vote: 0, commit: 0 };
      await this.wipeLog();
      const ops: EngineOp[] = [
        { type: 'del', key: raftKeys.truncated(g) },
        { type: 'del', key: raftKeys.confState(g) },
        { type: 'put', key: raftKeys.hardState(g), value: Buffer.from(encodeHardState({ term: hard.term, vote: hard.vote, commit: 0 })) },
        { type: 'del', key: raftKeys.marker(g) },
      ];
      await this.engine.write(ops, { sync: true });
      this.hardState = { term: hard.term, vote: hard.vote, commit: 0 };
      this.mem.setHardState(this.hardState);
      this.empty = true;
      return;
    }
    if (hs === undefined && trunc === undefined) {
      if (opts.bootstrapVoters === undefined || opts.bootstrapVoters.length === 0) {
        this.empty = true;
        return;
      }
      // Bootstrap (docs/raft.md): an empty snapshot at index 1, term 1 carrying the initial voters.
      const cs: ConfState = { ...emptyConfState(), voters: [...opts.bootstrapVoters].sort((a, b) => a - b) };
      const meta: SnapshotMetadata = { index: 1, term: 1, confState: cs };
      this.hardState = { term: 1, vote: 0, commit: 1 };
      this.confState = cs;
      await this.engine.write(
        [
          { type: 'put', key: raftKeys.truncated(g), value: Buffer.from(encodeSnapshotMetadata(meta)) },
          { type: 'put', key: raftKeys.confState(g), value: Buffer.from(encodeConfState(cs)) },
          { type: 'put', key: raftKeys.hardState(g), value: Buffer.from(encodeHardState(this.hardState)) },
          this.addressesOp(),
        ],
        { sync: true },
      );
      this.mem.applySnapshot({ metadata: meta, data: new Uint8Array(0) });
      this.mem.setHardState(this.hardState);
      return;
    }
    const meta: SnapshotMetadata = trunc !== undefined ? decodeSnapshotMetadata(trunc) : { index: 0, term: 0, confState: emptyConfState() };
    this.confState = conf !== undefined ? decodeConfState(conf) : meta.confState;
    if (meta.index > 0) this.mem.applySnapshot({ metadata: { ...meta, confState: this.confState }, data: new Uint8Array(0) });
    if (hs !== undefined) this.hardState = decodeHardState(hs);
    this.mem.setHardState(this.hardState);
    // The log after the truncated index, in order and contiguous.
    const it = this.engine.iterator({ gt: raftKeys.entry(g, meta.index), lt: raftKeys.entriesEnd(g) });
    try {
      let expect = meta.index + 1;
      for (;;) {
        const batch = await it.nextBatch(1024);
        if (batch.length === 0) break;
        const ents: Entry[] = [];
        for (const [, v] of batch) {
          const e = decodeEntry(v);
          if (e.index !== expect) throw new Error(`raft log of group ${g} has a gap at ${expect} (found ${e.index})`);
          expect++;
          ents.push(e);
        }
        this.mem.append(ents);
      }
    } finally {
      await it.close();
    }
  }

  private async wipeLog(): Promise<void> {
    const g = this.groupId;
    await deleteSpan(this.engine, raftKeys.entriesStart(g), raftKeys.entriesEnd(g));
  }

  addressesOp(): EngineOp {
    const obj: Record<string, string> = {};
    for (const [k, v] of [...this.addresses].sort((a, b) => a[0] - b[0])) obj[String(k)] = v;
    return { type: 'put', key: raftKeys.addresses(this.groupId), value: Buffer.from(JSON.stringify(obj)) };
  }

  /** Op persisting the identity registry (in the apply batch of an identity entry, after a snapshot). */
  identitiesOp(): EngineOp {
    return { type: 'put', key: raftKeys.identities(this.groupId), value: Buffer.from(JSON.stringify(this.identity.toJSON())) };
  }

  // ---- Storage (read side, synchronous) ----
  initialState(): InitialState {
    const s = this.mem.initialState();
    return { hardState: s.hardState, confState: this.confState };
  }
  entries(lo: number, hi: number, maxSize: number): Entry[] {
    return this.mem.entries(lo, hi, maxSize);
  }
  term(i: number): number {
    return this.mem.term(i);
  }
  lastIndex(): number {
    return this.mem.lastIndex();
  }
  firstIndex(): number {
    return this.mem.firstIndex();
  }
  /**
   * The snapshot to send to a follower that needs entries below firstIndex. Generated by the host
   * between two applies (`generateSnapshot`); until one exists, raft is told to retry later.
   */
  snapshot(): Snapshot {
    const g = this.generated;
    // A snapshot from before the latest applied conf change would carry an outdated config (a new
    // learner would refuse it as "not in the ConfState"): regenerate.
    if (g !== undefined && !g.stale && g.snapshot.metadata.index >= this.mem.firstIndex() - 1 && g.snapshot.metadata.index >= this.confIndex) return g.snapshot;
    this.snapshotRequested = true;
    throw new SnapshotTemporarilyUnavailableError();
  }

  get generatedSnapshot(): GeneratedSnapshot | undefined {
    return this.generated;
  }

  /**
   * Records a snapshot of the applied state at `appliedIndex`. MUST be called when no apply is in
   * flight (the engine then holds exactly the state at appliedIndex).
   */
  generateSnapshot(appliedIndex: number, span?: { start: Buffer; end: Buffer }): GeneratedSnapshot {
    const old = this.generated;
    if (old !== undefined) {
      old.stale = true;
      if (old.refs === 0) void old.engineSnapshot.release().catch(() => undefined);
    }
    const addresses: Record<string, string> = {};
    for (const [k, v] of this.addresses) addresses[String(k)] = v;
    const snapshot: Snapshot = {
      metadata: { index: appliedIndex, term: this.mem.term(appliedIndex), confState: structuredClone(this.confState) },
      data: encodeSnapshotHeader({ addresses, incarnations: this.identity.toJSON() }),
    };
    this.generated = { snapshot, engineSnapshot: this.engine.snapshot(), refs: 0, stale: false, ...(span !== undefined ? { span } : {}) };
    this.snapshotRequested = false;
    return this.generated;
  }

  /** Pins the engine snapshot of `index` for a transfer; returns undefined if it is gone. */
  acquireSnapshot(index: number): GeneratedSnapshot | undefined {
    const g = this.generated;
    if (g === undefined || g.snapshot.metadata.index !== index) return undefined;
    g.refs++;
    return g;
  }

  releaseSnapshot(g: GeneratedSnapshot): void {
    g.refs--;
    if (g.refs === 0 && g.stale) void g.engineSnapshot.release().catch(() => undefined);
  }

  // ---- Write side (host, after each Ready) ----

  /** Engine ops persisting `entries` (truncating a conflicting suffix) and `hardState`. */
  appendOps(entries: readonly Entry[], hardState: HardState | undefined): EngineOp[] {
    const g = this.groupId;
    const ops: EngineOp[] = [];
    if (entries.length > 0) {
      for (const e of entries) ops.push({ type: 'put', key: raftKeys.entry(g, e.index), value: bufferView(encodeEntry(e)) });
      const newLast = entries[entries.length - 1]!.index;
      for (let i = newLast + 1; i <= this.mem.lastIndex(); i++) ops.push({ type: 'del', key: raftKeys.entry(g, i) });
    }
    if (hardState !== undefined) ops.push({ type: 'put', key: raftKeys.hardState(g), value: bufferView(encodeHardState(hardState)) });
    return ops;
  }

  /**
   * A commit-only hard state the host does not write on its own (it rides in the next log write):
   * remembered as the latest hard state. Term and vote are unchanged, so what is durable of them stays true.
   */
  noteHardState(hardState: HardState): void {
    this.hardState = { ...hardState };
    this.mem.setHardState(hardState);
  }

  /**
   * At start: the commit index is persisted lazily while the applied index is written with the data,
   * so after a crash the stored commit may lag the applied index. Applied entries were committed (and
   * durable in the log first): raise the commit to it so raft starts consistent.
   */
  raiseCommit(applied: number): void {
    const to = Math.min(applied, this.mem.lastIndex());
    if (this.hardState.commit >= to) return;
    this.hardState = { ...this.hardState, commit: to };
    this.mem.setHardState(this.hardState);
  }

  /** After the ops of appendOps were written: mirror them in memory. */
  appended(entries: readonly Entry[], hardState: HardState | undefined): void {
    if (entries.length > 0) this.mem.append(entries);
    if (hardState !== undefined) {
      this.hardState = { ...hardState };
      this.mem.setHardState(hardState);
    }
  }

  /** Ops that replace the log by a received snapshot's metadata (plus the install marker). */
  snapshotOps(snap: Snapshot, hardState: HardState): EngineOp[] {
    const g = this.groupId;
    const ops: EngineOp[] = [];
    for (let i = this.mem.firstIndex(); i <= this.mem.lastIndex(); i++) ops.push({ type: 'del', key: raftKeys.entry(g, i) });
    ops.push({ type: 'put', key: raftKeys.marker(g), value: Buffer.from([1]) });
    ops.push({ type: 'put', key: raftKeys.truncated(g), value: Buffer.from(encodeSnapshotMetadata(snap.metadata)) });
    ops.push({ type: 'put', key: raftKeys.confState(g), value: Buffer.from(encodeConfState(snap.metadata.confState)) });
    ops.push({ type: 'put', key: raftKeys.hardState(g), value: bufferView(encodeHardState(hardState)) });
    return ops;
  }

  snapshotApplied(snap: Snapshot, hardState: HardState): void {
    this.mem.applySnapshot({ metadata: snap.metadata, data: new Uint8Array(0) });
    this.confState = structuredClone(snap.metadata.confState);
    this.hardState = { ...hardState };
    this.mem.setHardState(hardState);
    const h = decodeSnapshotHeader(snap.data);
    for (const [k, v] of Object.entries(h.addresses)) this.learnAddress(Number(k), v);
    this.identity.load(h.incarnations ?? {});
  }

  markerClearOp(): EngineOp {
    return { type: 'del', key: raftKeys.marker(this.groupId) };
  }

  /** Index of the latest conf change applied since start (snapshots older than it are regenerated). */
  confIndex = 0;

  /** Op persisting the applied config (goes into the apply batch of the conf change at `index`). */
  confStateOp(cs: ConfState, index = 0): EngineOp {
    this.confState = structuredClone(cs);
    if (index > this.confIndex) this.confIndex = index;
    return { type: 'put', key: raftKeys.confState(this.groupId), value: Buffer.from(encodeConfState(cs)) };
  }

  /**
   * Discards log entries up to `index` (≤ applied). The entry at `index` becomes the truncated state.
   * Writes first, then trims the in-memory log.
   */
  async compact(index: number): Promise<boolean> {
    const first = this.mem.firstIndex();
    if (index < first || index > this.mem.lastIndex()) return false;
    const g = this.groupId;
    const meta: SnapshotMetadata = { index, term: this.mem.term(index), confState: this.confState };
    const ops: EngineOp[] = [{ type: 'put', key: raftKeys.truncated(g), value: Buffer.from(encodeSnapshotMetadata(meta)) }];
    for (let i = first; i <= index; i++) ops.push({ type: 'del', key: raftKeys.entry(g, i) });
    await this.engine.write(ops);
    this.mem.compact(index);
    return true;
  }

  /** Releases the generated snapshot. */
  close(): void {
    const g = this.generated;
    this.generated = undefined;
    if (g !== undefined) {
      g.stale = true;
      if (g.refs === 0) void g.engineSnapshot.release().catch(() => undefined);
    }
  }
}
