/**
 * Sliding window of in-flight MsgApp messages to one follower (by last entry index), bounded
 * by count and optionally bytes. When full, the leader stops sending appends to that peer
 * until acknowledgements free slots (flow control for pipelined replication).
 */
export class Inflights {
  private buf: { index: number; bytes: number }[] = [];
  private start = 0; // ring start; we compact lazily instead of a true ring for simplicity
  private bytes = 0;

  constructor(
    readonly size: number,
    readonly maxBytes: number = 0,
  ) {}

  clone(): Inflights {
    const c = new Inflights(this.size, this.maxBytes);
    c.buf = this.buf.slice(this.start);
    c.bytes = this.bytes;
    return c;
  }

  add(index: number, bytes = 0): void {
    if (this.full()) throw new Error('cannot add into a full inflights');
    this.buf.push({ index, bytes });
    this.bytes += bytes;
  }

  /** Free all inflight messages with index ≤ to (they were acknowledged). */
  freeLE(to: number): void {
    while (this.start < this.buf.length && this.buf[this.start]!.index <= to) {
      this.bytes -= this.buf[this.start]!.bytes;
      this.start++;
    }
    if (this.start > 64 && this.start * 2 > this.buf.length) {
      this.buf = this.buf.slice(this.start);
      this.start = 0;
    }
  }

  /** Free the oldest slot; used on heartbeat response to unstick a window full of lost messages. */
  freeFirstOne(): void {
    if (this.count() > 0) this.freeLE(this.buf[this.start]!.index);
  }

  full(): boolean {
    return this.count() >= this.size || (this.maxBytes !== 0 && this.bytes >= this.maxBytes);
  }

  count(): number {
    return this.buf.length - this.start;
  }

  reset(): void {
    this.buf = [];
    this.start = 0;
    this.bytes = 0;
  }
}
