// End-to-end checks on a real local cluster after e2e/run-e2e.sh installed the chart and the sample:
// the KvsCluster is Available, its nodes serve the KV API to the client library from the host
// (pod IPs on the cluster bridge), kubectl shows the printer columns, and scaling works end to end.
// (Replication across nodes arrives with the Raft stage; each node is checked on its own for now.)
import { strict as assert } from 'node:assert';
import { execFile } from 'node:child_process';
import { KvClient } from '../../node/src/client/index.js';

const NS = process.env.KVS_E2E_NAMESPACE ?? 'kvs-e2e';
const KUBECTL = process.env.KVS_KUBECTL ?? 'kubectl';

function kubectl(...args: string[]): Promise<string> {
  return new Promise((resolve, reject) =>
    execFile(KUBECTL, args, { timeout: 60_000, maxBuffer: 32 << 20 }, (err, stdout, stderr) => (err ? reject(new Error(`kubectl ${args.join(' ')}: ${stderr || err.message}`)) : resolve(String(stdout)))),
  );
}
const getJson = async (...args: string[]) => JSON.parse(await kubectl('get', ...args, '-o', 'json'));

async function waitFor<T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined && v !== false) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, 1000));
  }
}

async function podIps(): Promise<Map<string, string>> {
  const pods = await getJson('pods', '-n', NS, '-l', 'app.kubernetes.io/name=kvs,app.kubernetes.io/instance=demo');
  return new Map(pods.items.filter((p: any) => p.status?.podIP).map((p: any) => [p.metadata.name, p.status.podIP]));
}

describe('e2e: kvs on a real Kubernetes', function () {
  this.timeout(300_000);

  it('the KvsCluster reports Available, members and its version', async () => {
    const c = await getJson('kvscluster', 'demo', '-n', NS);
    const st = c.status;
    assert.equal(st.conditions.find((x: any) => x.type === 'Available').status, 'True');
    assert.equal(st.observedGeneration, c.metadata.generation);
    const settled = await waitFor(
      'phase Running with 3 ready',
      async () => {
        const x = (await getJson('kvscluster', 'demo', '-n', NS)).status;
        return x.phase === 'Running' && x.readyReplicas === 3 ? x : undefined;
      },
      120_000,
    );
    assert.deepEqual(settled.members.map((m: any) => m.pod), ['demo-0', 'demo-1', 'demo-2']);
    assert.ok(settled.members.every((m: any) => m.healthy));
    assert.equal(settled.currentVersion, 'dev');
    const pvcs = await getJson('pvc', '-n', NS, '-l', 'app.kubernetes.io/instance=demo');
    assert.equal(pvcs.items.length, 3);
    assert.ok(pvcs.items.every((p: any) => p.status.phase === 'Bound'));
  });

  it('writes and reads keys through the client library, from the host, on every node', async () => {
    const ips = await podIps();
    assert.equal(ips.size, 3);
    for (const [pod, ip] of ips) {
      const client = new KvClient({ endpoints: [`${ip}:7379`], timeoutMs: 15_000 });
      try {
        for (let i = 0; i < 20; i++) await client.put(`e2e/${pod}/${i}`, `value-${i}`);
        for (let i = 0; i < 20; i++) {
          const r = await client.get(`e2e/${pod}/${i}`);
          assert.equal(r.found, true, `${pod} key ${i}`);
          assert.equal(r.value?.toString(), `value-${i}`);
        }
        const scan = await client.scan({ prefix: `e2e/${pod}/` });
        assert.equal(scan.kvs.length, 20);
      } finally {
        client.close();
      }
    }
  });

  it('data survives a pod restart (PVC)', async () => {
    const ips = await podIps();
    const client0 = new KvClient({ endpoints: [`${ips.get('demo-0')}:7379`], timeoutMs: 15_000 });
    await client0.put('e2e/durable', 'yes');
    client0.close();
    await kubectl('delete', 'pod', 'demo-0', '-n', NS, '--wait=true', '--timeout=60s');
    await kubectl('wait', '--for=condition=Ready', 'pod/demo-0', '-n', NS, '--timeout=120s');
    const ip = (await podIps()).get('demo-0')!;
    const client = new KvClient({ endpoints: [`${ip}:7379`], timeoutMs: 20_000 });
    try {
      const r = await client.get('e2e/durable');
      assert.equal(r.value?.toString(), 'yes');
    } finally {
      client.close();
    }
  });

  it('kubectl get kvsclusters shows the printer columns', async () => {
    const out = await waitFor(
      'Running in kubectl get',
      async () => {
        const o = await kubectl('get', 'kvsclusters', '-n', NS);
        return /\ndemo\s+3\s+3\s+Running\s+/.test(o) ? o : undefined;
      },
      120_000,
    );
    assert.match(out.split('\n')[0]!, /^NAME\s+REPLICAS\s+READY\s+PHASE\s+LEADER\s+VERSION\s+AGE/);
    console.log(out);
  });

  it('kubectl scale adds a node that becomes ready', async () => {
    await kubectl('scale', 'kvscluster/demo', '-n', NS, '--replicas=4');
    await waitFor(
      '4 ready nodes, Running',
      async () => {
        const x = (await getJson('kvscluster', 'demo', '-n', NS)).status;
        return x.readyReplicas === 4 && x.phase === 'Running' ? x : undefined;
      },
      180_000,
    );
    await kubectl('scale', 'kvscluster/demo', '-n', NS, '--replicas=3');
    await waitFor(
      'back to 3, Running',
      async () => {
        const x = (await getJson('kvscluster', 'demo', '-n', NS)).status;
        return x.replicas === 3 && x.readyReplicas === 3 && x.phase === 'Running' ? x : undefined;
      },
      180_000,
    );
    // whenScaled: Delete — the removed node's PVC is gone, so a later scale-out starts clean.
    await waitFor('PVC of demo-3 deleted', async () => (await getJson('pvc', '-n', NS, '-l', 'app.kubernetes.io/instance=demo')).items.length === 3, 60_000);
  });

  it('the operator reports metrics and leads', async () => {
    const pods = await getJson('pods', '-n', 'kvs-system', '-l', 'app.kubernetes.io/name=kvs-operator');
    const ip = pods.items[0].status.podIP;
    const m = await (await fetch(`http://${ip}:8080/metrics`)).text();
    assert.match(m, /^kvs_operator_leader 1$/m);
    assert.match(m, /kvs_operator_reconcile_total\{result="(success|requeue)"\} [1-9]/);
  });

  it('a nodeConfig change rolls the pods to the new configuration', async () => {
    const before = await getJson('statefulset', 'demo', '-n', NS);
    const oldHash = before.spec.template.metadata.annotations['kvs.dev/config-hash'];
    await kubectl('patch', 'kvscluster', 'demo', '-n', NS, '--type=merge', '-p', '{"spec":{"nodeConfig":{"log-level":"debug"}}}');
    await waitFor(
      'rollout finished with the new config on every pod, Running',
      async () => {
        const sts = await getJson('statefulset', 'demo', '-n', NS);
        const hash = sts.spec.template.metadata.annotations['kvs.dev/config-hash'];
        if (hash === oldHash || sts.status.updateRevision !== sts.status.currentRevision || sts.status.updatedReplicas !== 3) return undefined;
        const pods = await getJson('pods', '-n', NS, '-l', 'app.kubernetes.io/instance=demo');
        if (!pods.items.every((p: any) => p.metadata.annotations['kvs.dev/config-hash'] === hash)) return undefined;
        const st = (await getJson('kvscluster', 'demo', '-n', NS)).status;
        return st.phase === 'Running' && st.readyReplicas === 3 ? true : undefined;
      },
      240_000,
    );
    const cm = await getJson('configmap', 'demo-config', '-n', NS);
    assert.equal(cm.data.KVS_LOG_LEVEL, 'debug');
  });

  it('deleting a KvsCluster removes its objects; PVCs follow pvcRetentionPolicy (Delete here)', async () => {
    await kubectl('delete', 'kvscluster', 'demo', '-n', NS, '--wait=true', '--timeout=60s');
    await waitFor(
      'children garbage-collected',
      async () => {
        const left = await kubectl('get', 'statefulsets,services,configmaps,poddisruptionbudgets,pods,pvc', '-n', NS, '-l', 'app.kubernetes.io/instance=demo', '-o', 'name');
        return left.trim() === '' ? true : undefined;
      },
      120_000,
    );
  });

  it('with the default pvcRetentionPolicy (Retain) the data volumes outlive the KvsCluster', async () => {
    const manifest = JSON.stringify({
      apiVersion: 'kvs.dev/v1alpha1',
      kind: 'KvsCluster',
      metadata: { name: 'keep', namespace: NS },
      spec: { replicas: 1, storage: { size: '64Mi' } },
    });
    await new Promise<void>((resolve, reject) => {
      const p = execFile(KUBECTL, ['apply', '-f', '-'], (err, _o, stderr) => (err ? reject(new Error(stderr)) : resolve()));
      p.stdin?.end(manifest);
    });
    await waitFor('keep Available', async () => (await getJson('kvscluster', 'keep', '-n', NS)).status?.conditions?.some((c: any) => c.type === 'Available' && c.status === 'True'), 180_000);
    await kubectl('delete', 'kvscluster', 'keep', '-n', NS, '--wait=true', '--timeout=60s');
    await waitFor('pods of keep gone', async () => (await getJson('pods', '-n', NS, '-l', 'app.kubernetes.io/instance=keep')).items.length === 0, 120_000);
    const pvcs = await getJson('pvc', '-n', NS, '-l', 'app.kubernetes.io/instance=keep');
    assert.equal(pvcs.items.length, 1, 'PVC retained');
    assert.equal(pvcs.items[0].metadata.deletionTimestamp, undefined);
    await kubectl('delete', 'pvc', '-n', NS, '-l', 'app.kubernetes.io/instance=keep', '--wait=false');
  });
});
