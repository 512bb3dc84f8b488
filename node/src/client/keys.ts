// Key helpers: accept strings (UTF-8) or bytes everywhere; compute the exclusive end of a prefix range.

export type KeyLike = string | Uint8Array;

export function toBuffer(k: KeyLike): Buffer {
  if (typeof k === 'string') return Buffer.from(k, 'utf8');
  return Buffer.isBuffer(k) ? k : Buffer.from(k.buffer, k.byteOffset, k.byteLength);
}

/**
 * The smallest key greater than every key with this prefix (exclusive end of the prefix range), or
 * undefined when there is none (empty prefix, or all bytes 0xff): the range then runs to the end.
 */
export function prefixEnd(prefix: Buffer): Buffer | undefined {
  const end = Buffer.from(prefix);
  for (let i = end.length - 1; i >= 0; i--) {
    if (end[i]! < 0xff) {
      end[i]! += 1;
      return end.subarray(0, i + 1);
    }
  }
  return undefined;
}

/** The immediate successor of `key` in byte order (key + 0x00). */
export function keySuccessor(key: Buffer): Buffer {
  return Buffer.concat([key, Buffer.from([0])]);
}
