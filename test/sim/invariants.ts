// Raft safety invariants (Figure 3 of the Raft paper), checked incrementally by the simulator
// after every step: Election Safety, Log Matching, Leader Completeness, State Machine Safety.

import { type Entry, type Raft, ReadOnlyOption, StateType, bytesToKey } from '../../node/src/raft/index.js';

export class SafetyViolation extends Error {
  override readonly name = 'SafetyViolation';
}

function termOrUndefined(r: Raft, i: number): number | undefined {
  return r.raftLog.maybeTerm(i);
}

export class SafetyChecker {
  private leaderByTerm = new Map<number, number>();
  /** (index:term) → data + term of the previous entry, for inductive Log Matching. */
  private entries = new Map<string, { data: string; prevTerm: number | undefined }>();
  /** Term of every committed index observed anywhere. */
  private committedTerm: number[] = [];
  private maxCommit = 0;
  /** Per-node highest commit index already recorded. */
  private recordedCommit = new Map<number, number>();
  /** Entry applied at each index (term + data), for State Machine Safety. */
  private applied: ({ term: number; data: string } | undefined)[] = [];
  checks = 0;

  /** Election Safety: at most one leader per term. Leader Completeness on first sight of a leader. */
  checkNode(r: Raft): void {
    this.checks++;
    if (r.state === StateType.Leader) {
      const prev = this.leaderByTerm.get(r.term);
      if (prev === undefined) {
        this.leaderByTerm.set(r.term, r.id);
        this.checkLeaderCompleteness(r);
      } else if (prev !== r.id) {
        throw new SafetyViolation(`election safety: term ${r.term} has two leaders ${prev} and ${r.id}`);
      }
    }
    const log = r.raftLog;
    if (log.committed > log.lastIndex()) {
      throw new SafetyViolation(`node ${r.id}: commit ${log.committed} beyond last index ${log.lastIndex()}`);
    }
    if (log.applied > log.committed) {
      throw new SafetyViolation(`node ${r.id}: applied ${log.applied} beyond commit ${log.committed}`);
    }
    // Record terms of newly committed entries; they must agree across nodes.
    const from = (this.recordedCommit.get(r.id) ?? 0) + 1;
    for (let i = Math.max(from, log.firstIndex() - 1, 1); i <= log.committed; i++) {
      const t = termOrUndefined(r, i);
      if (t === undefined) continue;
      const known = this.committedTerm[i];
      if (known === undefined) this.committedTerm[i] = t;
      else if (known !== t) {
        throw new SafetyViolation(`node ${r.id}: committed index ${i} has term ${t}, but term ${known} was committed there`);
      }
    }
    if (log.committed > (this.recordedCommit.get(r.id) ?? 0)) this.recordedCommit.set(r.id, log.committed);
    if (log.committed > this.maxCommit) this.maxCommit = log.committed;
  }

  /**
   * Lease safety: a leader that considers its lease valid (and would serve reads locally)
   * must still be the newest leader — nobody may have been elected in a later term.
   */
  checkLeases(rafts: Raft[]): void {
    let maxTerm = 0;
    for (const t of this.leaderByTerm.keys()) if (t > maxTerm) maxTerm = t;
    for (const r of rafts) {
      if (r.state === StateType.Leader && r.readOnly.option === ReadOnlyOption.LeaseBased && r.term < maxTerm && r.leaseValid()) {
        throw new SafetyViolation(`lease safety: node ${r.id} holds a lease in term ${r.term}, but a leader was elected in term ${maxTerm}`);
      }
    }
  }

  /** A node restarted: its commit may go back to the durable value. */
  onRestart(r: Raft): void {
    this.recordedCommit.set(r.id, r.raftLog.committed);
  }

  private checkLeaderCompleteness(r: Raft): void {
    const log = r.raftLog;
    if (log.lastIndex() < this.maxCommit) {
      throw new SafetyViolation(
        `leader completeness: leader ${r.id} of term ${r.term} has last index ${log.lastIndex()} < committed ${this.maxCommit}`,
      );
    }
    for (let i = Math.max(1, log.firstIndex()); i <= this.maxCommit; i++) {
      const want = this.committedTerm[i];
      if (want === undefined) continue;
      const t = termOrUndefined(r, i);
      if (t !== undefined && t !== want) {
        throw new SafetyViolation(
          `leader completeness: leader ${r.id} of term ${r.term} has term ${t} at committed index ${i} (committed term ${want})`,
        );
      }
    }
  }

  /**
   * Log Matching, inductively: entries with equal (index, term) must carry equal data and
   * follow an entry of equal term. Called with the entries a node persists.
   */
  onAppend(r: Raft, ents: readonly Entry[]): void {
    if (ents.length === 0) return;
    let prevTerm = termOrUndefined(r, ents[0]!.index - 1);
    for (const e of ents) {
      const key = `${e.index}:${e.term}`;
      const data = bytesToKey(e.data) + `#${e.type}`;
      const seen = this.entries.get(key);
      if (!seen) {
        this.entries.set(key, { data, prevTerm });
      } else {
        if (seen.data !== data) throw new SafetyViolation(`log matching: node ${r.id} has different data at ${key}`);
        if (seen.prevTerm !== undefined && prevTerm !== undefined && seen.prevTerm !== prevTerm) {
          throw new SafetyViolation(`log matching: node ${r.id} entry ${key} follows term ${prevTerm}, elsewhere term ${seen.prevTerm}`);
        }
        if (seen.prevTerm === undefined) seen.prevTerm = prevTerm;
      }
      prevTerm = e.term;
    }
  }

  /** State Machine Safety: no two nodes apply different entries at the same index. */
  onApply(nodeId: number, e: Entry): void {
    const data = bytesToKey(e.data) + `#${e.type}`;
    const prev = this.applied[e.index];
    if (!prev) this.applied[e.index] = { term: e.term, data };
    else if (prev.term !== e.term || prev.data !== data) {
      throw new SafetyViolation(`state machine safety: node ${nodeId} applied ${e.term}/${e.index}, another node applied ${prev.term}/${e.index}`);
    }
  }

  /** Full pairwise Log Matching over the current logs (used at the end of a run). */
  checkLogsPairwise(rafts: Raft[]): void {
    for (let a = 0; a < rafts.length; a++) {
      for (let b = a + 1; b < rafts.length; b++) {
        const ra = rafts[a]!;
        const rb = rafts[b]!;
        const lo = Math.max(ra.raftLog.firstIndex(), rb.raftLog.firstIndex());
        const hi = Math.min(ra.raftLog.lastIndex(), rb.raftLog.lastIndex());
        // Find the highest index with equal terms; all entries at or below it must be equal.
        let match = -1;
        for (let i = hi; i >= lo; i--) {
          if (termOrUndefined(ra, i) === termOrUndefined(rb, i)) {
            match = i;
            break;
          }
        }
        if (match < lo) continue;
        const ea = ra.raftLog.slice(lo, match + 1, Number.MAX_SAFE_INTEGER);
        const eb = rb.raftLog.slice(lo, match + 1, Number.MAX_SAFE_INTEGER);
        for (let k = 0; k < ea.length; k++) {
          const x = ea[k]!;
          const y = eb[k]!;
          if (x.term !== y.term || bytesToKey(x.data) !== bytesToKey(y.data)) {
            throw new SafetyViolation(`log matching: nodes ${ra.id} and ${rb.id} agree at ${match} but differ at ${x.index}`);
          }
        }
      }
    }
  }

  /** Number of distinct terms in which a leader was observed. */
  get elections(): number {
    return this.leaderByTerm.size;
  }

  get maxCommitted(): number {
    return this.maxCommit;
  }
}
