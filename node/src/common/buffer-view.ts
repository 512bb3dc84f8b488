// A Buffer over a Uint8Array's bytes without copying them (Buffer.from(Uint8Array) copies): Raft
// payloads and encodings arrive as Uint8Arrays and are read or stored through Buffer methods.

/** A Buffer sharing `u`'s bytes. */
export const bufferView = (u: Uint8Array): Buffer => Buffer.from(u.buffer, u.byteOffset, u.byteLength);
