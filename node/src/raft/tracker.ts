import { Progress } from './progress.js';
import { jointCommitted, jointVoteResult, VoteResult } from './quorum.js';
import type { ConfState } from './types.js';

/** Active configuration: voters (possibly joint) and learners. */
export interface TrackerConfig {
  /** [incoming, outgoing]; outgoing non-empty only in a joint config. */
  voters: [Set<number>, Set<number>];
  learners: Set<number>;
  /** Learners to add when leaving the joint config (currently outgoing voters). */
  learnersNext: Set<number>;
  autoLeave: boolean;
}

export function emptyTrackerConfig(): TrackerConfig {
  return { voters: [new Set(), new Set()], learners: new Set(), learnersNext: new Set(), autoLeave: false };
}

export function cloneTrackerConfig(c: TrackerConfig): TrackerConfig {
  return {
    voters: [new Set(c.voters[0]), new Set(c.voters[1])],
    learners: new Set(c.learners),
    learnersNext: new Set(c.learnersNext),
    autoLeave: c.autoLeave,
  };
}

export function isJoint(c: TrackerConfig): boolean {
  return c.voters[1].size > 0;
}

const sorted = (s: Iterable<number>): number[] => [...s].sort((a, b) => a - b);

export function describeConfig(c: TrackerConfig): string {
  let s = `voters=(${sorted(c.voters[0]).join(' ')})`;
  if (isJoint(c)) s += `&&(${sorted(c.voters[1]).join(' ')})`;
  if (c.learners.size) s += ` learners=(${sorted(c.learners).join(' ')})`;
  if (c.learnersNext.size) s += ` learners_next=(${sorted(c.learnersNext).join(' ')})`;
  if (c.autoLeave) s += ' autoleave';
  return s;
}

export type ProgressMap = Map<number, Progress>;

/** Configuration + per-peer progress + votes of the current election. */
export class ProgressTracker {
  config: TrackerConfig = emptyTrackerConfig();
  progress: ProgressMap = new Map();
  votes = new Map<number, boolean>();

  constructor(
    readonly maxInflight: number,
    readonly maxInflightBytes: number = 0,
  ) {}

  confState(): ConfState {
    return {
      voters: sorted(this.config.voters[0]),
      votersOutgoing: sorted(this.config.voters[1]),
      learners: sorted(this.config.learners),
      learnersNext: sorted(this.config.learnersNext),
      autoLeave: this.config.autoLeave,
    };
  }

  isSingleton(): boolean {
    return this.config.voters[0].size === 1 && this.config.voters[1].size === 0;
  }

  committed(): number {
    return jointCommitted(this.config.voters, (id) => this.progress.get(id)?.match);
  }

  /** The peer ids in order, kept between calls while the set of peers is the same (visit runs on every broadcast). */
  private visitOrder: number[] = [];

  /** Visit peers in id order (deterministic message order). */
  visit(f: (id: number, pr: Progress) => void): void {
    let ids = this.visitOrder;
    if (ids.length !== this.progress.size || !ids.every((id) => this.progress.has(id))) ids = this.visitOrder = sorted(this.progress.keys());
    for (const id of ids) {
      const pr = this.progress.get(id);
      if (pr !== undefined) f(id, pr);
    }
  }

  /** True if a quorum of voters was recently active (check-quorum). */
  quorumActive(): boolean {
    const votes = new Map<number, boolean>();
    this.visit((id, pr) => {
      if (!pr.isLearner) votes.set(id, pr.recentActive);
    });
    return jointVoteResult(this.config.voters, votes) === VoteResult.Won;
  }

  voterIds(): number[] {
    return sorted(new Set([...this.config.voters[0], ...this.config.voters[1]]));
  }

  isVoter(id: number): boolean {
    return this.config.voters[0].has(id) || this.config.voters[1].has(id);
  }

  learnerIds(): number[] {
    return sorted(this.config.learners);
  }

  resetVotes(): void {
    this.votes = new Map();
  }

  recordVote(id: number, v: boolean): void {
    if (!this.votes.has(id)) this.votes.set(id, v);
  }

  tallyVotes(): { granted: number; rejected: number; result: VoteResult } {
    let granted = 0;
    let rejected = 0;
    for (const [id, pr] of this.progress) {
      if (pr.isLearner) continue;
      const v = this.votes.get(id);
      if (v === undefined) continue;
      if (v) granted++;
      else rejected++;
    }
    return { granted, rejected, result: this.voteResult(this.votes) };
  }

  voteResult(votes: ReadonlyMap<number, boolean>): VoteResult {
    return jointVoteResult(this.config.voters, votes);
  }
}
