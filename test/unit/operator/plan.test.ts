// Golden tests of the pure planner: (cluster, observed) → plan (objects, status, events, next step).
// UPDATE_GOLDEN=1 rewrites test/unit/operator/golden/*.yaml; review the diff before committing.
import { strict as assert } from 'node:assert';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { stringify } from 'yaml';
import { plan, type Observed } from '../../../operator/src/controller/plan.js';
import type { KvsCluster } from '../../../operator/src/api/types.js';
import { repoRoot } from '../../../operator/src/api/gen-crd.js';
import { EARLIER, NOW, cluster, healthyStatus, pod, pods, sts } from './fixtures.js';

const goldenDir = resolve(repoRoot(), 'test/unit/operator/golden');

interface Case {
  name: string;
  why: string;
  cluster: KvsCluster;
  observed: Omit<Observed, 'now' | 'pvcs'> & { pvcs?: Observed['pvcs'] };
}

const cases: Case[] = [
  { name: 'new-cluster', why: 'nothing exists yet: all children planned, phase Creating', cluster: cluster(), observed: { pods: [] } },
  {
    name: 'pods-starting',
    why: 'StatefulSet created, pods not ready yet: no quorum, Creating',
    cluster: cluster({}, { conditions: [] }),
    observed: { statefulSet: sts(3, { ready: 0 }), pods: pods(3, { 0: 'starting', 1: 'starting', 2: 'starting' }) },
  },
  {
    name: 'running',
    why: 'everything ready: Available, Running, an Available event on the first pass',
    cluster: cluster(),
    observed: { statefulSet: sts(3), pods: pods(3) },
  },
  {
    name: 'steady',
    why: 'ready and already reported: status unchanged (transition times kept), no events, Done',
    cluster: cluster({}, healthyStatus()),
    observed: { statefulSet: sts(3), pods: pods(3) },
  },
  {
    name: 'scale-out',
    why: 'spec 5, StatefulSet 3: StatefulSet planned with 5, ScalingOut event, requeue',
    cluster: cluster({ replicas: 5 }, healthyStatus(), 2),
    observed: { statefulSet: sts(3), pods: pods(3) },
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
    observed: { statefulSet: sts(3, { ready: 2 }), pods: pods(3, { 2: 'crashloop' }) },
  },
  {
    name: 'quorum-lost',
    why: '1 of 3 ready: Available=False QuorumLost, phase Unavailable, Warning events',
    cluster: cluster({}, healthyStatus()),
    observed: { statefulSet: sts(3, { ready: 1 }), pods: [pod(0), pod(1, 'starting'), pod(2, 'starting')] },
  },
  {
    name: 'upgrade',
    why: 'new image: template changes, Upgrading event; StatefulSet mid-rollout → phase Upgrading',
    cluster: cluster({ image: 'kvs/node:v2', version: 'v2' }, healthyStatus(), 2),
    observed: { statefulSet: sts(3, { updating: true }), pods: pods(3) },
  },
  {
    name: 'storage-change-ignored',
    why: 'storage differs from the existing StatefulSet (CRD without CEL): volumes kept, Warning event',
    cluster: cluster({ storage: { size: '5Gi' } }, healthyStatus(), 2),
    observed: { statefulSet: sts(3, { size: '1Gi' }), pods: pods(3) },
  },
  {
    name: 'scale-in',
    why: 'spec 3, StatefulSet 5: StatefulSet planned with 3 (membership removal slots in first, later stage), ScalingIn event',
    cluster: cluster({ replicas: 3 }, healthyStatus(5), 3),
    observed: { statefulSet: sts(5), pods: pods(5) },
  },
  {
    name: 'pod-missing',
    why: 'a pod vanished (node loss): not a removal — StatefulSet keeps 3, Degraded NodesNotReady, still Available',
    cluster: cluster({}, healthyStatus()),
    observed: { statefulSet: { ...sts(3, { ready: 2 }), status: { ...sts(3).status!, replicas: 2, readyReplicas: 2 } }, pods: [pod(0), pod(2)] },
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
    assert.equal(out.apply.length, 5);
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
