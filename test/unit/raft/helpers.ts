// Test harness for the Raft core, modelled on etcd's raft_test.go network.
import {
  MemoryStorage,
  Raft,
  type RaftConfig,
  type Message,
  MessageType,
  type Entry,
  ProposalDroppedError,
  StateType,
  msg,
  describeMessage,
  keyToBytes,
  mulberry32,
  EntryType,
  decodeConfChange,
} from '../../../node/src/raft/index.js';

export const te = new TextEncoder();
export const td = new TextDecoder();
export const bytes = (s: string): Uint8Array => te.encode(s);

export function newTestConfig(id: number, election: number, heartbeat: number, storage: MemoryStorage, extra: Partial<RaftConfig> = {}): RaftConfig {
  return {
    id,
    electionTick: election,
    heartbeatTick: heartbeat,
    storage,
    maxSizePerMsg: Number.MAX_SAFE_INTEGER,
    maxInflightMsgs: 256,
    rand: mulberry32(id),
    ...extra,
  };
}

export function newStorage(voters: number[], learners: number[] = []): MemoryStorage {
  return MemoryStorage.withConfState(voters, learners);
}

/** A raft plus its storage; `persist` models a host that durably writes every Ready at once. */
export class TestNode {
  constructor(
    public raft: Raft,
    public storage: MemoryStorage,
  ) {}

  static create(id: number, peers: number[], election = 10, heartbeat = 1, extra: Partial<RaftConfig> = {}, learners: number[] = []): TestNode {
    const s = newStorage(peers, learners);
    return new TestNode(new Raft(newTestConfig(id, election, heartbeat, s, extra)), s);
  }

  get id(): number {
    return this.raft.id;
  }

  /** Write unstable snapshot/entries/hardState to storage and let raft know (incl. leader self-ack). */
  persist(): void {
    const r = this.raft;
    const snap = r.raftLog.unstable.snapshot;
    if (snap) {
      this.storage.applySnapshot(snap);
      r.raftLog.stableSnapTo(snap.metadata.index);
    }
    const ents = r.raftLog.unstableEntries();
    if (ents.length) {
      this.storage.append(ents);
      const last = ents[ents.length - 1]!;
      r.raftLog.stableTo(last.index, last.term);
      r.selfAck(r.raftLog.stableLastIndex());
    }
    this.storage.setHardState(r.hardState());
  }

  /** Apply all committed entries (conf changes via applyConfChange, like a host), then mark applied. */
  applyCommitted(): Entry[] {
    const ents = this.raft.raftLog.nextCommittedEnts();
    for (const e of ents) {
      if (e.type === EntryType.ConfChange) this.raft.applyConfChange(decodeConfChange(e.data));
    }
    if (ents.length) this.raft.appliedTo(ents[ents.length - 1]!.index);
    return ents;
  }

  readMessages(): Message[] {
    this.raft.flushReadIndex();
    const m = this.raft.msgs;
    this.raft.msgs = [];
    return m;
  }

  step(m: Message): void {
    try {
      this.raft.step(m);
    } catch (e) {
      if (!(e instanceof ProposalDroppedError)) throw e;
    }
  }
}

export function connKey(from: number, to: number): string {
  return `${from}-${to}`;
}

/**
 * Synchronous in-memory network: send() delivers messages breadth-first until quiescent,
 * persisting each node after every step (a host that always syncs before sending).
 */
export class Network {
  nodes = new Map<number, TestNode>();
  private dropm = new Map<string, number>();
  private ignorem = new Set<MessageType>();
  private rnd = mulberry32(12345);
  /** Messages delivered, in order (for transcript assertions). */
  trace: string[] = [];
  recordTrace = false;
  msgHook: ((m: Message) => boolean) | undefined;

  constructor(nodes: TestNode[]) {
    for (const n of nodes) this.nodes.set(n.id, n);
  }

  static ofSize(n: number, extra: Partial<RaftConfig> = {}, election = 10): Network {
    const ids = Array.from({ length: n }, (_, i) => i + 1);
    return new Network(ids.map((id) => TestNode.create(id, ids, election, 1, extra)));
  }

  node(id: number): TestNode {
    return this.nodes.get(id)!;
  }

  raft(id: number): Raft {
    return this.node(id).raft;
  }

  send(...msgs: Message[]): void {
    const q = [...msgs];
    while (q.length) {
      const m = q.shift()!;
      const n = this.nodes.get(m.to);
      if (!n) continue;
      if (this.recordTrace) this.trace.push(describeMessage(m));
      n.step(m);
      n.persist();
      q.push(...this.filter(n.readMessages()));
    }
  }

  /** Persist + flush all nodes' pending output (e.g. after ticks or local API calls). */
  flush(): void {
    const out: Message[] = [];
    for (const n of this.nodes.values()) {
      n.persist();
      out.push(...this.filter(n.readMessages()));
    }
    if (out.length) this.send(...out);
  }

  campaign(id: number): void {
    this.send(msg({ type: MessageType.Hup, from: id, to: id }));
  }

  propose(id: number, data: string): void {
    this.send(msg({ type: MessageType.Prop, from: id, to: id, entries: [{ term: 0, index: 0, type: 0, data: bytes(data) }] }));
  }

  drop(from: number, to: number, perc: number): void {
    this.dropm.set(connKey(from, to), perc);
  }

  cut(a: number, b: number): void {
    this.drop(a, b, 2);
    this.drop(b, a, 2);
  }

  isolate(id: number): void {
    for (const other of this.nodes.keys()) {
      if (other !== id) this.cut(id, other);
    }
  }

  ignore(t: MessageType): void {
    this.ignorem.add(t);
  }

  recover(): void {
    this.dropm.clear();
    this.ignorem.clear();
  }

  private filter(msgs: Message[]): Message[] {
    return msgs.filter((m) => {
      if (this.ignorem.has(m.type)) return false;
      if (m.type === MessageType.Hup) throw new Error('unexpected MsgHup');
      const perc = this.dropm.get(connKey(m.from, m.to)) ?? 0;
      if (perc > 0 && this.rnd() < perc) return false;
      if (this.msgHook && !this.msgHook(m)) return false;
      return true;
    });
  }
}

export function ents(...terms: number[]): Entry[] {
  return terms.map((t, i) => ({ term: t, index: i + 1, type: 0, data: new Uint8Array(0) }));
}

/** Storage pre-populated with entries of the given terms at indexes 1..n. */
export function storageWithLog(voters: number[], terms: number[], term = 0): MemoryStorage {
  const s = newStorage(voters);
  s.append(ents(...terms));
  if (term) s.setHardState({ term, vote: 0, commit: 0 });
  return s;
}

export function ctx(s: string): Uint8Array {
  return keyToBytes(s);
}

export function leaderOf(net: Network): number {
  for (const n of net.nodes.values()) if (n.raft.state === StateType.Leader) return n.id;
  return 0;
}

export function tickN(r: Raft, n: number): void {
  for (let i = 0; i < n; i++) r.tick();
}

export function types(msgs: Message[]): string[] {
  return msgs.map((m) => MessageType[m.type]);
}
