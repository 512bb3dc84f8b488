// Golden tests of the pure planner: (cluster, observed) → plan (objects, status, events, next step).
// UPDATE_GOLDEN=1 rewrites test/unit/operator/golden/*.yaml; review the diff before committing.
import { strict as assert } from 'node:assert';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { stringify } from 'yaml';
import { plan, type Observed } from '../../../operator/src/controller/plan.js';
import type { KvsCluster } from '../../../operator/src/api/types.js';
import { repoRoot } from '../../../operator/src/api/gen-crd.js';
import { EARLIER, NOW, cluster, healthyStatus, membersCm, pod, podRev, pods, reports, sts } from './fixtures.js';
import type { NodeReport } from '../../../operator/src/controller/status.js';
import type { V1PersistentVolumeClaim } from '@kubernetes/client-node';

/** A data-dir incarnation per raft id (what nodes report and the group recorded). */
const INC = (id: number) => (String(id).repeat(32) + '0'.repeat(32)).slice(0, 32);
/** Adds incarnations to admin reports: every node reports its own, the leader the recorded ones; overrides per pod. */
function withInc(r: Record<string, NodeReport>, self: Record<string, Partial<NodeReport>> = {}, refused: number[] = []): Record<string, NodeReport> {
  for (const [p, rep] of Object.entries(r)) {
    rep.incarnation = INC(rep.raftId);
    rep.identityRefused = false;
    for (const m of rep.members) {
      m.incarnation = INC(m.raftId);
      if (refused.includes(m.raftId)) m.refused = true;
    }
    Object.assign(rep, self[p] ?? {});
  }
  return r;
}
const TEN_MIN_AGO = '2026-11-21T09:50:00Z';
const ONE_MIN_AGO = '2026-11-21T09:59:00Z';
const terminatingPvc = (podName: string): V1PersistentVolumeClaim => ({ apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name: `data-${podName}`, namespace: 'db', deletionTimestamp: new Date(EARLIER) } });
/** demo-1 (raft id 2) was removed for a replacement and got raft id 4 (replaces 2). */
const cmReplaced = (reason: 'VolumeLost' | 'MemberDown' = 'VolumeLost') => membersCm(3, (st) => {
  st.pods['demo-1'] = { raftId: 4, join: true, added: false, replaces: 2, replaceReason: reason };
  st.retired = [2];
  st.nextRaftId = 5;
});

const goldenDir = resolve(repoRoot(), 'test/unit/operator/golden');

interface Case {
  name: string;
  why: string;
  cluster: KvsCluster;
  observed: Omit<Observed, 'now' | 'pvcs'> & { pvcs?: Observed['pvcs'] };
}

const G3 = [{ id: 1 }, { id: 2 }, { id: 3 }];
const G5 = [{ id: 1 }, { id: 2 }, { id: 3 }, { id: 4 }, { id: 5 }];
/** Scale-out state: demo-3 got raft id 4 (join) before its pod existed. */
const cm4 = () => membersCm(3, (st) => {
  st.pods['demo-3'] = { raftId: 4, join: true, added: false };
  st.nextRaftId = 5;
});

const cases: Case[] = [
  { name: 'new-cluster', why: 'nothing exists yet: all children planned, phase Creating', cluster: cluster(), observed: { pods: [] } },
  {
    name: 'pods-starting',
    why: 'StatefulSet created, pods not ready yet: no quorum, Creating',
    cluster: cluster({}, { conditions: [] }),
    observed: { statefulSet: sts(3, { ready: 0 }), pods: pods(3, { 0: 'starting', 1: 'starting', 2: 'starting' }), membersConfig: membersCm(3) },
  },
  {
    name: 'running',
    why: 'everything ready: Available, Running, an Available event on the first pass; members/leader from the admin API',
    cluster: cluster(),
    observed: { statefulSet: sts(3), pods: pods(3), membersConfig: membersCm(3), nodes: reports(G3, 1) },
  },
  {
    name: 'steady',
    why: 'ready and already reported: status unchanged (transition times kept), no events, Done',
    cluster: cluster({}, healthyStatus()),
    observed: { statefulSet: sts(3), pods: pods(3), membersConfig: membersCm(3), nodes: reports(G3, 1) },
  },
  {
    name: 'scale-out',
    why: 'spec 5, StatefulSet 3, no Raft leader known (admin API silent): no membership change, the StatefulSet keeps 3',
    cluster: cluster({ replicas: 5 }, healthyStatus(), 2),
    observed: { statefulSet: sts(3), pods: pods(3), membersConfig: membersCm(3) },
  },
  {
    name: 'paused',
    why: 'paused: nothing applied, ReconciliationPaused=True, a Paused event',
    cluster: cluster({ replicas: 5, paused: true }, healthyStatus(), 2),
    observed: { statefulSet: sts(3), pods: pods(3) },
  },
  {
    name: 'crashloop',
    why: 'one pod crash-looping after the cluster was available: Degraded PodsFailing, still Available',
    cluster: cluster({}, healthyStatus()),
    observed: { statefulSet: sts(3, { ready: 2 }), pods: pods(3, { 2: 'crashloop' }), membersConfig: membersCm(3), nodes: reports(G3, 1, { answering: ['demo-0', 'demo-1'] }) },
  },
  {
    name: 'quorum-lost',
    why: '1 of 3 ready: Available=False QuorumLost, phase Unavailable, Warning events',
    cluster: cluster({}, healthyStatus()),
    observed: { statefulSet: sts(3, { ready: 1 }), pods: [pod(0), pod(1, 'starting'), pod(2, 'starting')], membersConfig: membersCm(3) },
  },
  {
    name: 'upgrade',
    why: 'new image: template changes, Upgrading event; StatefulSet mid-rollout → phase Upgrading',
    cluster: cluster({ image: 'kvs/node:v2', version: 'v2' }, healthyStatus(), 2),
    observed: { statefulSet: sts(3, { updating: true }), pods: pods(3), membersConfig: membersCm(3) },
  },
  {
    name: 'storage-change-ignored',
    why: 'storage differs from the existing StatefulSet (CRD without CEL): volumes kept, Warning event',
    cluster: cluster({ storage: { size: '5Gi' } }, healthyStatus(), 2),
    observed: { statefulSet: sts(3, { size: '1Gi' }), pods: pods(3), membersConfig: membersCm(3), nodes: reports(G3, 1) },
  },
  {
    name: 'scale-in',
    why: 'spec 3, StatefulSet 5, healthy group led by demo-0: RemoveMember of the highest ordinal (demo-4) first; the StatefulSet keeps 5',
    cluster: cluster({ replicas: 3 }, healthyStatus(5), 3),
    observed: { statefulSet: sts(5), pods: pods(5), membersConfig: membersCm(5), nodes: reports(G5, 1) },
  },
  {
    name: 'pod-missing',
    why: 'a pod vanished (node loss): not a removal — StatefulSet keeps 3, Degraded NodesNotReady, still Available',
    cluster: cluster({}, healthyStatus()),
    observed: {
      statefulSet: { ...sts(3, { ready: 2 }), status: { ...sts(3).status!, replicas: 2, readyReplicas: 2 } },
      pods: [pod(0), pod(2)],
      membersConfig: membersCm(3),
      nodes: reports([{ id: 1 }, { id: 2, active: false }, { id: 3 }], 1, { answering: ['demo-0', 'demo-2'] }),
    },
  },
  {
    name: 'full-spec',
    why: 'every optional field set: passed through to the pods',
    cluster: cluster({
      replicas: 5,
      image: 'kvs/node:v1.2.3',
      version: 'v1.2.3',
      resources: { requests: { cpu: '250m', memory: '256Mi' }, limits: { memory: '1Gi' } },
      storage: { size: '10Gi', storageClassName: 'kvs-local' },
      affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'disk', operator: 'In', values: ['ssd'] }] }] } } },
      topologySpreadConstraints: [{ maxSkew: 1, topologyKey: 'topology.kubernetes.io/zone', whenUnsatisfiable: 'ScheduleAnyway' }],
      tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'kvs', effect: 'NoSchedule' }],
      podDisruptionBudget: { maxUnavailable: 2 },
      nodeConfig: { 'raft-tick-ms': '100', 'snapshot-interval': '10000' },
      pvcRetentionPolicy: 'Delete',
    }),
    observed: { pods: [] },
  },
  // ---- Raft membership (one golden per pain the design must make impossible) ----
  {
    name: 'raft-scale-out-allocate-first',
    why: 'scale-out 3→4, group healthy: demo-3 gets raft id 4 (join, --peers address book) in the members ConfigMap BEFORE the StatefulSet grows to 4',
    cluster: cluster({ replicas: 4 }, healthyStatus(), 2),
    observed: { statefulSet: sts(3), pods: pods(3), membersConfig: membersCm(3), nodes: reports(G3, 1) },
  },
  {
    name: 'raft-scale-out-add-learner',
    why: 'demo-3 (raft id 4) runs with --join and answers: AddLearner(4, its DNS address) on the leader (then a fresh snapshot)',
    cluster: cluster({ replicas: 4 }, healthyStatus(), 2),
    observed: { statefulSet: sts(4), pods: pods(4, { 3: 'starting' }), membersConfig: cm4(), nodes: reports(G3, 1, { joining: [{ pod: 'demo-3', id: 4 }] }) },
  },
  {
    name: 'raft-scale-out-wait-for-node',
    why: 'demo-3 exists but its node does not answer yet: no AddLearner until it serves',
    cluster: cluster({ replicas: 4 }, healthyStatus(), 2),
    observed: { statefulSet: sts(4), pods: pods(4, { 3: 'starting' }), membersConfig: cm4(), nodes: reports(G3, 1) },
  },
  {
    name: 'raft-scale-out-learner-catching-up',
    why: 'learner 4 is still receiving the snapshot (Snapshot state): no Promote, requeue soon',
    cluster: cluster({ replicas: 4 }, healthyStatus(), 2),
    observed: { statefulSet: sts(4), pods: pods(4, { 3: 'starting' }), membersConfig: cm4(), nodes: reports([...G3, { id: 4, role: 'learner', match: 0, state: 'Snapshot' }], 1) },
  },
  {
    name: 'raft-scale-out-promote',
    why: 'learner 4 caught up (Replicate, match ≥ commit − maxLag): Promote',
    cluster: cluster({ replicas: 4 }, healthyStatus(), 2),
    observed: { statefulSet: sts(4), pods: pods(4), membersConfig: cm4(), nodes: reports([...G3, { id: 4, role: 'learner', match: 95 }], 1) },
  },
  {
    name: 'raft-scale-in-transfer-leader',
    why: 'scale-in 5→3 and the highest pod (demo-4) leads: TransferLeader to the most caught-up healthy voter first',
    cluster: cluster({ replicas: 3 }, healthyStatus(5), 3),
    observed: { statefulSet: sts(5), pods: pods(5), membersConfig: membersCm(5), nodes: reports(G5, 5) },
  },
  // ---- Scale-in drains the store first (issue 12 item 7, issue 13) ----
  {
    name: 'raft-scale-in-drain-store',
    why: 'scale-in 5→3: demo-4 does not lead range 1 but its node reports leading 3 other ranges: DrainStore (leaderships off, replicas moved) before RemoveMember',
    cluster: cluster({ replicas: 3 }, healthyStatus(5), 3),
    observed: { statefulSet: sts(5), pods: pods(5), membersConfig: membersCm(5), nodes: reports(G5, 1, { ranges: { 1: { led: 2 }, 5: { led: 3 } } }) },
  },
  {
    name: 'raft-scale-in-drained-remove',
    why: 'scale-in 5→3 after the drain: demo-4 reports leading 0 ranges and nothing movable: RemoveMember (the step says what its node reported)',
    cluster: cluster({ replicas: 3 }, healthyStatus(5), 3),
    observed: { statefulSet: sts(5), pods: pods(5), membersConfig: membersCm(5), nodes: reports(G5, 1, { ranges: { 1: { led: 5 }, 5: { led: 0 } } }) },
  },
  {
    name: 'raft-scale-in-drain-movable',
    why: 'scale-in 5→3: demo-4 leads nothing but holds 2 replicas another (healthy) store lacks: DrainStore moves them before RemoveMember',
    cluster: cluster({ replicas: 3 }, healthyStatus(5), 3),
    observed: { statefulSet: sts(5), pods: pods(5), membersConfig: membersCm(5), nodes: reports(G5, 1, { ranges: { 5: { led: 0, movable: 2 } } }) },
  },
  {
    name: 'raft-scale-in-movable-store-down',
    why: 'scale-in 5→3: demo-4 holds 2 movable replicas but demo-1 is down (a drain moves to live stores only and could not finish): replicas are not waited for, RemoveMember',
    cluster: cluster({ replicas: 3 }, healthyStatus(5), 3),
    observed: {
      statefulSet: sts(5, { ready: 4 }),
      pods: [pod(0), pod(1, 'starting'), pod(2), pod(3), pod(4)],
      membersConfig: membersCm(5),
      nodes: reports([{ id: 1 }, { id: 2, active: false }, { id: 3 }, { id: 4 }, { id: 5 }], 1, { answering: ['demo-0', 'demo-2', 'demo-3', 'demo-4'], ranges: { 5: { led: 0, movable: 2 } } }),
    },
  },
  {
    name: 'raft-scale-in-shrink-after-removal',
    why: 'raft id 5 (demo-4) is gone from the committed configuration: only now the StatefulSet shrinks to 4 (whenScaled: Delete removes its PVC)',
    cluster: cluster({ replicas: 3 }, healthyStatus(5), 3),
    observed: { statefulSet: sts(5), pods: pods(5), membersConfig: membersCm(5), nodes: reports(G5.slice(0, 4), 1) },
  },
  {
    name: 'raft-scale-in-blocked',
    why: 'scale-in 3→1 while demo-1 is down: removing demo-2 would leave 1 healthy of 2 voters: refused, ScaleInBlocked=True + Warning event, nothing changes',
    cluster: cluster({ replicas: 1 }, healthyStatus(3), 2),
    observed: { statefulSet: sts(3, { ready: 2 }), pods: [pod(0), pod(1, 'starting'), pod(2)], membersConfig: membersCm(3), nodes: reports([{ id: 1 }, { id: 2, active: false }, { id: 3 }], 1, { answering: ['demo-0', 'demo-2'] }) },
  },
  {
    name: 'raft-ids-never-reused',
    why: 'after 5→3 (ids 4, 5 retired, pods gone) a scale-out to 4 gives demo-3 the fresh id 6, never 4',
    cluster: cluster({ replicas: 4 }, healthyStatus(), 4),
    observed: {
      statefulSet: sts(3),
      pods: pods(3),
      membersConfig: membersCm(5, (st) => {
        st.pods['demo-3']!.added = true;
        st.pods['demo-4']!.added = true;
      }),
      nodes: reports(G3, 2),
    },
  },
  {
    name: 'raft-removed-pod-back-in-range',
    why: 'demo-4 (raft id 5) was removed but the user scaled back to 5 before the StatefulSet shrank: it is NOT re-added under its old id — the StatefulSet shrinks first, a fresh id follows',
    cluster: cluster({ replicas: 5 }, healthyStatus(5), 4),
    observed: { statefulSet: sts(5), pods: pods(5), membersConfig: membersCm(5), nodes: reports(G5.slice(0, 4), 1) },
  },
  {
    name: 'raft-pod-restarting',
    why: 'demo-2 restarts (same PVC, same raft id, not answering): no membership change, Degraded NodesNotReady, still Available',
    cluster: cluster({}, healthyStatus()),
    observed: { statefulSet: sts(3, { ready: 2 }), pods: [pod(0), pod(1), pod(2, 'starting')], membersConfig: membersCm(3), nodes: reports([{ id: 1 }, { id: 2 }, { id: 3, active: false, state: 'Probe', match: 90 }], 1, { answering: ['demo-0', 'demo-1'] }) },
  },
  {
    name: 'raft-upgrade-follower-first',
    why: 'OnDelete upgrade, all on the old revision, demo-0 leads: restart the highest follower (demo-2) first',
    cluster: cluster({ image: 'kvs/node:dev2', version: 'dev2' }, healthyStatus(), 2),
    observed: { statefulSet: sts(3, { updating: true }), pods: [podRev(0, 'demo-aaa'), podRev(1, 'demo-aaa'), podRev(2, 'demo-aaa')], membersConfig: membersCm(3), nodes: reports(G3, 1) },
  },
  {
    name: 'raft-upgrade-wait-caught-up',
    why: 'demo-2 restarted on the new revision but is not caught up yet: wait before restarting the next',
    cluster: cluster({ image: 'kvs/node:dev2', version: 'dev2' }, healthyStatus(), 2),
    observed: { statefulSet: sts(3, { updating: true }), pods: [podRev(0, 'demo-aaa'), podRev(1, 'demo-aaa'), podRev(2, 'demo-bbb')], membersConfig: membersCm(3), nodes: reports([{ id: 1 }, { id: 2 }, { id: 3, match: 10, state: 'Probe' }], 1) },
  },
  {
    name: 'raft-upgrade-leader-last',
    why: 'only the leader (demo-0) is left on the old revision: TransferLeader away from it before its restart',
    cluster: cluster({ image: 'kvs/node:dev2', version: 'dev2' }, healthyStatus(), 2),
    observed: { statefulSet: sts(3, { updating: true }), pods: [podRev(0, 'demo-aaa'), podRev(1, 'demo-bbb'), podRev(2, 'demo-bbb')], membersConfig: membersCm(3), nodes: reports(G3, 1) },
  },
  {
    name: 'raft-upgrade-drain-leaderships',
    why: 'OnDelete upgrade: the next pod to restart (demo-2, a follower in range 1) reports leading 2 ranges: DrainStore leaderships only (its replicas stay) before DeletePod; phase stays Upgrading',
    cluster: cluster({ image: 'kvs/node:dev2', version: 'dev2' }, healthyStatus(), 2),
    observed: { statefulSet: sts(3, { updating: true }), pods: [podRev(0, 'demo-aaa'), podRev(1, 'demo-aaa'), podRev(2, 'demo-aaa')], membersConfig: membersCm(3), nodes: reports(G3, 1, { ranges: { 1: { led: 1 }, 3: { led: 2 } } }) },
  },
  {
    name: 'raft-upgrade-drained-restart',
    why: 'OnDelete upgrade after the drain: demo-2 reports leading no range: DeletePod',
    cluster: cluster({ image: 'kvs/node:dev2', version: 'dev2' }, healthyStatus(), 2),
    observed: { statefulSet: sts(3, { updating: true }), pods: [podRev(0, 'demo-aaa'), podRev(1, 'demo-aaa'), podRev(2, 'demo-aaa')], membersConfig: membersCm(3), nodes: reports(G3, 1, { ranges: { 1: { led: 3 }, 3: { led: 0 } } }) },
  },
  {
    name: 'raft-upgrade-last-pod-restarting',
    why: 'OnDelete: the last restarted pod is on the new revision but not ready yet: still Upgrading (not Degraded), no step',
    cluster: cluster({ image: 'kvs/node:dev2', version: 'dev2' }, { ...healthyStatus(), phase: 'Upgrading' }, 2),
    observed: {
      statefulSet: (() => {
        const s = sts(3, { ready: 2 });
        s.spec!.updateStrategy = { type: 'OnDelete' };
        s.status!.updateRevision = 'demo-bbb';
        return s;
      })(),
      pods: [podRev(0, 'demo-bbb'), podRev(1, 'demo-bbb'), podRev(2, 'demo-bbb', 'starting')],
      membersConfig: membersCm(3),
      nodes: reports([{ id: 1 }, { id: 2 }, { id: 3, state: 'Probe', match: 50, active: false }], 1, { answering: ['demo-0', 'demo-1'] }),
    },
  },
  {
    name: 'raft-rollback-restart-stuck-pod',
    why: 'rollback after a failed upgrade: the spec is back on the good template (revision demo-aaa) but demo-2 is stuck on the bad one (ImagePullBackOff, no container, its node silent): restart it now — waiting for every node to be ready would wait for demo-2 itself, forever; it holds no part of the quorum',
    cluster: cluster({}, { ...healthyStatus(), phase: 'Upgrading' }, 3),
    observed: {
      statefulSet: sts(3, { ready: 2 }),
      pods: [podRev(0, 'demo-aaa'), podRev(1, 'demo-aaa'), podRev(2, 'demo-bad', 'imagepull')],
      membersConfig: membersCm(3),
      nodes: reports([{ id: 1 }, { id: 2 }, { id: 3, active: false, state: 'Probe', match: 90 }], 1, { answering: ['demo-0', 'demo-1'] }),
    },
  },
  {
    name: 'raft-rollback-would-cost-quorum',
    why: 'demo-2 is on an old template and not ready, but its node still runs and is active in the group while demo-1 is down: restarting demo-2 would leave the leader alone (1 of 3): wait',
    cluster: cluster({}, { ...healthyStatus(), phase: 'Upgrading' }, 3),
    observed: {
      statefulSet: sts(3, { ready: 1 }),
      pods: [podRev(0, 'demo-aaa'), podRev(1, 'demo-aaa', 'starting'), podRev(2, 'demo-bad', 'starting')],
      membersConfig: membersCm(3),
      nodes: reports([{ id: 1 }, { id: 2, active: false, state: 'Probe', match: 90 }, { id: 3 }], 1, { answering: ['demo-0', 'demo-2'] }),
    },
  },
  {
    name: 'raft-rollback-no-leader',
    why: 'a 1-node cluster rolled back from a bad image: no leader is known (its only node never started), the pod is stuck on the old revision with no container: restarting it cannot cost anything, so it is restarted although no membership change can be made',
    cluster: cluster({ replicas: 1 }, { ...healthyStatus(1), phase: 'Upgrading' }, 3),
    observed: {
      statefulSet: sts(1, { ready: 0 }),
      pods: [podRev(0, 'demo-bad', 'imagepull')],
      membersConfig: membersCm(1),
      nodes: {},
    },
  },
  {
    name: 'raft-upgrade-stuck-pod-current-template',
    why: 'the upgrade itself is broken: demo-2 already runs the current template (the bad image) and cannot start; it is not restarted (that would not help) and nothing else moves until the spec changes',
    cluster: cluster({ image: 'kvs/node:no-such-tag' }, { ...healthyStatus(), phase: 'Upgrading' }, 2),
    observed: {
      statefulSet: sts(3, { ready: 2, updating: true }),
      pods: [podRev(0, 'demo-aaa'), podRev(1, 'demo-aaa'), podRev(2, 'demo-bbb', 'imagepull')],
      membersConfig: membersCm(3),
      nodes: reports([{ id: 1 }, { id: 2 }, { id: 3, active: false, state: 'Probe', match: 90 }], 1, { answering: ['demo-0', 'demo-1'] }),
    },
  },
  {
    name: 'raft-paused-mid-scale-out',
    why: 'paused while learner 4 waits for promotion: no object, no membership step; ReconciliationPaused=True',
    cluster: cluster({ replicas: 4, paused: true }, healthyStatus(), 2),
    observed: { statefulSet: sts(4), pods: pods(4), membersConfig: cm4(), nodes: reports([...G3, { id: 4, role: 'learner', match: 95 }], 1) },
  },
  {
    name: 'raft-lost-members-table',
    why: 'the members ConfigMap was deleted: ids are recovered from what each node reports (never re-allocated), nextRaftId stays above them',
    cluster: cluster({}, { ...healthyStatus(), nextRaftId: 4 }),
    observed: { statefulSet: sts(3), pods: pods(3), nodes: reports(G3, 1) },
  },
  // ---- Replacement: lost volumes (issue 11 item 3) ----
  {
    name: 'replace-volume-lost-remove',
    why: 'demo-1 came back on an empty volume under raft id 2: the leader refuses it, its node reports another incarnation and itself refused: RemoveMember(2) for a replacement (VolumeLost), MemberReplacement=True',
    cluster: cluster({}, healthyStatus()),
    observed: {
      statefulSet: sts(3, { ready: 2 }),
      pods: [pod(0), pod(1, 'starting'), pod(2)],
      membersConfig: membersCm(3),
      nodes: withInc(reports([{ id: 1 }, { id: 2, active: false, state: 'Probe', match: 0 }, { id: 3 }], 1), { 'demo-1': { incarnation: 'f'.repeat(32), identityRefused: true, leaderId: 0 } }, [2]),
    },
  },
  {
    name: 'replace-volume-lost-incarnation-only',
    why: 'the node of demo-2 reports an incarnation that differs from the one the group recorded (not yet refused by anyone, e.g. a fresh leader): still VolumeLost → RemoveMember(3)',
    cluster: cluster({}, healthyStatus()),
    observed: { statefulSet: sts(3), pods: pods(3), membersConfig: membersCm(3), nodes: withInc(reports(G3, 1), { 'demo-2': { incarnation: 'e'.repeat(32) } }) },
  },
  {
    name: 'replace-new-raft-id',
    why: 'raft id 2 is gone from the configuration and demo-1 is marked replacing: the slot gets the fresh raft id 4 (join) in the members ConfigMap, 2 is retired, and ReplacePod deletes data-demo-1 and the pod',
    cluster: cluster({}, healthyStatus()),
    observed: {
      statefulSet: sts(3, { ready: 2 }),
      pods: [pod(0), pod(1, 'starting'), pod(2)],
      membersConfig: membersCm(3, (st) => {
        st.pods['demo-1']!.replacing = 'VolumeLost';
      }),
      nodes: withInc(reports([{ id: 1 }, { id: 3 }], 1, { joining: [{ pod: 'demo-1', id: 2 }] }), { 'demo-1': { incarnation: 'f'.repeat(32), identityRefused: true } }),
    },
  },
  {
    name: 'replace-highest-pod-not-shrunk',
    why: 'the replaced member is the highest pod (demo-2, raft id 3, removed for a replacement): the StatefulSet keeps 3 (no scale-in shrink) and ReplacePod gives the slot raft id 4',
    cluster: cluster({}, healthyStatus()),
    observed: {
      statefulSet: sts(3, { ready: 2 }),
      pods: [pod(0), pod(1), pod(2, 'crashloop')],
      membersConfig: membersCm(3, (st) => {
        st.pods['demo-2']!.replacing = 'MemberDown';
      }),
      nodes: withInc(reports([{ id: 1 }, { id: 2 }], 1)),
    },
  },
  {
    name: 'replace-redo-old-member-still-running',
    why: 'demo-1 was assigned raft id 4 but its node still reports raft id 2 (the deletion did not happen): ReplacePod again (idempotent), never AddLearner(4) at the old node',
    cluster: cluster({}, healthyStatus()),
    observed: {
      statefulSet: sts(3, { ready: 2 }),
      pods: [pod(0), pod(1, 'starting'), pod(2)],
      membersConfig: cmReplaced(),
      nodes: withInc(reports([{ id: 1 }, { id: 3 }], 1, { joining: [{ pod: 'demo-1', id: 2 }] }), { 'demo-1': { incarnation: 'f'.repeat(32), identityRefused: true } }),
    },
  },
  {
    name: 'replace-add-learner',
    why: 'demo-1 restarted empty as raft id 4 (--join) and answers: AddLearner(4); MemberReplacement=True says 2 → 4',
    cluster: cluster({}, healthyStatus()),
    observed: {
      statefulSet: sts(3, { ready: 2 }),
      pods: [pod(0), pod(1, 'starting'), pod(2)],
      membersConfig: cmReplaced(),
      nodes: withInc(reports([{ id: 1 }, { id: 3 }], 1, { joining: [{ pod: 'demo-1', id: 4 }] })),
    },
  },
  {
    name: 'replace-promote',
    why: 'learner 4 (demo-1) caught up: Promote',
    cluster: cluster({}, healthyStatus()),
    observed: {
      statefulSet: sts(3),
      pods: pods(3),
      membersConfig: cmReplaced(),
      nodes: withInc(reports([{ id: 1 }, { id: 4, pod: 'demo-1', role: 'learner' }, { id: 3 }], 1)),
    },
  },
  {
    name: 'replace-done',
    why: 'raft id 4 is a voter: the replacement is complete — MemberReplaced event, lastReplacement recorded, MemberReplacement=False (Replaced)',
    cluster: cluster({}, healthyStatus()),
    observed: { statefulSet: sts(3), pods: pods(3), membersConfig: cmReplaced(), nodes: withInc(reports([{ id: 1 }, { id: 4, pod: 'demo-1' }, { id: 3 }], 1)) },
  },
  {
    name: 'replace-pod-stuck-on-deleted-claim',
    why: 'the PVC of demo-2 was deleted (kubectl delete pvc) and the pod cannot start on the terminating claim: delete the pod so the StatefulSet recreates pod and claim',
    cluster: cluster({}, healthyStatus()),
    observed: {
      statefulSet: sts(3, { ready: 2 }),
      pods: [pod(0), pod(1), pod(2, 'starting')],
      pvcs: [terminatingPvc('demo-2')],
      membersConfig: membersCm(3),
      nodes: withInc(reports([{ id: 1 }, { id: 2 }, { id: 3, active: false }], 1, { answering: ['demo-0', 'demo-1'] })),
    },
  },
  // ---- Failover: dead members (issue 11 item 4) ----
  {
    name: 'failover-down-within-timeout',
    why: 'demo-2 has been down for 1 minute (< failover.downTimeout 5m): a restart is never a replacement — no step, Degraded, the clock is kept',
    cluster: cluster({}, healthyStatus()),
    observed: {
      statefulSet: sts(3, { ready: 2 }),
      pods: [pod(0), pod(1), pod(2, 'starting')],
      membersConfig: membersCm(3, (st) => {
        st.pods['demo-2']!.downSince = ONE_MIN_AGO;
      }),
      nodes: withInc(reports([{ id: 1 }, { id: 2 }, { id: 3, active: false }], 1, { answering: ['demo-0', 'demo-1'] })),
    },
  },
  {
    name: 'failover-recovered-clock-reset',
    why: 'demo-2 had a down clock but is ready and answering again: the clock is cleared (the next outage starts from zero)',
    cluster: cluster({}, healthyStatus()),
    observed: {
      statefulSet: sts(3),
      pods: pods(3),
      membersConfig: membersCm(3, (st) => {
        st.pods['demo-2']!.downSince = TEN_MIN_AGO;
      }),
      nodes: withInc(reports(G3, 1)),
    },
  },
  {
    name: 'failover-down-past-timeout',
    why: 'demo-2 has been down for 10 minutes (> 5m) and demo-0 + demo-1 are a healthy majority of the remaining voters: RemoveMember(3) for a replacement (MemberDown)',
    cluster: cluster({}, healthyStatus()),
    observed: {
      statefulSet: sts(3, { ready: 2 }),
      pods: [pod(0), pod(1), pod(2, 'crashloop')],
      membersConfig: membersCm(3, (st) => {
        st.pods['demo-2']!.downSince = TEN_MIN_AGO;
      }),
      nodes: withInc(reports([{ id: 1 }, { id: 2 }, { id: 3, active: false }], 1, { answering: ['demo-0', 'demo-1'] })),
    },
  },
  {
    name: 'failover-image-pull-not-replaced',
    why: 'demo-2 down for 10 minutes in ImagePullBackOff (a bad image, e.g. a failed upgrade): a new member would run the same template — no replacement, ReplacementBlocked says to fix the spec',
    cluster: cluster({}, healthyStatus()),
    observed: {
      statefulSet: sts(3, { ready: 2 }),
      pods: [
        pod(0),
        pod(1),
        (() => {
          const p = pod(2, 'crashloop');
          p.status!.containerStatuses![0]!.state = { waiting: { reason: 'ImagePullBackOff' } };
          return p;
        })(),
      ],
      membersConfig: membersCm(3, (st) => {
        st.pods['demo-2']!.downSince = TEN_MIN_AGO;
      }),
      nodes: withInc(reports([{ id: 1 }, { id: 2 }, { id: 3, active: false }], 1, { answering: ['demo-0', 'demo-1'] })),
    },
  },
  {
    name: 'failover-disabled',
    why: 'failover.enabled=false: demo-2 down for 10 minutes is not replaced (Degraded only)',
    cluster: cluster({ failover: { enabled: false } }, healthyStatus()),
    observed: {
      statefulSet: sts(3, { ready: 2 }),
      pods: [pod(0), pod(1), pod(2, 'crashloop')],
      membersConfig: membersCm(3, (st) => {
        st.pods['demo-2']!.downSince = TEN_MIN_AGO;
      }),
      nodes: withInc(reports([{ id: 1 }, { id: 2 }, { id: 3, active: false }], 1, { answering: ['demo-0', 'demo-1'] })),
    },
  },
  {
    name: 'failover-quorum-at-risk',
    why: '5 voters, demo-3 down past the timeout while demo-1 and demo-2 are down too: removing 4 would leave 2 healthy of 4 (a majority is 3): no step, MemberReplacement=True ReplacementBlocked + Warning event',
    cluster: cluster({ replicas: 5 }, healthyStatus(5)),
    observed: {
      statefulSet: sts(5, { ready: 2 }),
      pods: [pod(0), pod(1, 'starting'), pod(2, 'starting'), pod(3, 'crashloop'), pod(4)],
      membersConfig: membersCm(5, (st) => {
        st.pods['demo-1']!.downSince = ONE_MIN_AGO;
        st.pods['demo-2']!.downSince = ONE_MIN_AGO;
        st.pods['demo-3']!.downSince = TEN_MIN_AGO;
      }),
      nodes: withInc(reports([{ id: 1 }, { id: 2, active: false }, { id: 3, active: false }, { id: 4, active: false }, { id: 5 }], 1, { answering: ['demo-0', 'demo-4'] })),
    },
  },
  {
    name: 'failover-concurrency-limit',
    why: '5 voters, demo-3 and demo-4 both down past the timeout; demo-3 is already being replaced (raft id 4 → 6, its pod starting): with maxConcurrentReplacements 1 demo-4 waits (the condition says blocked by the limit), no step',
    cluster: cluster({ replicas: 5, failover: { maxConcurrentReplacements: 1 } }, healthyStatus(5)),
    observed: {
      statefulSet: sts(5, { ready: 3 }),
      pods: [pod(0), pod(1), pod(2), pod(3, 'starting'), pod(4, 'crashloop')],
      membersConfig: membersCm(5, (st) => {
        st.pods['demo-3'] = { raftId: 6, join: true, added: false, replaces: 4, replaceReason: 'MemberDown' };
        st.pods['demo-4']!.downSince = TEN_MIN_AGO;
        st.retired = [4];
        st.nextRaftId = 7;
      }),
      nodes: withInc(reports([{ id: 1 }, { id: 2 }, { id: 3 }, { id: 5, active: false }], 1, { answering: ['demo-0', 'demo-1', 'demo-2'] })),
    },
  },
  {
    name: 'failover-concurrency-two',
    why: 'the same with maxConcurrentReplacements 2: while demo-3 (raft id 6) starts, demo-4 (raft id 5) is removed — 1, 2, 3 stay a healthy majority of the remaining voters',
    cluster: cluster({ replicas: 5, failover: { maxConcurrentReplacements: 2 } }, healthyStatus(5)),
    observed: {
      statefulSet: sts(5, { ready: 3 }),
      pods: [pod(0), pod(1), pod(2), pod(3, 'starting'), pod(4, 'crashloop')],
      membersConfig: membersCm(5, (st) => {
        st.pods['demo-3'] = { raftId: 6, join: true, added: false, replaces: 4, replaceReason: 'MemberDown' };
        st.pods['demo-4']!.downSince = TEN_MIN_AGO;
        st.retired = [4];
        st.nextRaftId = 7;
      }),
      nodes: withInc(reports([{ id: 1 }, { id: 2 }, { id: 3 }, { id: 5, active: false }], 1, { answering: ['demo-0', 'demo-1', 'demo-2'] })),
    },
  },
];

describe('operator planner (golden)', () => {
  for (const c of cases) {
    it(`${c.name}: ${c.why}`, () => {
      const out = plan(c.cluster, { pvcs: [], ...c.observed, now: NOW });
      const text = `# ${c.why}\n` + stringify(out, { lineWidth: 0, sortMapEntries: false });
      const file = resolve(goldenDir, `${c.name}.yaml`);
      if (process.env.UPDATE_GOLDEN === '1' || !existsSync(file)) {
        if (process.env.UPDATE_GOLDEN !== '1' && process.env.CI) assert.fail(`missing golden file ${file}`);
        mkdirSync(goldenDir, { recursive: true });
        writeFileSync(file, text);
      }
      assert.equal(text, readFileSync(file, 'utf8'), `plan differs from ${file} (UPDATE_GOLDEN=1 to rewrite, then review the diff)`);
    });
  }
});

describe('operator planner: rollback out of a failed upgrade (issue 11, item 1)', () => {
  const next = (name: string) => {
    const c = cases.find((x) => x.name === name)!;
    return plan(c.cluster, { pvcs: [], ...c.observed, now: NOW }).next;
  };
  it('a pod stuck on an old template is restarted without waiting for itself', () => {
    assert.deepEqual(next('raft-rollback-restart-stuck-pod'), {
      action: 'Membership',
      step: { type: 'DeletePod', pod: 'demo-2', why: 'rollback: demo-2 is not ready on an old template and holds no part of the quorum' },
      reason: 'restarting demo-2: rollback: demo-2 is not ready on an old template and holds no part of the quorum',
    });
  });
  it('also when no leader is known (a 1-node cluster whose only pod never started)', () => {
    const n = next('raft-rollback-no-leader');
    assert.equal(n.action, 'Membership');
    assert.deepEqual(n.action === 'Membership' && n.step, { type: 'DeletePod', pod: 'demo-0', why: 'rollback: demo-0 is not ready on an old template and holds no part of the quorum' });
  });
  it('never when the restart could cost the quorum', () => {
    const n = next('raft-rollback-would-cost-quorum');
    assert.notEqual(n.action, 'Membership');
  });
  it('never a pod that is already on the current template (restarting it would not help)', () => {
    assert.notEqual(next('raft-upgrade-stuck-pod-current-template').action, 'Membership');
  });
});

describe('operator planner: scale-in drains the store before RemoveMember (issue 12 item 7)', () => {
  const next = (name: string) => {
    const c = cases.find((x) => x.name === name)!;
    return plan(c.cluster, { pvcs: [], ...c.observed, now: NOW });
  };
  it('a store leading ranges gets DrainStore (avoiding demo-3, removed next), not RemoveMember; Progressing says so', () => {
    const p = next('raft-scale-in-drain-store');
    assert.deepEqual(p.next.action === 'Membership' && p.next.step, {
      type: 'DrainStore',
      pod: 'demo-4',
      raftId: 5,
      leadershipsOnly: false,
      rangesLed: 3,
      rangesMovable: 0,
      avoid: [4],
      why: 'demo-4 is being removed and leads 3 range(s)',
    });
    assert.equal(p.status.phase, 'Scaling');
    assert.match(p.status.conditions!.find((c) => c.type === 'Progressing')!.message, /draining demo-4 \(store 5\)/);
  });
  it('after the drain (0 led, nothing movable) RemoveMember follows', () => {
    const p = next('raft-scale-in-drained-remove');
    assert.deepEqual(p.next.action === 'Membership' && p.next.step, { type: 'RemoveMember', pod: 'demo-4', raftId: 5, rangesLed: 0 });
    assert.match(p.next.reason, /its node reports leading 0 range\(s\)$/);
  });
  it('replicas another store lacks are drained only while every remaining voter is healthy', () => {
    const a = next('raft-scale-in-drain-movable').next;
    assert.equal(a.action === 'Membership' && a.step.type, 'DrainStore');
    const b = next('raft-scale-in-movable-store-down').next;
    assert.equal(b.action === 'Membership' && b.step.type, 'RemoveMember');
  });
  it('range 1 first: a store leading range 1 gets TransferLeader (its node may also report other ranges)', () => {
    const c = cases.find((x) => x.name === 'raft-scale-in-drain-store')!;
    const p = plan(c.cluster, { pvcs: [], ...c.observed, nodes: reports(G5, 5, { ranges: { 5: { led: 4 } } }), now: NOW });
    assert.equal(p.next.action === 'Membership' && p.next.step.type, 'TransferLeader');
  });
  it('a node that does not report ranges (older version) is removed as before (no DrainStore)', () => {
    const c = cases.find((x) => x.name === 'raft-scale-in-drain-store')!;
    const p = plan(c.cluster, { pvcs: [], ...c.observed, nodes: reports(G5, 1), now: NOW });
    assert.deepEqual(p.next.action === 'Membership' && p.next.step, { type: 'RemoveMember', pod: 'demo-4', raftId: 5 });
  });
  it('a killed operator re-derives the drain from the nodes alone (no status, same members table)', () => {
    const c = cases.find((x) => x.name === 'raft-scale-in-drain-store')!;
    const fresh = { ...c.cluster };
    delete (fresh as { status?: unknown }).status;
    const p = plan(fresh, { pvcs: [], ...c.observed, now: NOW });
    assert.deepEqual(p.next.action === 'Membership' && p.next.step.type, 'DrainStore');
  });
  it('upgrade: leaderships only before the restart, then DeletePod; not counted as scaling', () => {
    const a = next('raft-upgrade-drain-leaderships');
    assert.deepEqual(a.next.action === 'Membership' && a.next.step, {
      type: 'DrainStore',
      pod: 'demo-2',
      raftId: 3,
      leadershipsOnly: true,
      rangesLed: 2,
      rangesMovable: 0,
      why: 'demo-2 restarts for the upgrade and leads 2 range(s)',
    });
    assert.notEqual(a.status.phase, 'Scaling');
    const b = next('raft-upgrade-drained-restart');
    assert.equal(b.next.action === 'Membership' && b.next.step.type, 'DeletePod');
  });
});

describe('operator planner (properties)', () => {
  it('is deterministic and does not mutate its inputs', () => {
    for (const c of cases) {
      const input = JSON.parse(JSON.stringify(c));
      const a = plan(c.cluster, { pvcs: [], ...c.observed, now: NOW });
      const b = plan(c.cluster, { pvcs: [], ...c.observed, now: NOW });
      assert.deepEqual(a, b);
      assert.deepEqual(JSON.parse(JSON.stringify(c)), input);
    }
  });

  it('every planned object carries the owner reference and the standard labels', () => {
    const out = plan(cluster(), { pods: [], pvcs: [], now: NOW });
    assert.equal(out.apply.length, 6);
    for (const o of out.apply) {
      const refs = o.metadata?.ownerReferences ?? [];
      assert.equal(refs.length, 1, `${o.kind}`);
      assert.equal(refs[0]!.kind, 'KvsCluster');
      assert.equal(refs[0]!.controller, true);
      assert.equal(o.metadata?.labels?.['app.kubernetes.io/name'], 'kvs');
      assert.equal(o.metadata?.labels?.['app.kubernetes.io/instance'], 'demo');
      assert.equal(o.metadata?.labels?.['app.kubernetes.io/managed-by'], 'kvs-operator');
      assert.equal(o.metadata?.namespace, 'db');
    }
  });

  it('a steady cluster re-planned with its own status yields the identical status and no events', () => {
    const first = plan(cluster(), { statefulSet: sts(3), pods: pods(3), pvcs: [], now: EARLIER });
    const second = plan(cluster({}, first.status), { statefulSet: sts(3), pods: pods(3), pvcs: [], now: NOW });
    assert.deepEqual(second.status, first.status);
    assert.deepEqual(second.events, []);
    assert.equal(second.next.action, 'Done');
  });

  it('changing nodeConfig changes the pod template (config hash) so the pods roll', () => {
    const a = plan(cluster({ nodeConfig: { 'raft-tick-ms': '100' } }), { pods: [], pvcs: [], now: NOW });
    const b = plan(cluster({ nodeConfig: { 'raft-tick-ms': '200' } }), { pods: [], pvcs: [], now: NOW });
    const hash = (p: typeof a) => (p.apply.find((o) => o.kind === 'StatefulSet') as { spec: { template: { metadata: { annotations: Record<string, string> } } } }).spec.template.metadata.annotations['kvs.dev/config-hash'];
    assert.notEqual(hash(a), hash(b));
  });

  it('paused plans no object for any observed state', () => {
    for (const c of cases) {
      const paused = { ...c.cluster, spec: { ...c.cluster.spec, paused: true } };
      const out = plan(paused, { pvcs: [], ...c.observed, now: NOW });
      assert.deepEqual(out.apply, []);
      assert.equal(out.status.phase, 'Paused');
      assert.equal(out.status.conditions?.find((x) => x.type === 'ReconciliationPaused')?.status, 'True');
    }
  });
});
