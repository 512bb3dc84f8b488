// Memcomparable byte encoding (TiKV `codec::bytes::encode_bytes`) and fixed-width big-endian integers.
//
// A user key is cut into groups of 8 bytes; each full group is followed by the marker 0xff, the last
// (possibly empty) group is zero-padded to 8 bytes and followed by 0xff - padCount (padCount in 1..8).
// Properties: order-preserving (a < b  <=>  enc(a) < enc(b) in byte order) and prefix-free (no encoding
// is a proper prefix of another), so a suffix such as a version can be appended without breaking order.

export const ENC_GROUP_SIZE = 8;
const ENC_MARKER = 0xff;

/** Length of the memcomparable encoding of a key of `n` bytes. */
export function encodedLength(n: number): number {
  return (Math.floor(n / ENC_GROUP_SIZE) + 1) * (ENC_GROUP_SIZE + 1);
}

/** Writes enc(key) into `out` at `offset`; returns the offset after it. */
export function encodeBytesInto(key: Uint8Array, out: Buffer, offset: number): number {
  const len = key.length;
  let index = 0;
  let o = offset;
  for (;;) {
    const remain = len - index;
    if (remain > ENC_GROUP_SIZE) {
      for (let i = 0; i < ENC_GROUP_SIZE; i++) out[o++] = key[index + i]!;
      out[o++] = ENC_MARKER;
      index += ENC_GROUP_SIZE;
      continue;
    }
    const pad = ENC_GROUP_SIZE - remain;
    for (let i = 0; i < remain; i++) out[o++] = key[index + i]!;
    for (let i = 0; i < pad; i++) out[o++] = 0;
    out[o++] = ENC_MARKER - pad;
    // remain === 8 needs one more, fully padded, group (pad = 0 is never a last group).
    if (pad === 0) {
      index += ENC_GROUP_SIZE;
      continue;
    }
    return o;
  }
}

export function encodeBytes(key: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(encodedLength(key.length));
  encodeBytesInto(key, out, 0);
  return out;
}

export class CodecError extends Error {
  override readonly name = 'CodecError';
}

/**
 * Decodes a memcomparable key starting at `offset`; returns the key and the offset after the encoding.
 * Throws CodecError on malformed input.
 */
export function decodeBytes(buf: Uint8Array, offset = 0): { key: Buffer; next: number } {
  // First pass: find the length.
  let o = offset;
  let len = 0;
  for (;;) {
    if (o + ENC_GROUP_SIZE + 1 > buf.length) throw new CodecError('truncated memcomparable key');
    const marker = buf[o + ENC_GROUP_SIZE]!;
    if (marker === ENC_MARKER) {
      len += ENC_GROUP_SIZE;
      o += ENC_GROUP_SIZE + 1;
      continue;
    }
    const pad = ENC_MARKER - marker;
    if (pad > ENC_GROUP_SIZE || pad === 0) throw new CodecError('bad memcomparable marker');
    for (let i = ENC_GROUP_SIZE - pad; i < ENC_GROUP_SIZE; i++) {
      if (buf[o + i] !== 0) throw new CodecError('non-zero memcomparable padding');
    }
    len += ENC_GROUP_SIZE - pad;
    o += ENC_GROUP_SIZE + 1;
    break;
  }
  const key = Buffer.allocUnsafe(len);
  let k = 0;
  let p = offset;
  while (k < len) {
    const n = Math.min(ENC_GROUP_SIZE, len - k);
    for (let i = 0; i < n; i++) key[k++] = buf[p + i]!;
    p += ENC_GROUP_SIZE + 1;
  }
  return { key, next: o };
}

/** Offset right after the memcomparable encoding starting at `offset` (no allocation). */
export function skipBytes(buf: Uint8Array, offset: number): number {
  let o = offset;
  for (;;) {
    if (o + ENC_GROUP_SIZE + 1 > buf.length) throw new CodecError('truncated memcomparable key');
    const marker = buf[o + ENC_GROUP_SIZE]!;
    o += ENC_GROUP_SIZE + 1;
    if (marker !== ENC_MARKER) return o;
  }
}

const TWO_32 = 0x1_0000_0000;

/** Writes a non-negative safe integer as a big-endian uint64. */
export function writeU64BE(out: Buffer, offset: number, v: number): void {
  const hi = Math.floor(v / TWO_32);
  out.writeUInt32BE(hi >>> 0, offset);
  out.writeUInt32BE(v >>> 0, offset + 4);
}

export function readU64BE(buf: Buffer, offset: number): number {
  return buf.readUInt32BE(offset) * TWO_32 + buf.readUInt32BE(offset + 4);
}

/** Writes the bitwise complement of `v` as a big-endian uint64 (so larger `v` sorts first). */
export function writeInvertedU64BE(out: Buffer, offset: number, v: number): void {
  const hi = Math.floor(v / TWO_32);
  out.writeUInt32BE((0xffffffff - hi) >>> 0, offset);
  out.writeUInt32BE((0xffffffff - (v >>> 0)) >>> 0, offset + 4);
}

export function readInvertedU64BE(buf: Buffer, offset: number): number {
  return (0xffffffff - buf.readUInt32BE(offset)) * TWO_32 + (0xffffffff - buf.readUInt32BE(offset + 4));
}

export function u64BE(v: number): Buffer {
  const b = Buffer.allocUnsafe(8);
  writeU64BE(b, 0, v);
  return b;
}
