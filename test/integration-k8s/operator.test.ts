// The operator against a real kube-apiserver + etcd (no kubelet, no controller-manager: pods never
// appear, so clusters stay in phase Creating; children, status, validation, scale, pause and leader
// election are all real API-server behaviour).
import { strict as assert } from 'node:assert';
import { resolve } from 'node:path';
import { ROOT, getJson, k, kApply, kubectl, requireKubeconfig, serviceAccountKubeconfig, sleep, startOperator, tail, waitFor, type OperatorProcess } from './harness.js';

const NS = 'kvs-it';
const OP_NS = 'kvs-system';

const clusterYaml = (name: string, extra = '', replicas = 3) => `
apiVersion: kvs.dev/v1alpha1
kind: KvsCluster
metadata: { name: ${name}, namespace: ${NS} }
spec:
  replicas: ${replicas}
  storage: { size: 1Gi }
${extra}`;

describe('operator against a real kube-apiserver', function () {
  this.timeout(120_000);
  let opKubeconfig: string;
  const ops: OperatorProcess[] = [];

  before(async () => {
    const admin = requireKubeconfig();
    let r = await kubectl(['apply', '--server-side', '-f', resolve(ROOT, 'crds/kvs.dev_kvsclusters.yaml')]);
    assert.equal(r.code, 0, r.stderr);
    await k('wait', '--for=condition=Established', '--timeout=30s', 'crd/kvsclusters.kvs.dev');
    for (const ns of [NS, OP_NS]) {
      r = await kubectl(['create', 'namespace', ns]);
      assert.ok(r.code === 0 || /AlreadyExists/.test(r.stderr), r.stderr);
    }
    opKubeconfig = (await serviceAccountKubeconfig(OP_NS, 'kvs-operator')) ?? admin;
  });

  after(async () => {
    for (const o of ops) await o.stop();
  });

  afterEach(function () {
    if (this.currentTest?.state === 'failed') for (const o of ops) console.error(`----- ${o.name} log (tail) -----\n${tail(o.logFile, 60)}`);
  });

  describe('CRD', () => {
    it('is installed with the printer columns', async () => {
      const crd = await getJson('crd', 'kvsclusters.kvs.dev');
      assert.deepEqual(crd.spec.versions[0].additionalPrinterColumns.map((c: { name: string }) => c.name), ['Replicas', 'Ready', 'Phase', 'Leader', 'Version', 'Ranges', 'UnderReplicated', 'Age']);
      assert.equal(crd.status.conditions.find((c: { type: string }) => c.type === 'Established').status, 'True');
    });

    it('rejects replicas 0 with a readable message', async () => {
      const r = await kApply(clusterYaml('zero', '', 0));
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, /replicas must be at least 1/);
    });

    it('rejects a missing storage and a bad pvcRetentionPolicy', async () => {
      let r = await kApply(`apiVersion: kvs.dev/v1alpha1\nkind: KvsCluster\nmetadata: { name: nostorage, namespace: ${NS} }\nspec: { replicas: 1 }\n`);
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, /spec.storage: Required value/);
      r = await kApply(clusterYaml('badpolicy', '  pvcRetentionPolicy: Sometimes'));
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, /supported values: "Retain", "Delete"/);
    });

    it('rejects nodeConfig keys the operator owns', async () => {
      const r = await kApply(clusterYaml('reserved', '  nodeConfig: { data-dir: /elsewhere }'));
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, /nodeConfig may not set listen, http, data-dir, node-id/);
    });

    it('applies defaults and rejects a storage change after creation', async () => {
      let r = await kApply(clusterYaml('immutable'));
      assert.equal(r.code, 0, r.stderr);
      const c = await getJson('kvscluster', 'immutable', '-n', NS);
      assert.equal(c.spec.pvcRetentionPolicy, 'Retain');
      assert.equal(c.spec.image, 'kvs/node:dev');
      assert.equal(c.spec.paused, false);
      r = await kubectl(['patch', 'kvscluster', 'immutable', '-n', NS, '--type=merge', '-p', '{"spec":{"storage":{"size":"5Gi"}}}']);
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, /spec.storage is immutable once the cluster is created/);
      r = await kubectl(['patch', 'kvscluster', 'immutable', '-n', NS, '--type=merge', '-p', '{"spec":{"storage":{"storageClassName":"other"}}}']);
      assert.match(r.stderr, /spec.storage is immutable once the cluster is created/);
      r = await kubectl(['patch', 'kvscluster', 'immutable', '-n', NS, '--type=merge', '-p', '{"spec":{"replicas":5}}']);
      assert.equal(r.code, 0, 'other fields stay mutable: ' + r.stderr);
      await k('delete', 'kvscluster', 'immutable', '-n', NS, '--wait=false');
    });
  });

  describe('controller', () => {
    before(async () => {
      ops.push(startOperator('op-a', 18181, opKubeconfig));
      await waitFor('op-a to lead', () => ops[0]!.isLeader(), 30_000);
    });

    it('creates the children with owner references and writes status', async () => {
      const r = await kApply(clusterYaml('demo', '  nodeConfig: { max-key-bytes: 4KiB }'));
      assert.equal(r.code, 0, r.stderr);
      const c = await getJson('kvscluster', 'demo', '-n', NS);
      const sts = await waitFor('StatefulSet demo', () => getJson('statefulset', 'demo', '-n', NS));
      for (const [kind, name] of [['statefulset', 'demo'], ['service', 'demo'], ['service', 'demo-peers'], ['configmap', 'demo-config'], ['configmap', 'demo-members'], ['poddisruptionbudget', 'demo']] as const) {
        const o = await waitFor(`${kind}/${name}`, () => getJson(kind, name, '-n', NS, '--show-managed-fields'));
        const ref = o.metadata.ownerReferences?.[0];
        assert.equal(ref?.kind, 'KvsCluster', `${kind}/${name}`);
        assert.equal(ref?.uid, c.metadata.uid);
        assert.equal(ref?.controller, true);
        assert.equal(o.metadata.labels['app.kubernetes.io/managed-by'], 'kvs-operator');
        assert.ok(o.metadata.managedFields.some((m: { manager: string; operation: string }) => m.manager === 'kvs-operator' && m.operation === 'Apply'), `${kind} applied server-side`);
      }
      assert.equal(sts.spec.replicas, 3);
      assert.equal(sts.spec.podManagementPolicy, 'Parallel');
      assert.equal(sts.spec.template.spec.containers[0].securityContext.readOnlyRootFilesystem, true);
      const peers = await getJson('service', 'demo-peers', '-n', NS);
      assert.equal(peers.spec.clusterIP, 'None');
      assert.equal(peers.spec.publishNotReadyAddresses, true);
      const cm = await getJson('configmap', 'demo-config', '-n', NS);
      assert.deepEqual(cm.data, { KVS_MAX_KEY_BYTES: '4KiB' });
      // Raft ids are allocated before any pod exists: ordinal → id in the members ConfigMap.
      const members = await getJson('configmap', 'demo-members', '-n', NS);
      const state = JSON.parse(members.data['state.json']);
      assert.equal(state.nextRaftId, 4);
      assert.deepEqual(Object.entries(state.pods).map(([p, a]: [string, any]) => [p, a.raftId, a.join]), [['demo-0', 1, false], ['demo-1', 2, false], ['demo-2', 3, false]]);
      assert.match(members.data['demo-1'], /^KVS_RAFT_ID=2$/m);
      assert.match(members.data['demo-1'], /^KVS_PEERS=1=demo-0\.demo-peers\.kvs-it\.svc:7379,2=demo-1\.demo-peers\.kvs-it\.svc:7379,3=demo-2\.demo-peers\.kvs-it\.svc:7379$/m);
      assert.equal(sts.spec.updateStrategy.type, 'OnDelete');
      const st = await waitFor('status', async () => {
        const x = await getJson('kvscluster', 'demo', '-n', NS);
        return x.status?.observedGeneration === x.metadata.generation ? x.status : undefined;
      });
      assert.equal(st.phase, 'Creating');
      assert.equal(st.selector, 'app.kubernetes.io/name=kvs,app.kubernetes.io/instance=demo');
      assert.deepEqual(st.conditions.map((x: { type: string }) => x.type).sort(), ['ApplyFailed', 'Available', 'Balanced', 'Degraded', 'MemberReplacement', 'Progressing', 'ReconciliationPaused', 'ScaleInBlocked']);
      for (const cond of st.conditions) assert.equal(cond.observedGeneration, c.metadata.generation);
    });

    it('shows the printer columns in kubectl get', async () => {
      const out = await k('get', 'kvsclusters', '-n', NS);
      assert.match(out.split('\n')[0]!, /^NAME\s+REPLICAS\s+READY\s+PHASE\s+LEADER\s+VERSION\s+RANGES\s+UNDERREPLICATED\s+AGE/);
      assert.match(out, /\ndemo\s+3\s+0\s+Creating\s+/);
    });

    it('records events for the cluster', async () => {
      const ev = await waitFor('a Creating event', async () => {
        const list = await getJson('events.events.k8s.io', '-n', NS, '--field-selector', 'regarding.name=demo');
        return list.items.find((e: { reason: string }) => e.reason === 'Creating');
      });
      assert.equal(ev.reportingController, 'kvs.dev/kvs-operator');
    });

    it('kubectl scale goes through the scale subresource; without a Raft leader the StatefulSet keeps its size', async () => {
      const scale = JSON.parse(await k('get', '--raw', `/apis/kvs.dev/v1alpha1/namespaces/${NS}/kvsclusters/demo/scale`));
      assert.equal(scale.kind, 'Scale');
      assert.equal(scale.spec.replicas, 3);
      assert.equal(scale.status.selector, 'app.kubernetes.io/name=kvs,app.kubernetes.io/instance=demo');
      await k('scale', 'kvscluster/demo', '-n', NS, '--replicas=5');
      assert.equal((await getJson('kvscluster', 'demo', '-n', NS)).spec.replicas, 5);
      // No kubelet here, so no node answers the admin API: no membership change may happen.
      await waitFor('Progressing says why', async () => {
        const x = await getJson('kvscluster', 'demo', '-n', NS);
        return x.status?.conditions?.find((c: { type: string; message: string }) => c.type === 'Progressing' && /no Raft leader/.test(c.message));
      });
      assert.equal((await getJson('statefulset', 'demo', '-n', NS)).spec.replicas, 3);
      const members = JSON.parse((await getJson('configmap', 'demo-members', '-n', NS)).data['state.json']);
      assert.equal(Object.keys(members.pods).length, 3, 'no id handed out for a pod that is not planned');
      const r = await kubectl(['scale', 'kvscluster/demo', '-n', NS, '--replicas=0']);
      assert.notEqual(r.code, 0, 'scale to 0 is rejected');
      assert.match(r.stderr, /replicas must be at least 1|greater than or equal to 1/);
    });

    it('paused stops changes; unpausing resumes them', async () => {
      await k('patch', 'kvscluster', 'demo', '-n', NS, '--type=merge', '-p', '{"spec":{"paused":true}}');
      const cond = await waitFor('ReconciliationPaused=True', async () => {
        const x = await getJson('kvscluster', 'demo', '-n', NS);
        return x.status?.conditions?.find((c: { type: string; status: string }) => c.type === 'ReconciliationPaused' && c.status === 'True');
      });
      assert.match(cond.message, /paused/);
      assert.equal((await getJson('kvscluster', 'demo', '-n', NS)).status.phase, 'Paused');
      await k('patch', 'kvscluster', 'demo', '-n', NS, '--type=merge', '-p', '{"spec":{"nodeConfig":{"max-key-bytes":"16KiB"}}}');
      // Also drift: someone edits a child; a paused operator leaves it.
      await k('patch', 'configmap', 'demo-config', '-n', NS, '--type=merge', '-p', '{"data":{"EXTRA":"x"}}');
      await sleep(4000);
      assert.equal((await getJson('configmap', 'demo-config', '-n', NS)).data.KVS_MAX_KEY_BYTES, '4KiB', 'paused: ConfigMap untouched');
      await k('patch', 'kvscluster', 'demo', '-n', NS, '--type=merge', '-p', '{"spec":{"paused":false}}');
      await waitFor('ConfigMap updated after unpause', async () => (await getJson('configmap', 'demo-config', '-n', NS)).data.KVS_MAX_KEY_BYTES === '16KiB');
      await waitFor('ReconciliationPaused=False', async () => {
        const x = await getJson('kvscluster', 'demo', '-n', NS);
        return x.status?.conditions?.some((c: { type: string; status: string }) => c.type === 'ReconciliationPaused' && c.status === 'False');
      });
    });

    it('repairs drift in a child on the next pass', async () => {
      await k('patch', 'service', 'demo-peers', '-n', NS, '--type=merge', '-p', '{"spec":{"publishNotReadyAddresses":false}}');
      // Services are not watched: a cluster event (or the resync) triggers the pass.
      await k('annotate', 'kvscluster', 'demo', '-n', NS, 'test/poke=1', '--overwrite');
      await waitFor('publishNotReadyAddresses restored', async () => (await getJson('service', 'demo-peers', '-n', NS)).spec.publishNotReadyAddresses === true);
    });

    it('the status is stable: no writes while nothing changes', async () => {
      const a = await getJson('kvscluster', 'demo', '-n', NS);
      await sleep(3000);
      const b = await getJson('kvscluster', 'demo', '-n', NS);
      assert.equal(b.metadata.resourceVersion, a.metadata.resourceVersion);
    });

    it('leader election: a second instance stays passive, and takes over when the leader stops', async () => {
      const b = startOperator('op-b', 18182, opKubeconfig);
      ops.push(b);
      await waitFor('op-b metrics', async () => (await b.metrics()).includes('kvs_operator_leader'), 20_000);
      await sleep(3000);
      assert.equal(await b.isLeader(), false, 'op-b passive');
      assert.equal(await ops[0]!.isLeader(), true, 'op-a still leads');
      const lease = await getJson('lease', 'kvs-operator-leader', '-n', OP_NS);
      assert.equal(lease.spec.holderIdentity, 'op-a');
      const passes = (await b.metrics()).split('\n').filter((l) => l.startsWith('kvs_operator_reconcile_total{') && !l.endsWith(' 0'));
      assert.deepEqual(passes, [], 'a passive instance reconciles nothing');
      await ops[0]!.stop('SIGTERM');
      await waitFor('op-b to lead', () => b.isLeader(), 20_000);
      assert.equal((await getJson('lease', 'kvs-operator-leader', '-n', OP_NS)).spec.holderIdentity, 'op-b');
      // The new leader reconciles: a spec change reaches the children.
      await k('patch', 'kvscluster', 'demo', '-n', NS, '--type=merge', '-p', '{"spec":{"nodeConfig":{"max-key-bytes":"32KiB"}}}');
      await waitFor('ConfigMap via op-b', async () => (await getJson('configmap', 'demo-config', '-n', NS)).data.KVS_MAX_KEY_BYTES === '32KiB');
    });

    it('exposes operator metrics', async () => {
      const m = await ops[1]!.metrics();
      for (const name of ['kvs_operator_reconcile_total', 'kvs_operator_reconcile_duration_seconds_bucket', 'kvs_operator_workqueue_depth', 'kvs_operator_leader 1']) assert.ok(m.includes(name), name);
      const h = await fetch(`http://127.0.0.1:${ops[1]!.port}/healthz`);
      assert.equal(h.status, 200);
    });

    it('leader election: a SIGKILLed leader (lease not released) is replaced once the lease expires', async () => {
      const c = startOperator('op-c', 18183, opKubeconfig);
      ops.push(c);
      await waitFor('op-c metrics', async () => (await c.metrics()).includes('kvs_operator_leader 0'), 20_000);
      const t0 = Date.now();
      await ops[1]!.stop('SIGKILL');
      await waitFor('op-c to lead', () => c.isLeader(), 30_000);
      const took = Date.now() - t0;
      assert.ok(took >= 4_000, `took over only after the 6 s lease expired (${took} ms)`);
      assert.equal((await getJson('lease', 'kvs-operator-leader', '-n', OP_NS)).spec.holderIdentity, 'op-c');
      await k('patch', 'kvscluster', 'demo', '-n', NS, '--type=merge', '-p', '{"spec":{"nodeConfig":{"max-key-bytes":"64KiB"}}}');
      await waitFor('ConfigMap via op-c', async () => (await getJson('configmap', 'demo-config', '-n', NS)).data.KVS_MAX_KEY_BYTES === '64KiB');
    });
  });
});
