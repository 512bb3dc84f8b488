import { type Entry, type Message, MessageType, EntryType } from './types.js';

/** Approximate encoded size of an entry; used for batching limits, not exact wire size. */
export function entrySize(e: Entry): number {
  return e.data.length + 24;
}

export function entsSize(ents: readonly Entry[]): number {
  let s = 0;
  for (const e of ents) s += entrySize(e);
  return s;
}

/** Payload bytes only; counts against the uncommitted-size quota. */
export function payloadSize(ents: readonly Entry[]): number {
  let s = 0;
  for (const e of ents) s += e.data.length;
  return s;
}

/**
 * Returns the longest prefix of `ents` whose size stays within maxSize, but always at
 * least one entry (so progress is possible even with a huge entry).
 */
export function limitSize(ents: Entry[], maxSize: number): Entry[] {
  if (ents.length === 0) return ents;
  let size = entrySize(ents[0]!);
  let limit = 1;
  for (; limit < ents.length; limit++) {
    size += entrySize(ents[limit]!);
    if (size > maxSize) break;
  }
  return limit === ents.length ? ents : ents.slice(0, limit);
}

export function bytesToKey(b: Uint8Array): string {
  // Latin-1 string: one char per byte, lossless and cheap to compare.
  let s = '';
  for (let i = 0; i < b.length; i++) s += String.fromCharCode(b[i]!);
  return s;
}

export function keyToBytes(s: string): Uint8Array {
  const b = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) b[i] = s.charCodeAt(i);
  return b;
}

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export function describeEntry(e: Entry): string {
  const kind = e.type === EntryType.ConfChange ? 'CC' : '';
  return `${e.term}/${e.index}${kind}`;
}

/** Compact human-readable form, used by transcript tests and the simulator trace. */
export function describeMessage(m: Message): string {
  let s = `${m.from}->${m.to} ${MessageType[m.type]} Term:${m.term}`;
  switch (m.type) {
    case MessageType.App:
      s += ` Log:${m.logTerm}/${m.index} Commit:${m.commit}`;
      if (m.entries.length) s += ` Entries:[${m.entries.map(describeEntry).join(' ')}]`;
      break;
    case MessageType.AppResp:
      s += m.reject ? ` Rejected (Hint: ${m.rejectHint}/${m.logTerm}) Index:${m.index}` : ` Index:${m.index}`;
      break;
    case MessageType.Vote:
    case MessageType.PreVote:
      s += ` Log:${m.logTerm}/${m.index}`;
      break;
    case MessageType.VoteResp:
    case MessageType.PreVoteResp:
      if (m.reject) s += ' Rejected';
      break;
    case MessageType.Heartbeat:
      s += ` Commit:${m.commit}`;
      break;
    case MessageType.Snap:
      s += ` Snapshot:${m.snapshot?.metadata.term}/${m.snapshot?.metadata.index}`;
      break;
    case MessageType.ReadIndexResp:
      s += ` Index:${m.index}`;
      break;
    case MessageType.Prop:
      s += ` Entries:${m.entries.length}`;
      break;
    default:
      break;
  }
  return s;
}
