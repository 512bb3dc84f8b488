// Data-directory incarnations: who may speak for a raft id.
//
// A raft id is a promise about durable state (a log, a term, a vote). A node restarted with the same
// --raft-id and --peers over an EMPTY data dir (a wiped disk, a deleted PVC, a `make run` after rm -rf)
// breaks that promise silently: it re-bootstraps with no log and no vote, so it can vote twice in one
// term, or count towards the quorum of a leader that lacks committed entries (acknowledged writes lost).
//
// Defense: every data dir gets a random incarnation at its first start (written durably beside the raft
// id, node/src/server/config.ts). Every transport frame carries it. The group REPLICATES the first
// incarnation it hears for each raft id (an identity entry in the Raft log, proposed by the leader, first
// writer wins, carried by snapshots), so every member — not only the ones the node talked to before the
// wipe — knows it. A frame whose incarnation differs from the recorded one is refused: none of its
// messages reach raft (no vote, no ack, no heartbeat response), the refusal is logged, counted
// (kvs_raft_peer_identity_refused_total) and told back to the sender, which then reports itself
// refused (/readyz 503 RAFT_IDENTITY_REFUSED, Admin.Status) and stops voting. The only way back is a new
// member: a new raft id (ids are never reused) joining as a learner with --join.
//
// Limits (docs/ARCHITECTURE.md): a wipe before the group committed the first record of that raft id
// (the first seconds of a brand-new cluster) goes unnoticed; frames without an incarnation (nodes of an
// older version, in-process test nodes) are admitted (rolling upgrades).
import { randomBytes } from 'node:crypto';

/** 128 random bits, hex: unique per data dir for all practical purposes. */
export function generateIncarnation(): string {
  return randomBytes(16).toString('hex');
}

export function isIncarnation(s: string): boolean {
  return /^[0-9a-f]{32}$/.test(s);
}

/** Identity entry payload: magic 0x49 ('I'), version 1, JSON {raftId, incarnation}. */
const IDENTITY_MAGIC = 0x49;

export interface IdentityRecord {
  raftId: number;
  incarnation: string;
}

export function encodeIdentityEntry(r: IdentityRecord): Uint8Array {
  const body = Buffer.from(JSON.stringify({ raftId: r.raftId, incarnation: r.incarnation }));
  const out = Buffer.allocUnsafe(2 + body.length);
  out[0] = IDENTITY_MAGIC;
  out[1] = 1;
  body.copy(out, 2);
  return out;
}

export function isIdentityEntry(data: Uint8Array): boolean {
  return data.length > 2 && data[0] === IDENTITY_MAGIC && data[1] === 1;
}

/** Decodes an identity entry; undefined for a malformed one (applied as a no-op). */
export function decodeIdentityEntry(data: Uint8Array): IdentityRecord | undefined {
  if (!isIdentityEntry(data)) return undefined;
  try {
    const o = JSON.parse(Buffer.from(data.buffer, data.byteOffset + 2, data.byteLength - 2).toString('utf8')) as Partial<IdentityRecord>;
    if (typeof o.raftId !== 'number' || !Number.isSafeInteger(o.raftId) || o.raftId <= 0) return undefined;
    if (typeof o.incarnation !== 'string' || !isIncarnation(o.incarnation)) return undefined;
    return { raftId: o.raftId, incarnation: o.incarnation };
  } catch {
    return undefined;
  }
}

/** One refused sender as seen by this node. */
export interface Refusal {
  raftId: number;
  /** The incarnation the frames carried. */
  incarnation: string;
  /** The incarnation the group recorded for that raft id. */
  recorded: string;
  count: number;
  firstAt: number;
  lastAt: number;
}

/** This node told by a peer that the group does not accept its incarnation. */
export interface SelfRefusal {
  by: number;
  reason: string;
  at: number;
}

export type Admission = { ok: true } | { ok: false; recorded: string };

/**
 * The replicated record (raft id → incarnation, applied from the log) plus what this node refused. Pure
 * bookkeeping: persistence is the PeerStorage's, the wire is the transport's.
 */
export class IdentityRegistry {
  /** Applied records (first writer wins). */
  readonly recorded = new Map<number, string>();
  /** Senders refused since this process started, by raft id. */
  readonly refused = new Map<number, Refusal>();
  /** Set once a peer refused this node. */
  selfRefused: SelfRefusal | undefined;
  /** Refusals counted (frames dropped), for the metric. */
  refusedFrames = 0;

  constructor(
    readonly selfId: number,
    /** '' = this node has no incarnation (in-memory / in-process nodes): it neither checks nor records. */
    readonly selfIncarnation: string,
    /** Test-only switch (--test-disable-identity-check): admit everything, the negative control. */
    readonly enforce = true,
  ) {}

  /** Applies a committed record; returns true if it was new. Later records of the same id are ignored. */
  apply(r: IdentityRecord): boolean {
    if (this.recorded.has(r.raftId)) return false;
    this.recorded.set(r.raftId, r.incarnation);
    return true;
  }

  load(obj: Record<string, string>): void {
    for (const [k, v] of Object.entries(obj)) {
      const id = Number(k);
      if (Number.isSafeInteger(id) && id > 0 && isIncarnation(v) && !this.recorded.has(id)) this.recorded.set(id, v);
    }
  }

  toJSON(): Record<string, string> {
    const o: Record<string, string> = {};
    for (const [k, v] of [...this.recorded].sort((a, b) => a[0] - b[0])) o[String(k)] = v;
    return o;
  }

  /**
   * Whether a frame from `from` carrying `incarnation` may reach raft. Unknown ids and frames without an
   * incarnation are admitted (the leader then proposes a record for them; see Peer.noteIncarnation).
   */
  admit(from: number, incarnation: string, now = Date.now()): Admission {
    if (!this.enforce || incarnation === '' || from === this.selfId) return { ok: true };
    const rec = this.recorded.get(from);
    if (rec === undefined) return { ok: true };
    if (rec === incarnation) {
      // The recorded data dir is back (e.g. a volume re-attached): nothing to refuse any more.
      if (this.refused.size > 0) this.refused.delete(from);
      return { ok: true };
    }
    this.refusedFrames++;
    const r = this.refused.get(from);
    if (r !== undefined && r.incarnation === incarnation) {
      r.count++;
      r.lastAt = now;
    } else this.refused.set(from, { raftId: from, incarnation, recorded: rec, count: 1, firstAt: now, lastAt: now });
    return { ok: false, recorded: rec };
  }

  /** A peer said this node's incarnation is not the one the group recorded for its raft id. */
  refusedBy(by: number, reason: string, now = Date.now()): boolean {
    if (!this.enforce) return false;
    const first = this.selfRefused === undefined;
    this.selfRefused = { by, reason, at: now };
    return first;
  }

  /** Whether this node's own record, as the group sees it, differs from its incarnation. */
  selfMismatch(): string | undefined {
    if (this.selfIncarnation === '') return undefined;
    const rec = this.recorded.get(this.selfId);
    return rec !== undefined && rec !== this.selfIncarnation ? rec : undefined;
  }
}
