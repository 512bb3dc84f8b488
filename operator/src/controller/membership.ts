// Raft membership steps (later stage: node admin API, proto/admin.proto). The planner asks this module
// for the one next safe step; the reconciler executes it through an admin client and persists progress
// in status before the StatefulSet is resized, so a killed operator resumes where it stopped.
//
// Order the later stage implements (etcd-operator / TiKV PD practice):
//   scale-out: StatefulSet +1 pod → AddLearner(pod) → learner caught up → Promote(pod) → next pod
//   scale-in:  TransferLeader away from the highest ordinal → RemoveMember(pod) → StatefulSet −1 pod
//              (its PVC is deleted by whenScaled=Delete, so a later scale-out never resurrects it)
//   never:     remove a member while the remaining voters would lose a majority of healthy ones.
import type { Member } from '../api/types.js';

export type MembershipStep =
  | { type: 'AddLearner'; pod: string }
  | { type: 'Promote'; pod: string; raftId: string }
  | { type: 'RemoveMember'; pod: string; raftId: string }
  | { type: 'TransferLeader'; from: string; to: string };

export interface MembershipInput {
  desiredReplicas: number;
  members: Member[];
  /** Whether nodes expose the admin API yet; false in this stage. */
  adminApi: boolean;
}

/**
 * How many pods the StatefulSet should have now, and the membership step to take first (if any).
 * Without the admin API the StatefulSet simply follows spec.replicas.
 */
export function planMembership(input: MembershipInput): { statefulSetReplicas: number; step?: MembershipStep } {
  if (!input.adminApi) return { statefulSetReplicas: input.desiredReplicas };
  // Later stage: one step at a time, see the header comment.
  return { statefulSetReplicas: input.desiredReplicas };
}
