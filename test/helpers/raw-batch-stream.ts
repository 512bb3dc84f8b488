// A raw kvs.v1.Kv/BatchStream for tests that hand-build frames (no client library): write frames,
// collect the decoded reply frames (per frame, every reply per request id, the latest per id), the
// server's announced max request frame size and the final status.
import * as grpc from '@grpc/grpc-js';
import { decodeResponseFrame, type DecodedSubResponse } from '../../node/src/common/stream-frames.js';

export class RawBatchStream {
  readonly frames: DecodedSubResponse[][] = [];
  /** Every reply per request id (a well-behaved server sends exactly one). */
  readonly replies = new Map<number, DecodedSubResponse[]>();
  /** The latest reply per request id. */
  readonly byId = new Map<number, DecodedSubResponse>();
  maxRequestFrameBytes = 0;
  status: grpc.StatusObject | undefined;
  readonly call: grpc.ClientDuplexStream<Buffer, Buffer>;
  private readonly client: grpc.Client;
  private waiters: Array<() => void> = [];

  constructor(endpoint: string) {
    this.client = new grpc.Client(endpoint, grpc.credentials.createInsecure());
    const ident = (b: Buffer) => b;
    this.call = this.client.makeBidiStreamRequest('/kvs.v1.Kv/BatchStream', ident, ident);
    this.call.on('data', (f: Buffer) => {
      const d = decodeResponseFrame(f);
      if (d.maxRequestFrameBytes) this.maxRequestFrameBytes = d.maxRequestFrameBytes;
      this.frames.push(d.responses);
      for (const r of d.responses) {
        this.replies.set(r.requestId, [...(this.replies.get(r.requestId) ?? []), r]);
        this.byId.set(r.requestId, r);
      }
      this.wake();
    });
    this.call.on('error', () => undefined); // the outcome is in `status`
    this.call.on('status', (s: grpc.StatusObject) => {
      this.status = s;
      this.wake();
    });
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  /** Writes one frame made of these encoded sub-requests (or one raw frame). */
  send(...items: Buffer[]): void {
    this.call.write(items.length === 1 ? items[0]! : Buffer.concat(items));
  }

  /** Waits (woken by every reply frame and the status) until cond holds. */
  async until(cond: () => boolean, what = 'a condition', ms = 10_000): Promise<void> {
    const deadline = Date.now() + ms;
    while (!cond()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise<void>((r) => {
        this.waiters.push(r);
        setTimeout(r, 50);
      });
    }
  }

  close(): void {
    this.call.cancel();
    this.client.close();
  }
}
