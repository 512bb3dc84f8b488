// Raft membership steps through the node admin API (proto/admin.proto). Pure: the planner asks this
// module for the StatefulSet size to apply now and at most ONE step; the reconciler executes it through
// the admin client (runtime/admin.ts) and the next pass observes the result. Every step is re-derived
// from the observed Raft configuration, so a killed operator resumes safely and a repeated step is a
// no-op on the node (AddLearner of a learner, Promote of a voter, RemoveMember of a non-member).
//
//   scale-out: StatefulSet +1 (its pod's raft id is assigned first, raftids.ts) → pod starts with --join
//              → AddLearner(id, DNS address) → learner caught up (Replicate, match + maxLag ≥ commit)
//              → Promote → next pod
//   scale-in:  highest ordinal first; refused (ScaleInBlocked) when the remaining healthy voters would
//              not be a majority of the remaining voters, or nothing would remain; TransferLeader away
//              if it leads range 1 → DrainStore while its node reports leading any range (or holding a
//              replica another healthy store lacks) → RemoveMember → once the removal is committed (id
//              gone from the configuration) the StatefulSet shrinks by one (whenScaled: Delete removes
//              the PVC)
//   upgrade:   (updateStrategy OnDelete) one pod at a time, followers first: TransferLeader away from
//              it if it leads range 1 → DrainStore (leaderships only) while it leads any range →
//              DeletePod → wait until every pod is ready on the new template, every voter is active and
//              caught up → next
//   rollback:  a pod on an old template that is not ready (stuck on a bad image after the spec went back)
//              is restarted without waiting for itself, when that cannot cost the quorum — also when no
//              leader is known, if its container does not even run
//   transient loss (pod gone/unready, member still configured): no membership change; status Degraded
//              — until spec.failover.downTimeout has passed (below)
//   replacement (a member that can never vote again, or is down for good): the old raft id is removed
//              (only while the remaining healthy voters stay a majority, at most
//              failover.maxConcurrentReplacements at once) → the pod's slot gets a NEW raft id (ids are
//              never reused) → ReplacePod deletes its PVC and the pod, the StatefulSet recreates both
//              and the node starts empty with --join → AddLearner → caught up → Promote. Triggers:
//              * VolumeLost: the leader refuses the member's frames (another data-dir incarnation than
//                the one the group recorded), the node reports itself refused, or it reports an
//                incarnation that differs from the recorded one — its data is gone, always replaced;
//              * MemberDown (spec.failover.enabled): unhealthy (pod not ready or node silent) for longer
//                than downTimeout; a restart within the timeout resets the clock and is never a replacement;
//              * Removed: the member was removed (e.g. by kvsctl) while its pod stays in the StatefulSet.
//   no leader known: no change at all (the StatefulSet keeps its size)
import type { MembersState, ReplaceReason } from './raftids.js';
import { podOrdinal, quorum } from './names.js';

export type MembershipStep =
  | { type: 'AddLearner'; pod: string; raftId: number; address: string }
  | { type: 'Promote'; pod: string; raftId: number }
  | { type: 'RemoveMember'; pod: string; raftId: number; replace?: ReplaceReason; why?: string; rangesLed?: number }
  | { type: 'ReplacePod'; pod: string; oldRaftId: number; newRaftId: number; reason: ReplaceReason; why: string }
  | { type: 'TransferLeader'; from: string; to: string; toRaftId: number; why: string }
  /**
   * Every range's leadership off the store (client/drain.ts), and — unless `leadershipsOnly` (a restart:
   * the store comes back) — its replicas to stores lacking the range. `rangesLed`/`rangesMovable`: what
   * its node reported when the step was planned. `avoid`: stores the scale-in removes next (they take
   * leaderships and replicas only when no other store can).
   */
  | { type: 'DrainStore'; pod: string; raftId: number; leadershipsOnly: boolean; rangesLed: number; rangesMovable: number; avoid?: number[]; why: string }
  | { type: 'DeletePod'; pod: string; why: string };

export interface RaftMember {
  role: 'voter' | 'learner';
  match: number;
  state: string;
  recentActive: boolean;
  /** Data-dir incarnation the group recorded for the member ('' / absent: none yet). */
  incarnation?: string;
  /** The leader refuses its frames (another incarnation: its volume was lost). */
  refused?: boolean;
}

/** The group as its leader reports it. */
export interface RaftView {
  leaderId: number;
  leaderPod?: string;
  term: number;
  commit: number;
  members: Map<number, RaftMember>;
}

export interface PodView {
  name: string;
  exists: boolean;
  ready: boolean;
  /** On the StatefulSet's update revision (false = must be restarted by an upgrade). */
  updated: boolean;
  /** Its container runs (false: waiting, e.g. ImagePullBackOff, CrashLoopBackOff); undefined = unknown. */
  running?: boolean;
  /** Not ready and its data PVC is being deleted: it can never start; delete it so the StatefulSet
   * recreates pod and claim. */
  claimTerminating?: boolean;
  /** Crash-looping / image or config error (status.podFailing). */
  failing?: boolean;
  /** The pod cannot start because of its template (image pull, invalid image, config error): a
   * replacement would get the same template, so it would only cost a voter. */
  templateBroken?: string;
}

/** What a pod's node says about itself (Admin.Status). */
export interface NodeSelf {
  raftId: number;
  incarnation: string;
  identityRefused: boolean;
  /** Ranges it leads (range 1 included); undefined = its node does not report ranges (older version). */
  rangesLed?: number;
  /** Ranges it holds a voter replica of that another voter of range 1 lacks (a drain can move them). */
  rangesMovable?: number;
}

export interface FailoverSettings {
  enabled: boolean;
  downTimeoutMs: number;
  maxConcurrent: number;
}

export interface MembershipInput {
  desiredReplicas: number;
  /** spec.replicas of the existing StatefulSet; undefined = none yet (bootstrap). */
  currentReplicas: number | undefined;
  state: MembersState;
  pods: PodView[];
  raft: RaftView | undefined;
  /** Raft address of a pod (AddLearner). */
  address: (pod: string) => string;
  /** Pods whose node answers the admin API (undefined = not observed: no requirement). */
  answering?: Set<string>;
  /** Entries a learner/voter may trail the commit index and count as caught up. */
  maxLag?: number;
  /** Per answering pod, what its node reports about itself. */
  reports?: Record<string, NodeSelf>;
  failover?: FailoverSettings;
  /** This pass's clock (ms since the epoch): the failover timers compare with it. */
  nowMs?: number;
}

export interface MembershipPlan {
  statefulSetReplicas: number;
  step?: MembershipStep;
  /** Scale-in refused: why (ScaleInBlocked condition). */
  blocked?: string;
  /** Waiting for something (progress message). */
  waiting?: string;
  /** A member needs replacement but it may not happen now (quorum, limit): why (MemberReplacement condition). */
  replacementBlocked?: string;
}

/** Short form of an incarnation for messages. */
const shortInc = (s: string | undefined) => (s ? `${s.slice(0, 8)}…` : 'none');

/** Why the member of `pod` has lost its data (VolumeLost), or undefined. */
export function volumeLost(pod: string, raftId: number, raft: RaftView, reports: Record<string, NodeSelf> | undefined): string | undefined {
  const m = raft.members.get(raftId);
  const r = reports?.[pod];
  const self = r !== undefined && r.raftId === raftId ? r : undefined;
  if (m?.refused) return `the leader refuses raft id ${raftId}: its data dir is not the one the group recorded (incarnation ${shortInc(m.incarnation)})`;
  if (self?.identityRefused) return `the node of ${pod} reports that the group refuses its data dir (raft id ${raftId})`;
  if (self && m?.incarnation && self.incarnation && self.incarnation !== m.incarnation) {
    return `the node of ${pod} runs on data-dir incarnation ${shortInc(self.incarnation)} but the group recorded ${shortInc(m.incarnation)} for raft id ${raftId}: its volume was lost or replaced`;
  }
  return undefined;
}

export const DEFAULT_MAX_LAG = 100;

/** What the node of `pod` reports, when it reports as the member `raftId` (not a stale or other id). */
function selfReport(reports: Record<string, NodeSelf> | undefined, pod: string, raftId: number): NodeSelf | undefined {
  const r = reports?.[pod];
  return r !== undefined && r.raftId === raftId ? r : undefined;
}

function caughtUp(m: RaftMember | undefined, commit: number, maxLag: number): boolean {
  return !!m && m.state === 'Replicate' && m.match + maxLag >= commit;
}

/**
 * Rollback out of a failed upgrade. The rolling upgrade only restarts a pod while every node is ready,
 * which traps a pod that can never become ready on its template (a bad image: ImagePullBackOff): once
 * the spec goes back, that pod is on an old template and must be restarted — waiting for it to be ready
 * first would wait for itself forever (Kubernetes' own StatefulSet has the same trap). Such a pod is
 * restarted, highest ordinal first, when the restart cannot cost the quorum:
 *   - it holds no part of it: its container does not run, or (leader known) the leader does not hear
 *     from it and its node does not answer the admin API; or
 *   - (leader known) the healthy voters other than it still form a majority of the voters.
 * Never the leader (a leader is ready by definition; if not, the normal path moves leadership first).
 * Without a known leader only the first case applies, and only on evidence (a container that does not run).
 */
function stuckRestart(input: MembershipInput, cur: number, raft: RaftView | undefined, healthyVoter: (id: number) => boolean): MembershipStep | undefined {
  const stuck = input.pods
    .filter((p) => p.exists && !p.updated && !p.ready && podOrdinal(p.name) < cur)
    .sort((a, b) => podOrdinal(b.name) - podOrdinal(a.name));
  for (const p of stuck) {
    const id = input.state.pods[p.name]?.raftId;
    const why = `rollback: ${p.name} is not ready on an old template and holds no part of the quorum`;
    if (!raft) {
      if (p.running === false) return { type: 'DeletePod', pod: p.name, why };
      continue;
    }
    if (id !== undefined && id === raft.leaderId) continue;
    const member = id === undefined ? undefined : raft.members.get(id);
    const silent = input.answering !== undefined && !input.answering.has(p.name) && member?.recentActive !== true;
    if (p.running === false || silent || member === undefined) return { type: 'DeletePod', pod: p.name, why };
    const voters = [...raft.members].filter(([, m]) => m.role === 'voter').map(([v]) => v);
    const others = voters.filter((v) => v !== id && healthyVoter(v)).length;
    if (others >= quorum(voters.length)) {
      return { type: 'DeletePod', pod: p.name, why: `rollback: ${p.name} is not ready on an old template; the other ${others} healthy voters keep the quorum` };
    }
  }
  return undefined;
}

export function planMembership(input: MembershipInput): MembershipPlan {
  const { desiredReplicas: desired, currentReplicas, state, raft } = input;
  const maxLag = input.maxLag ?? DEFAULT_MAX_LAG;
  if (currentReplicas === undefined) return { statefulSetReplicas: desired };
  const cur = currentReplicas;
  if (!raft) {
    const step = stuckRestart(input, cur, undefined, () => false);
    return { statefulSetReplicas: cur, ...(step ? { step } : {}), ...(cur !== desired ? { waiting: 'no Raft leader is known: membership changes wait' } : {}) };
  }

  const podByName = new Map(input.pods.map((p) => [p.name, p]));
  const nameAt = (o: number) => Object.keys(state.pods).find((p) => podOrdinal(p) === o);
  const idOf = (p: string) => state.pods[p]?.raftId;
  const podOfId = (id: number) => Object.keys(state.pods).find((p) => state.pods[p]!.raftId === id);
  const voters = [...raft.members].filter(([, m]) => m.role === 'voter').map(([id]) => id);
  const healthyVoter = (id: number) => {
    const p = podOfId(id);
    const ready = p !== undefined && podByName.get(p)?.ready === true;
    return ready && (id === raft.leaderId || raft.members.get(id)?.recentActive === true);
  };
  const transferTarget = (exclude: number) =>
    voters
      .filter((v) => v !== exclude && healthyVoter(v) && caughtUp(raft.members.get(v), raft.commit, maxLag))
      .sort((a, b) => (raft.members.get(b)!.match - raft.members.get(a)!.match) || a - b)[0];

  // 0. A pod that cannot start because its volume claim is being deleted (a lost/deleted PVC): delete
  // the pod; the StatefulSet recreates it with a new claim (its node then reports a new incarnation).
  for (const pv of input.pods) {
    if (pv.claimTerminating && !pv.ready && podOrdinal(pv.name) < cur) {
      return { statefulSetReplicas: cur, step: { type: 'DeletePod', pod: pv.name, why: 'its volume claim is being deleted: recreate the pod with a new volume' } };
    }
  }

  // 1. The highest pod's member was removed (committed): shrink the StatefulSet by one.
  const top = nameAt(cur - 1);
  if (cur > 0 && top !== undefined) {
    const a = state.pods[top]!;
    // (Not when the removal was a replacement's and the pod stays in range: step 2 gives it a new id.)
    const replacingInRange = a.replacing !== undefined && cur - 1 < desired;
    if (a.added && !raft.members.has(a.raftId) && !replacingInRange) return { statefulSetReplicas: cur - 1, waiting: `${top} (raft id ${a.raftId}) was removed from the group: shrinking the StatefulSet` };
    if (cur > desired && !a.added && !raft.members.has(a.raftId)) return { statefulSetReplicas: cur - 1, waiting: `${top} never joined: shrinking the StatefulSet` };
  }

  // 2. Pods inside the StatefulSet that are not voters yet: add as learner, then promote (one at a time).
  // A replacement that is only waiting (its pod starting, its learner catching up) does not stop the
  // next replacement from starting when maxConcurrentReplacements allows it (2b); anything else waits.
  let replacementWait: string | undefined;
  const waitFor = (a: { replaces?: number }, msg: string): MembershipPlan | undefined => {
    if (a.replaces === undefined) return { statefulSetReplicas: cur, waiting: msg };
    replacementWait ??= msg;
    return undefined;
  };
  for (let o = 0; o < cur; o++) {
    const p = nameAt(o);
    if (p === undefined) return { statefulSetReplicas: cur, waiting: `pod ordinal ${o} has no raft id yet` };
    const a = state.pods[p]!;
    const m = raft.members.get(a.raftId);
    if (!m) {
      if (a.added) {
        if (o < desired) {
          // Removed for a replacement (or by hand) while its pod stays: the slot gets a new raft id, and
          // the pod restarts on an empty volume (its data belongs to the removed id and is refused).
          const reason = a.replacing ?? 'Removed';
          return {
            statefulSetReplicas: cur,
            step: { type: 'ReplacePod', pod: p, oldRaftId: a.raftId, newRaftId: state.nextRaftId, reason, why: `raft id ${a.raftId} was removed from the group (${reason}): ${p} restarts empty as raft id ${state.nextRaftId}` },
          };
        }
        // Removed earlier but not the highest pod (should not happen with highest-first scale-in).
        return { statefulSetReplicas: cur, blocked: `${p} (raft id ${a.raftId}) is no longer a member; it must be replaced (delete its pod and PVC)` };
      }
      if (o >= desired) continue; // being scaled in; handled above once it is the highest
      if (!podByName.get(p)?.exists) {
        const w = waitFor(a, `waiting for pod ${p} to be created`);
        if (w) return w;
        continue;
      }
      // Only once its node serves (then its DNS name resolves and the first snapshot can land).
      const self = input.reports?.[p];
      if (a.replaces !== undefined && ((self !== undefined && self.raftId !== a.raftId) || (self === undefined && podByName.get(p)?.failing === true))) {
        // The replacement pod still runs the old member (the deletion did not happen) or cannot start on
        // a volume that still holds the old id's data: delete volume and pod again (idempotent).
        const what = self !== undefined ? `still runs as raft id ${self.raftId}` : 'is failing (its volume may still hold the old member\'s data)';
        return {
          statefulSetReplicas: cur,
          step: { type: 'ReplacePod', pod: p, oldRaftId: a.replaces, newRaftId: a.raftId, reason: a.replaceReason ?? 'Removed', why: `${p} ${what}: restart it empty as raft id ${a.raftId}` },
        };
      }
      if (input.answering && !input.answering.has(p)) {
        const w = waitFor(a, `waiting for the node of ${p} to start`);
        if (w) return w;
        continue;
      }
      if (self !== undefined && self.raftId !== a.raftId) return { statefulSetReplicas: cur, waiting: `the node of ${p} reports raft id ${self.raftId}, expected ${a.raftId}` };
      return { statefulSetReplicas: cur, step: { type: 'AddLearner', pod: p, raftId: a.raftId, address: input.address(p) } };
    }
    if (m.role === 'learner') {
      if (o >= desired) return { statefulSetReplicas: cur, step: { type: 'RemoveMember', pod: p, raftId: a.raftId } };
      if (caughtUp(m, raft.commit, maxLag)) return { statefulSetReplicas: cur, step: { type: 'Promote', pod: p, raftId: a.raftId } };
      const w = waitFor(a, `learner ${p} (raft id ${a.raftId}) is catching up (match ${m.match}, commit ${raft.commit}, ${m.state})`);
      if (w) return w;
    }
  }

  // 2b. Replacement of members that can never vote again (VolumeLost) or are down for good (MemberDown).
  const fo = input.failover;
  const maxConcurrent = fo?.maxConcurrent ?? 1;
  const inFlight = Object.values(state.pods).filter((a) => a.replacing !== undefined || a.replaces !== undefined).length;
  let replacementBlocked: string | undefined;
  for (let o = 0; o < Math.min(cur, desired); o++) {
    const p = nameAt(o);
    if (p === undefined) continue;
    const a = state.pods[p]!;
    const m = raft.members.get(a.raftId);
    if (m === undefined || !a.added) continue;
    let reason: ReplaceReason | undefined;
    let why = volumeLost(p, a.raftId, raft, input.reports);
    if (why !== undefined) reason = 'VolumeLost';
    else if (fo?.enabled && a.downSince !== undefined && input.nowMs !== undefined && input.nowMs - Date.parse(a.downSince) >= fo.downTimeoutMs) {
      reason = 'MemberDown';
      why = `${p} (raft id ${a.raftId}) has been unhealthy since ${a.downSince}, longer than failover.downTimeout (${Math.round(fo.downTimeoutMs / 1000)} s)`;
    }
    if (reason === undefined || why === undefined) continue;
    const broken = podByName.get(p)?.templateBroken;
    if (reason === 'MemberDown' && broken !== undefined && a.replacing === undefined) {
      replacementBlocked ??= `${why}; but its pod fails with ${broken}: a new member would run the same template, fix the spec (image, config) instead`;
      continue;
    }
    if (a.replacing === undefined && inFlight >= maxConcurrent) {
      replacementBlocked ??= `${why}; waiting: ${inFlight} replacement(s) in flight (maxConcurrentReplacements ${maxConcurrent})`;
      continue;
    }
    if (raft.leaderId === a.raftId) {
      replacementBlocked ??= `${why}; it leads the group: waiting for leadership to move`;
      continue;
    }
    const remaining = m.role === 'voter' ? voters.filter((v) => v !== a.raftId) : voters;
    const healthy = remaining.filter(healthyVoter);
    const need = quorum(remaining.length);
    if (remaining.length === 0 || healthy.length < need) {
      replacementBlocked ??= `${why}; removing it now would leave ${healthy.length} healthy of ${remaining.length} voters (a majority is ${need}): waiting`;
      continue;
    }
    return { statefulSetReplicas: cur, step: { type: 'RemoveMember', pod: p, raftId: a.raftId, replace: reason, why } };
  }
  const rb = replacementBlocked !== undefined ? { replacementBlocked } : {};
  if (replacementWait !== undefined) return { statefulSetReplicas: cur, waiting: replacementWait, ...rb };

  // 3. Scale out: one pod at a time.
  if (cur < desired) return { statefulSetReplicas: cur + 1, waiting: `adding ${cur + 1}/${desired}`, ...rb };

  // 4. Scale in: the highest ordinal first, never below a healthy majority.
  if (cur > desired && top !== undefined) {
    const id = idOf(top)!;
    const remaining = voters.filter((v) => v !== id);
    if (remaining.length < 1) return { ...rb, statefulSetReplicas: cur, blocked: 'cannot remove the last member' };
    const healthy = remaining.filter(healthyVoter);
    const need = quorum(remaining.length);
    if (healthy.length < need) {
      return {
        ...rb,
        statefulSetReplicas: cur,
        blocked: `removing ${top} (raft id ${id}) would leave ${healthy.length} healthy of ${remaining.length} voters (a majority is ${need}); waiting for the unhealthy members to recover`,
      };
    }
    if (raft.leaderId === id) {
      const to = transferTarget(id);
      if (to === undefined) return { ...rb, statefulSetReplicas: cur, blocked: `${top} leads and no healthy caught-up voter can take over` };
      return { ...rb, statefulSetReplicas: cur, step: { type: 'TransferLeader', from: top, to: podOfId(to)!, toRaftId: to, why: `${top} is being removed` } };
    }
    // Its other ranges: leaderships leave before the removal (spread to the voters leading fewest, each
    // step visible and retried) instead of inside the removal's fan-out, and its replicas another store
    // lacks are moved rather than dropped. Replicas only count while every remaining voter is healthy: a
    // drain moves them to live stores only, so otherwise it could not make progress and would repeat.
    const self = selfReport(input.reports, top, id);
    const led = self?.rangesLed ?? 0;
    const movable = remaining.every(healthyVoter) ? (self?.rangesMovable ?? 0) : 0;
    if (led > 0 || movable > 0) {
      const what = [led > 0 ? `leads ${led} range(s)` : '', movable > 0 ? `holds ${movable} replica(s) another store lacks` : ''].filter((x) => x).join(' and ');
      // The members the scale-in removes after this one: what lands there would only move again.
      const avoid: number[] = [];
      for (let o = desired; o < cur - 1; o++) {
        const v = idOf(nameAt(o) ?? '');
        if (v !== undefined && raft.members.has(v)) avoid.push(v);
      }
      return {
        ...rb,
        statefulSetReplicas: cur,
        step: { type: 'DrainStore', pod: top, raftId: id, leadershipsOnly: false, rangesLed: led, rangesMovable: movable, ...(avoid.length > 0 ? { avoid } : {}), why: `${top} is being removed and ${what}` },
      };
    }
    return { ...rb, statefulSetReplicas: cur, step: { type: 'RemoveMember', pod: top, raftId: id, ...(self?.rangesLed !== undefined ? { rangesLed: self.rangesLed } : {}) } };
  }

  // 5. Rolling upgrade (OnDelete): one pod at a time, only while the whole group is healthy.
  const stale = input.pods.filter((p) => p.exists && !p.updated && podOrdinal(p.name) < cur);
  if (stale.length > 0) {
    const stuck = stuckRestart(input, cur, raft, healthyVoter);
    if (stuck) return { statefulSetReplicas: cur, step: stuck };
    const allReady = input.pods.filter((p) => podOrdinal(p.name) < cur).every((p) => p.exists && p.ready);
    const allCaughtUp = voters.every((v) => v === raft.leaderId || (healthyVoter(v) && caughtUp(raft.members.get(v), raft.commit, maxLag)));
    if (!allReady || !allCaughtUp || voters.length < cur) return { ...rb, statefulSetReplicas: cur, waiting: 'upgrade: waiting until every node is ready and caught up before restarting the next' };
    // Followers first (highest ordinal first), the leader last.
    const leaderPod = podOfId(raft.leaderId);
    const order = [...stale].sort((a, b) => Number(a.name === leaderPod) - Number(b.name === leaderPod) || podOrdinal(b.name) - podOrdinal(a.name));
    const next = order[0]!;
    if (next.name === leaderPod && voters.length > 1) {
      const to = transferTarget(raft.leaderId);
      if (to === undefined) return { ...rb, statefulSetReplicas: cur, waiting: 'upgrade: no caught-up voter to take leadership yet' };
      return { ...rb, statefulSetReplicas: cur, step: { type: 'TransferLeader', from: next.name, to: podOfId(to)!, toRaftId: to, why: `${next.name} restarts for the upgrade` } };
    }
    // Its other ranges' leaderships too (each would otherwise wait out an election timeout); its replicas
    // stay, the store comes back with them.
    const nextId = idOf(next.name);
    const led = nextId === undefined || voters.length < 2 ? 0 : (selfReport(input.reports, next.name, nextId)?.rangesLed ?? 0);
    if (nextId !== undefined && led > 0) {
      return { ...rb, statefulSetReplicas: cur, step: { type: 'DrainStore', pod: next.name, raftId: nextId, leadershipsOnly: true, rangesLed: led, rangesMovable: 0, why: `${next.name} restarts for the upgrade and leads ${led} range(s)` } };
    }
    return { ...rb, statefulSetReplicas: cur, step: { type: 'DeletePod', pod: next.name, why: 'restart on the new template (upgrade)' } };
  }
  return { ...rb, statefulSetReplicas: cur };
}
