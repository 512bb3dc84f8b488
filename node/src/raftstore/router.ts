// Group id → local Peer. The transport hands every received message to the router, which steps it into
// the replica of its group (messages for unknown groups are dropped: a later stage creates replicas on
// demand from the meta range).
import type { Message } from '../raft/index.js';
import type { EngineEntry } from '../engine/engine.js';
import type { Peer } from './peer.js';

export class Router {
  private readonly peers = new Map<number, Peer>();
  /** Messages dropped because no local replica of their group exists. */
  dropped = 0;
  /** Told about messages for groups without a local replica (the store may create one on demand). */
  onUnknownGroup: ((m: Message) => void) | undefined;

  register(peer: Peer): void {
    this.peers.set(peer.groupId, peer);
  }

  unregister(groupId: number): void {
    this.peers.delete(groupId);
  }

  get(groupId: number): Peer | undefined {
    return this.peers.get(groupId);
  }

  all(): Peer[] {
    return [...this.peers.values()];
  }

  deliver(msgs: Message[]): void {
    for (const m of msgs) {
      const p = this.peers.get(m.groupId);
      if (p === undefined) {
        this.dropped++;
        this.onUnknownGroup?.(m);
      } else p.step(m);
    }
  }

  async deliverSnapshot(m: Message, entries: EngineEntry[]): Promise<void> {
    const p = this.peers.get(m.groupId);
    if (p === undefined) {
      this.onUnknownGroup?.(m);
      throw new Error(`no replica of group ${m.groupId} here (yet)`);
    }
    await p.receiveSnapshot(m, entries);
  }

  unreachable(to: number, groupIds: number[]): void {
    const targets = groupIds.length > 0 ? groupIds.map((g) => this.peers.get(g)).filter((p): p is Peer => p !== undefined) : this.all();
    for (const p of targets) p.reportUnreachable(to);
  }
}
