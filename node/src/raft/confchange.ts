// Configuration changes (etcd confchange): simple (one voter at a time) and joint consensus.
// Functions are pure: they return a new config + progress map, leaving the input untouched.

import { Inflights } from './inflights.js';
import { Progress } from './progress.js';
import { type ProgressMap, type TrackerConfig, cloneTrackerConfig, isJoint } from './tracker.js';
import { type ConfChange, type ConfChangeSingle, ConfChangeTransition, ConfChangeType, type ConfState } from './types.js';
import { ConfChangeError } from './errors.js';

export interface ChangeResult {
  config: TrackerConfig;
  progress: ProgressMap;
}

interface TrackerLike {
  config: TrackerConfig;
  progress: ProgressMap;
  maxInflight: number;
  maxInflightBytes: number;
}

/** True if the change is the empty "leave joint" marker. */
export function isLeaveJoint(cc: ConfChange): boolean {
  return cc.transition === ConfChangeTransition.Auto && cc.changes.length === 0;
}

/** Whether the change must use a joint config, and if so whether it leaves automatically. */
export function enterJoint(cc: ConfChange): { joint: boolean; autoLeave: boolean } {
  if (cc.transition !== ConfChangeTransition.Auto || cc.changes.length > 1) {
    return { joint: true, autoLeave: cc.transition !== ConfChangeTransition.JointExplicit };
  }
  return { joint: false, autoLeave: false };
}

export class Changer {
  constructor(
    private readonly tracker: TrackerLike,
    /** Last log index: new peers start probing from here. */
    private readonly lastIndex: number,
  ) {}

  /** Enter a joint config: outgoing = current voters, incoming = voters after `ccs`. */
  enterJoint(autoLeave: boolean, ccs: ConfChangeSingle[]): ChangeResult {
    const { config, progress } = this.checkAndCopy();
    if (isJoint(config)) throw new ConfChangeError('config is already joint');
    if (config.voters[0].size === 0) {
      // Joint with an empty outgoing half is indistinguishable from non-joint.
      throw new ConfChangeError("can't make a zero-voter config joint");
    }
    config.voters[1] = new Set(config.voters[0]);
    this.apply(config, progress, ccs);
    config.autoLeave = autoLeave;
    return checkAndReturn(config, progress);
  }

  /** Leave the joint config: drop the outgoing half, move learnersNext to learners. */
  leaveJoint(): ChangeResult {
    const { config, progress } = this.checkAndCopy();
    if (!isJoint(config)) throw new ConfChangeError("can't leave a non-joint config");
    for (const id of config.learnersNext) {
      config.learners.add(id);
      progress.get(id)!.isLearner = true;
    }
    config.learnersNext = new Set();
    for (const id of config.voters[1]) {
      if (!config.voters[0].has(id) && !config.learners.has(id)) progress.delete(id);
    }
    config.voters[1] = new Set();
    config.autoLeave = false;
    return checkAndReturn(config, progress);
  }

  /** Apply changes that alter at most one voter, without joint consensus. */
  simple(ccs: ConfChangeSingle[]): ChangeResult {
    const { config, progress } = this.checkAndCopy();
    if (isJoint(config)) throw new ConfChangeError("can't apply simple config change in joint config");
    const before = new Set(config.voters[0]);
    this.apply(config, progress, ccs);
    let diff = 0;
    for (const id of before) if (!config.voters[0].has(id)) diff++;
    for (const id of config.voters[0]) if (!before.has(id)) diff++;
    if (diff > 1) throw new ConfChangeError('more than one voter changed without entering joint config');
    return checkAndReturn(config, progress);
  }

  private apply(config: TrackerConfig, progress: ProgressMap, ccs: ConfChangeSingle[]): void {
    for (const cc of ccs) {
      if (cc.nodeId === 0) continue; // etcd treats id 0 as a no-op
      switch (cc.type) {
        case ConfChangeType.AddNode:
          this.makeVoter(config, progress, cc.nodeId);
          break;
        case ConfChangeType.AddLearner:
          this.makeLearner(config, progress, cc.nodeId);
          break;
        case ConfChangeType.RemoveNode:
          this.remove(config, progress, cc.nodeId);
          break;
        default:
          throw new ConfChangeError(`unexpected conf type ${String(cc.type)}`);
      }
    }
    if (config.voters[0].size === 0) throw new ConfChangeError('removed all voters');
  }

  private makeVoter(config: TrackerConfig, progress: ProgressMap, id: number): void {
    const pr = progress.get(id);
    if (!pr) {
      this.initProgress(config, progress, id, false);
      return;
    }
    pr.isLearner = false;
    config.learners.delete(id);
    config.learnersNext.delete(id);
    config.voters[0].add(id);
  }

  private makeLearner(config: TrackerConfig, progress: ProgressMap, id: number): void {
    const pr = progress.get(id);
    if (!pr) {
      this.initProgress(config, progress, id, true);
      return;
    }
    if (pr.isLearner) return;
    // Remove any existing voter role in the incoming config, keep the Progress.
    this.remove(config, progress, id);
    progress.set(id, pr);
    // A voter of the outgoing config can only become a learner once the joint config is left.
    if (config.voters[1].has(id)) {
      config.learnersNext.add(id);
    } else {
      pr.isLearner = true;
      config.learners.add(id);
    }
  }

  private remove(config: TrackerConfig, progress: ProgressMap, id: number): void {
    if (!progress.has(id)) return;
    config.voters[0].delete(id);
    config.learners.delete(id);
    config.learnersNext.delete(id);
    // Keep the Progress while the peer is still an outgoing voter.
    if (!config.voters[1].has(id)) progress.delete(id);
  }

  private initProgress(config: TrackerConfig, progress: ProgressMap, id: number, isLearner: boolean): void {
    if (isLearner) config.learners.add(id);
    else config.voters[0].add(id);
    // New peers are marked recently active so check-quorum doesn't immediately count them out.
    progress.set(
      id,
      new Progress(Math.max(this.lastIndex, 1), new Inflights(this.tracker.maxInflight, this.tracker.maxInflightBytes), isLearner, true),
    );
  }

  private checkAndCopy(): ChangeResult {
    const config = cloneTrackerConfig(this.tracker.config);
    const progress: ProgressMap = new Map();
    for (const [id, pr] of this.tracker.progress) progress.set(id, pr.clone());
    checkInvariants(config, progress);
    return { config, progress };
  }
}

function checkAndReturn(config: TrackerConfig, progress: ProgressMap): ChangeResult {
  checkInvariants(config, progress);
  return { config, progress };
}

export function checkInvariants(config: TrackerConfig, progress: ProgressMap): void {
  for (const ids of [config.voters[0], config.voters[1], config.learners, config.learnersNext]) {
    for (const id of ids) if (!progress.has(id)) throw new ConfChangeError(`no progress for ${id}`);
  }
  for (const id of config.learnersNext) {
    if (!config.voters[1].has(id)) throw new ConfChangeError(`${id} is in LearnersNext, but not Voters[1]`);
    if (progress.get(id)!.isLearner) throw new ConfChangeError(`${id} is in LearnersNext, but is already marked as learner`);
  }
  for (const id of config.learners) {
    if (config.voters[0].has(id) || config.voters[1].has(id)) throw new ConfChangeError(`${id} is in Learners and Voters`);
    if (!progress.get(id)!.isLearner) throw new ConfChangeError(`${id} is in Learners, but is not marked as learner`);
  }
  if (!isJoint(config)) {
    if (config.learnersNext.size > 0) throw new ConfChangeError('cfg.LearnersNext must be empty when not joint');
    if (config.autoLeave) throw new ConfChangeError('AutoLeave must be false when not joint');
  }
}

/** Rebuild config + progress from a ConfState (snapshot restore / restart). */
export function restoreConfState(tracker: TrackerLike, lastIndex: number, cs: ConfState): ChangeResult {
  const config: TrackerConfig = {
    voters: [new Set(cs.voters), new Set(cs.votersOutgoing)],
    learners: new Set(cs.learners),
    learnersNext: new Set(cs.learnersNext),
    autoLeave: cs.autoLeave,
  };
  const progress: ProgressMap = new Map();
  const all = new Set([...cs.voters, ...cs.votersOutgoing, ...cs.learners, ...cs.learnersNext]);
  for (const id of all) {
    const isLearner = config.learners.has(id);
    progress.set(
      id,
      new Progress(Math.max(lastIndex, 1), new Inflights(tracker.maxInflight, tracker.maxInflightBytes), isLearner, true),
    );
  }
  if (!isJoint(config) && config.autoLeave) throw new ConfChangeError('AutoLeave must be false when not joint');
  checkInvariants(config, progress);
  return { config, progress };
}
