import { type Message, ReadOnlyOption } from './types.js';
import { bytesToKey } from './util.js';

export interface ReadIndexStatus {
  req: Message;
  /** Leader's commit index when the request arrived. */
  index: number;
  acks: Map<number, boolean>;
}

/**
 * Pending ReadIndex requests on the leader (etcd read_only.go). Requests are queued in
 * arrival order; a quorum ack of a heartbeat carrying ctx C confirms leadership for C and
 * every request queued before it, which is what lets one heartbeat round serve a batch.
 */
export class ReadOnly {
  private pending = new Map<string, ReadIndexStatus>();
  private queue: string[] = [];

  constructor(readonly option: ReadOnlyOption) {}

  /** Queue a request (ctx = m.entries[0].data); duplicates of a pending ctx are ignored. */
  addRequest(index: number, m: Message): void {
    const ctx = bytesToKey(m.entries[0]!.data);
    if (this.pending.has(ctx)) return;
    this.pending.set(ctx, { req: m, index, acks: new Map() });
    this.queue.push(ctx);
  }

  /** Record an ack for ctx; returns the acks so far, or undefined if ctx is unknown. */
  recvAck(id: number, context: Uint8Array): Map<number, boolean> | undefined {
    const rs = this.pending.get(bytesToKey(context));
    if (!rs) return undefined;
    rs.acks.set(id, true);
    return rs.acks;
  }

  /** Dequeue and return every request up to and including ctx (all confirmed by its quorum). */
  advance(context: Uint8Array): ReadIndexStatus[] {
    const ctx = bytesToKey(context);
    const i = this.queue.indexOf(ctx);
    if (i < 0) return [];
    const done = this.queue.slice(0, i + 1);
    this.queue = this.queue.slice(i + 1);
    const out: ReadIndexStatus[] = [];
    for (const k of done) {
      out.push(this.pending.get(k)!);
      this.pending.delete(k);
    }
    return out;
  }

  lastPendingRequestCtx(): string | undefined {
    return this.queue.length ? this.queue[this.queue.length - 1] : undefined;
  }

  pendingCount(): number {
    return this.queue.length;
  }
}
