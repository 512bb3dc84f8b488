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
//              if it leads → RemoveMember → once the removal is committed (id gone from the
//              configuration) the StatefulSet shrinks by one (whenScaled: Delete removes the PVC)
//   upgrade:   (updateStrategy OnDelete) one pod at a time, followers first: TransferLeader away from
//              it if it leads → DeletePod → wait until every pod is ready on the new template, every
//              voter is active and caught up → next
//   rollback:  a pod on an old template that is not ready (stuck on a bad image after the spec went back)
//              is restarted without waiting for itself, when that cannot cost the quorum — also when no
//              leader is known, if its container does not even run
//   transient loss (pod gone/unready, member still configured): no membership change; status Degraded
//   no leader known: no change at all (the StatefulSet keeps its size)
import type { MembersState } from './raftids.js';
import { podOrdinal, quorum } from './names.js';

export type MembershipStep =
  | { type: 'AddLearner'; pod: string; raftId: number; address: string }
  | { type: 'Promote'; pod: string; raftId: number }
  | { type: 'RemoveMember'; pod: string; raftId: number }
  | { type: 'TransferLeader'; from: string; to: string; toRaftId: number; why: string }
  | { type: 'DeletePod'; pod: string; why: string };

export interface RaftMember {
  role: 'voter' | 'learner';
  match: number;
  state: string;
  recentActive: boolean;
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
}

export interface MembershipPlan {
  statefulSetReplicas: number;
  step?: MembershipStep;
  /** Scale-in refused: why (ScaleInBlocked condition). */
  blocked?: string;
  /** Waiting for something (progress message). */
  waiting?: string;
}

export const DEFAULT_MAX_LAG = 100;

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

  // 1. The highest pod's member was removed (committed): shrink the StatefulSet by one.
  const top = nameAt(cur - 1);
  if (cur > 0 && top !== undefined) {
    const a = state.pods[top]!;
    if (a.added && !raft.members.has(a.raftId)) return { statefulSetReplicas: cur - 1, waiting: `${top} (raft id ${a.raftId}) was removed from the group: shrinking the StatefulSet` };
    if (cur > desired && !a.added && !raft.members.has(a.raftId)) return { statefulSetReplicas: cur - 1, waiting: `${top} never joined: shrinking the StatefulSet` };
  }

  // 2. Pods inside the StatefulSet that are not voters yet: add as learner, then promote (one at a time).
  for (let o = 0; o < cur; o++) {
    const p = nameAt(o);
    if (p === undefined) return { statefulSetReplicas: cur, waiting: `pod ordinal ${o} has no raft id yet` };
    const a = state.pods[p]!;
    const m = raft.members.get(a.raftId);
    if (!m) {
      if (a.added) {
        // Removed earlier but not the highest pod (should not happen with highest-first scale-in).
        return { statefulSetReplicas: cur, blocked: `${p} (raft id ${a.raftId}) is no longer a member; it must be replaced (delete its pod and PVC)` };
      }
      if (o >= desired) continue; // being scaled in; handled above once it is the highest
      if (!podByName.get(p)?.exists) return { statefulSetReplicas: cur, waiting: `waiting for pod ${p} to be created` };
      // Only once its node serves (then its DNS name resolves and the first snapshot can land).
      if (input.answering && !input.answering.has(p)) return { statefulSetReplicas: cur, waiting: `waiting for the node of ${p} to start` };
      return { statefulSetReplicas: cur, step: { type: 'AddLearner', pod: p, raftId: a.raftId, address: input.address(p) } };
    }
    if (m.role === 'learner') {
      if (o >= desired) return { statefulSetReplicas: cur, step: { type: 'RemoveMember', pod: p, raftId: a.raftId } };
      if (caughtUp(m, raft.commit, maxLag)) return { statefulSetReplicas: cur, step: { type: 'Promote', pod: p, raftId: a.raftId } };
      return { statefulSetReplicas: cur, waiting: `learner ${p} (raft id ${a.raftId}) is catching up (match ${m.match}, commit ${raft.commit}, ${m.state})` };
    }
  }

  // 3. Scale out: one pod at a time.
  if (cur < desired) return { statefulSetReplicas: cur + 1, waiting: `adding ${cur + 1}/${desired}` };

  // 4. Scale in: the highest ordinal first, never below a healthy majority.
  if (cur > desired && top !== undefined) {
    const id = idOf(top)!;
    const remaining = voters.filter((v) => v !== id);
    if (remaining.length < 1) return { statefulSetReplicas: cur, blocked: 'cannot remove the last member' };
    const healthy = remaining.filter(healthyVoter);
    const need = quorum(remaining.length);
    if (healthy.length < need) {
      return {
        statefulSetReplicas: cur,
        blocked: `removing ${top} (raft id ${id}) would leave ${healthy.length} healthy of ${remaining.length} voters (a majority is ${need}); waiting for the unhealthy members to recover`,
      };
    }
    if (raft.leaderId === id) {
      const to = transferTarget(id);
      if (to === undefined) return { statefulSetReplicas: cur, blocked: `${top} leads and no healthy caught-up voter can take over` };
      return { statefulSetReplicas: cur, step: { type: 'TransferLeader', from: top, to: podOfId(to)!, toRaftId: to, why: `${top} is being removed` } };
    }
    return { statefulSetReplicas: cur, step: { type: 'RemoveMember', pod: top, raftId: id } };
  }

  // 5. Rolling upgrade (OnDelete): one pod at a time, only while the whole group is healthy.
  const stale = input.pods.filter((p) => p.exists && !p.updated && podOrdinal(p.name) < cur);
  if (stale.length > 0) {
    const stuck = stuckRestart(input, cur, raft, healthyVoter);
    if (stuck) return { statefulSetReplicas: cur, step: stuck };
    const allReady = input.pods.filter((p) => podOrdinal(p.name) < cur).every((p) => p.exists && p.ready);
    const allCaughtUp = voters.every((v) => v === raft.leaderId || (healthyVoter(v) && caughtUp(raft.members.get(v), raft.commit, maxLag)));
    if (!allReady || !allCaughtUp || voters.length < cur) return { statefulSetReplicas: cur, waiting: 'upgrade: waiting until every node is ready and caught up before restarting the next' };
    // Followers first (highest ordinal first), the leader last.
    const leaderPod = podOfId(raft.leaderId);
    const order = [...stale].sort((a, b) => Number(a.name === leaderPod) - Number(b.name === leaderPod) || podOrdinal(b.name) - podOrdinal(a.name));
    const next = order[0]!;
    if (next.name === leaderPod && voters.length > 1) {
      const to = transferTarget(raft.leaderId);
      if (to === undefined) return { statefulSetReplicas: cur, waiting: 'upgrade: no caught-up voter to take leadership yet' };
      return { statefulSetReplicas: cur, step: { type: 'TransferLeader', from: next.name, to: podOfId(to)!, toRaftId: to, why: `${next.name} restarts for the upgrade` } };
    }
    return { statefulSetReplicas: cur, step: { type: 'DeletePod', pod: next.name, why: 'restart on the new template (upgrade)' } };
  }
  return { statefulSetReplicas: cur };
}
