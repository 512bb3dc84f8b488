// The Raft membership state machine against a real kube-apiserver, with the FakeNodeAdmin as the
// nodes: the real informers, server-side apply, status subresource and events; this test plays the
// StatefulSet controller + kubelet (there are none here): it creates/deletes the pods the StatefulSet
// asks for, gives them an IP and Ready, and "starts" each node with the raft id of its env file in the
// members ConfigMap. Every pass is a fresh reconcile (as after an operator restart).
import { strict as assert } from 'node:assert';
import { KubeConfig } from '@kubernetes/client-node';
import { createLogger } from '../../node/src/common/logger.js';
import { parseEnvFile } from '../../node/src/server/config.js';
import { reconcile } from '../../operator/src/controller/reconcile.js';
import { FakeNodeAdmin } from '../../operator/src/runtime/admin.js';
import { Informers } from '../../operator/src/runtime/informers.js';
import { KubeWriter } from '../../operator/src/runtime/kube.js';
import { getJson, k, kApply, kubectl, requireKubeconfig, sleep } from './harness.js';

const NS = 'kvs-it-raft';

describe('operator membership against a real kube-apiserver (fake node admin API)', function () {
  this.timeout(180_000);
  let informers: Informers;
  let writer: KubeWriter;
  const admin = new FakeNodeAdmin();
  const logger = createLogger({ level: 'error', component: 'it' });
  const ipOf = (pod: string) => `10.77.0.${Number(pod.split('-').pop()) + 1}`;

  before(async () => {
    const r = await kubectl(['create', 'namespace', NS]);
    assert.ok(r.code === 0 || /AlreadyExists/.test(r.stderr), r.stderr);
    // No controller-manager here: the namespace's default ServiceAccount (needed to create pods) is ours to make.
    const sa = await kubectl(['create', 'serviceaccount', 'default', '-n', NS]);
    assert.ok(sa.code === 0 || /AlreadyExists/.test(sa.stderr), sa.stderr);
    const kc = new KubeConfig();
    kc.loadFromFile(requireKubeconfig());
    informers = new Informers(kc, () => undefined, logger, NS);
    await informers.start();
    writer = new KubeWriter(kc, 'it-membership');
  });
  after(async () => {
    await informers?.stop();
    await kubectl(['delete', 'namespace', NS, '--wait=false']);
  });

  /** StatefulSet controller + kubelet + node start, for one step. */
  async function emulate(): Promise<void> {
    const sts = await getJson('statefulset', 'raft', '-n', NS).catch(() => undefined);
    if (!sts) return;
    const want: number = sts.spec.replicas;
    const pods = (await getJson('pods', '-n', NS)).items.map((p: any) => p.metadata.name as string);
    for (const p of pods) {
      if (Number(p.split('-').pop()) >= want) {
        await k('delete', 'pod', p, '-n', NS, '--grace-period=0', '--force', '--wait=false');
        admin.nodes.delete(`${ipOf(p)}:7379`);
      }
    }
    const cm = (await getJson('configmap', 'raft-members', '-n', NS)).data;
    for (let i = 0; i < want; i++) {
      const name = `raft-${i}`;
      if (pods.includes(name)) continue;
      const labels = sts.spec.template.metadata.labels;
      const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: NS, labels: { ...labels, 'controller-revision-hash': sts.status?.updateRevision ?? 'r1' } }, spec: { containers: [{ name: 'kvs', image: 'kvs/node:dev' }] } };
      const created = await kApply(JSON.stringify(pod));
      assert.equal(created.code, 0, created.stderr);
      const st = { status: { phase: 'Running', podIP: ipOf(name), podIPs: [{ ip: ipOf(name) }], conditions: [{ type: 'Ready', status: 'True' }] } };
      await k('patch', 'pod', name, '-n', NS, '--subresource=status', '--type=merge', '-p', JSON.stringify(st));
      const env = parseEnvFile(cm[name]);
      const id = Number(env['KVS_RAFT_ID']);
      const bootstrap = env['KVS_JOIN'] !== 'true';
      admin.addNode(`${ipOf(name)}:7379`, id, bootstrap ? 'voter' : undefined);
      if (bootstrap && admin.leaderId === 0) admin.leaderId = id;
    }
  }

  async function converge(what: string, done: (st: any) => boolean, passes = 60): Promise<any> {
    for (let i = 0; i < passes; i++) {
      await reconcile(`${NS}/raft`, { cache: informers, writer, reader: writer, logger, admin });
      await emulate();
      await sleep(300); // informer catch-up
      const st = (await getJson('kvscluster', 'raft', '-n', NS)).status;
      if (st && done(st)) return st;
    }
    throw new Error(`no convergence: ${what}; calls ${admin.calls.join(', ')}`);
  }
  const voters = () => [...admin.config].filter(([, m]) => m.role === 'voter').map(([id]) => id).sort((a, b) => a - b);
  const settled = (n: number) => (st: any) =>
    st.members?.length === n && st.members.filter((m: any) => m.role === 'Leader' || m.role === 'Follower').length === n && st.leader && st.members.every((m: any) => m.healthy);

  it('bootstraps 3 members; status shows raft ids, roles and the leader', async () => {
    const r = await kApply(`apiVersion: kvs.dev/v1alpha1\nkind: KvsCluster\nmetadata: { name: raft, namespace: ${NS} }\nspec: { replicas: 3, storage: { size: 1Gi } }\n`);
    assert.equal(r.code, 0, r.stderr);
    for (let i = 0; i < 50 && !informers.getCluster(NS, 'raft'); i++) await sleep(100);
    const st = await converge('3 voters', settled(3));
    assert.deepEqual(st.members.map((m: any) => [m.pod, m.raftId, m.role]), [['raft-0', '1', 'Leader'], ['raft-1', '2', 'Follower'], ['raft-2', '3', 'Follower']]);
    assert.equal(st.leader, 'raft-0');
    assert.equal(st.nextRaftId, 4);
  });

  it('scale 3→5: AddLearner → Promote one pod at a time; events recorded', async () => {
    await k('scale', 'kvscluster/raft', '-n', NS, '--replicas=5');
    await converge('5 voters', settled(5));
    assert.deepEqual(voters(), [1, 2, 3, 4, 5]);
    assert.deepEqual(admin.calls.filter((c) => !c.startsWith('Snapshot')), ['AddLearner 4 raft-3.raft-peers.kvs-it-raft.svc:7379', 'Promote 4', 'AddLearner 5 raft-4.raft-peers.kvs-it-raft.svc:7379', 'Promote 5']);
    const ev = await getJson('events.events.k8s.io', '-n', NS, '--field-selector', 'regarding.name=raft');
    const reasons = ev.items.map((e: any) => e.reason);
    for (const r of ['MemberAdded', 'MemberPromoted']) assert.ok(reasons.includes(r), r);
  });

  it('scale 5→3 while raft-4 leads: leadership moved, members removed before the StatefulSet shrinks; ids retired', async () => {
    admin.leaderId = 5;
    admin.calls.length = 0;
    await k('scale', 'kvscluster/raft', '-n', NS, '--replicas=3');
    const st = await converge('3 voters', (s) => settled(3)(s) && s.members.length === 3); // (no StatefulSet controller here: phase stays Upgrading)
    assert.deepEqual(voters(), [1, 2, 3]);
    assert.equal(admin.calls[0], 'TransferLeader 1');
    assert.deepEqual(admin.calls.filter((c) => c.startsWith('RemoveMember')), ['RemoveMember 5', 'RemoveMember 4']);
    assert.equal((await getJson('statefulset', 'raft', '-n', NS)).spec.replicas, 3);
    const state = JSON.parse((await getJson('configmap', 'raft-members', '-n', NS)).data['state.json']);
    assert.deepEqual(state.retired, [4, 5]);
    assert.equal(st.nextRaftId, 6);
  });

  it('scale 3→1 with a member down is refused (ScaleInBlocked) and nothing is removed', async () => {
    admin.calls.length = 0;
    admin.config.get(2)!.recentActive = false;
    admin.down.add(`${ipOf('raft-1')}:7379`);
    await k('scale', 'kvscluster/raft', '-n', NS, '--replicas=1');
    const st = await converge('ScaleInBlocked', (s) => s.conditions?.some((c: any) => c.type === 'ScaleInBlocked' && c.status === 'True'), 20);
    assert.match(st.conditions.find((c: any) => c.type === 'ScaleInBlocked').message, /would leave 1 healthy of 2 voters/);
    assert.deepEqual(admin.calls.filter((c) => c.startsWith('RemoveMember')), []);
    assert.equal((await getJson('statefulset', 'raft', '-n', NS)).spec.replicas, 3);
    await k('scale', 'kvscluster/raft', '-n', NS, '--replicas=3');
    admin.config.get(2)!.recentActive = true;
    admin.down.clear();
    await converge('unblocked', (s) => s.conditions?.some((c: any) => c.type === 'ScaleInBlocked' && c.status === 'False') && settled(3)(s));
  });
});
