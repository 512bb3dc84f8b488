// The wire form of a follower replica's timestamp promise request (Peer.promiseTs): a ReadIndex message
// whose context carries this marker goes to the leader's Peer, never into its raft core, and is answered
// by a ReadIndexResp with the same context — index = the leader's last index when it promised, reject =
// it could not promise (the follower then raises its snapshot through the log). Pure: encode/decode.

const MAGIC = Buffer.from('KVSP');
const LEN = MAGIC.length + 8 + 4;

export interface PromiseRequest {
  ts: number;
  /** The asking replica's request number (matches the answer to its waiter). */
  seq: number;
}

export function encodePromiseMarker(p: PromiseRequest): Uint8Array {
  const b = Buffer.alloc(LEN);
  MAGIC.copy(b, 0);
  b.writeBigUInt64BE(BigInt(p.ts), MAGIC.length);
  b.writeUInt32BE(p.seq >>> 0, MAGIC.length + 8);
  return b;
}

/** The request if `ctx` is a promise marker, else undefined (a read-index context, or none). */
export function decodePromiseMarker(ctx: Uint8Array): PromiseRequest | undefined {
  if (ctx.length !== LEN) return undefined;
  const b = Buffer.from(ctx.buffer, ctx.byteOffset, ctx.byteLength);
  if (!b.subarray(0, MAGIC.length).equals(MAGIC)) return undefined;
  return { ts: Number(b.readBigUInt64BE(MAGIC.length)), seq: b.readUInt32BE(MAGIC.length + 8) };
}
