// Turning TLS on in a running KvsCluster on the real local Kubernetes (issue 15: "a rolling change that
// never loses quorum"), and the Admin API on its own port. Own namespace ($KVS_E2E_TLSON_NAMESPACE) and
// KvsCluster ($KVS_E2E_TLSON_CLUSTER), certificates from e2e/run-e2e.sh (scripts/gen-certs.sh):
//  - a plaintext cluster: its nodes serve Admin on the admin port only (the Kv port answers UNIMPLEMENTED),
//    no Service exposes it, and the operator's NetworkPolicy admits only the operator's pods to it;
//  - spec.tls added under two writers (plaintext and mTLS): the operator restarts every node in
//    transition before any node runs TLS only — a watcher polling the pods never sees a plaintext-only
//    and a TLS-only node at once — the writers together are never stalled for long (the quorum held),
//    every acknowledged write is readable over mTLS on every node, and a plaintext client is refused
//    at the end (negative control: the check that plaintext is refused can fail — it succeeds before).
import { strict as assert } from 'node:assert';
import { join } from 'node:path';
import { AdminClient, KvClient, type ClientTlsOptions } from '../../node/src/client/index.js';
import { quietIpServernameWarning } from '../../node/src/common/tls.js';
import { PodWriter, createSmallCluster, getJson, kubectl, podIps, sleep, waitFor, waitRunning, missingOnSomeNode } from './k8s.js';

const NS = process.env.KVS_E2E_TLSON_NAMESPACE ?? 'kvs-e2e-tlson';
const NAME = process.env.KVS_E2E_TLSON_CLUSTER ?? 'tlson';
const PKI = process.env.KVS_E2E_PKI ?? '';
const ADMIN_PORT = 7381;
const clientTls = (): ClientTlsOptions => ({ ca: join(PKI, 'ca.crt'), cert: join(PKI, 'client.crt'), key: join(PKI, 'client.key'), serverName: `${NAME}.${NS}.svc` });
const nodeIps = () => podIps(NS, NAME);

/** The TLS mode of every pod of the cluster (the annotation the operator's template gives). */
async function podModes(): Promise<string[]> {
  const pods = await getJson('pods', '-n', NS, '-l', `app.kubernetes.io/name=kvs,app.kubernetes.io/instance=${NAME}`);
  return pods.items.map((p: any) => p.metadata.annotations?.['kvs.dev/tls-mode'] ?? '?').sort();
}

describe('e2e: turning TLS on in a running KvsCluster; the Admin API on its own port', function () {
  this.timeout(600_000);
  let t0 = 0;

  before(async function () {
    assert.ok(PKI, 'KVS_E2E_PKI (set by e2e/run-e2e.sh: the CA and certificates)');
    quietIpServernameWarning();
    await createSmallCluster(NS, NAME, PKI);
  });

  after(async () => {
    await kubectl('delete', 'namespace', NS, '--wait=false').catch(() => undefined);
  });

  beforeEach(() => {
    t0 = Date.now();
  });
  afterEach(function () {
    console.log(`[e2e-time] ${this.currentTest?.title}: ${((Date.now() - t0) / 1000).toFixed(1)} s (${this.currentTest?.state})`);
  });

  it('plaintext cluster: Admin only on the admin port, in no Service; the NetworkPolicy admits only the operator there', async () => {
    const st = await waitRunning(NS, NAME, 3);
    assert.equal(st.tlsMode, 'plain');
    const ips = [...(await nodeIps()).values()];
    // The operator reached the nodes (members healthy above) through the admin port; so does this client.
    const admin = new AdminClient(ips.map((ip) => `${ip}:${ADMIN_PORT}`), { followAnyLeaderHint: false, timeoutMs: 5000 });
    const onKvPort = new AdminClient([`${ips[0]}:7379`], { timeoutMs: 5000 });
    try {
      assert.ok(Number((await admin.status(`${ips[0]}:${ADMIN_PORT}`)).raftId) > 0);
      await assert.rejects(onKvPort.status(`${ips[0]}:7379`), (e: Error) => /does not implement the method \/kvs\.v1\.Admin\/Status/.test(e.message), 'the Kv port serves no Admin');
    } finally {
      admin.close();
      onKvPort.close();
    }
    for (const svc of ['', '-peers']) {
      const ports = (await getJson('service', `${NAME}${svc}`, '-n', NS)).spec.ports.map((p: any) => p.port);
      assert.ok(!ports.includes(ADMIN_PORT), `service ${NAME}${svc} exposes ${ports.join(',')}`);
    }
    const np = await getJson('networkpolicy', NAME, '-n', NS);
    assert.deepEqual(np.spec.podSelector.matchLabels, { 'app.kubernetes.io/name': 'kvs', 'app.kubernetes.io/instance': NAME });
    const adminRule = np.spec.ingress.find((r: any) => r.ports.some((p: any) => p.port === ADMIN_PORT));
    const opPod = (await getJson('pods', '-n', 'kvs-system', '-l', 'app.kubernetes.io/name=kvs-operator')).items[0];
    const sel = adminRule.from[0];
    assert.equal(sel.namespaceSelector.matchLabels['kubernetes.io/metadata.name'], 'kvs-system');
    for (const [k, v] of Object.entries(sel.podSelector.matchLabels)) assert.equal(opPod.metadata.labels[k], v, `the operator pod carries ${k}=${v}`);
    const openRule = np.spec.ingress.find((r: any) => r.from === undefined);
    assert.ok(!openRule.ports.some((p: any) => p.port === ADMIN_PORT), 'the admin port is not open to everyone');
  });

  it('spec.tls added: every node restarts in transition before any runs TLS only, the writers never stall for long, nothing acknowledged is lost', async () => {
    const plainW = new PodWriter({ ns: NS, instance: NAME, prefix: 'tlson/plain', attemptTimeoutMs: 2000 }).start();
    const tlsW = new PodWriter({ ns: NS, instance: NAME, prefix: 'tlson/tls', tls: clientTls(), attemptTimeoutMs: 2000 }).start();
    const seen: string[] = [];
    let stopWatch = false;
    const watch = (async () => {
      while (!stopWatch) {
        const m = (await podModes().catch(() => undefined))?.join(',');
        if (m && seen[seen.length - 1] !== m) seen.push(m);
        await sleep(300);
      }
    })();
    try {
      await waitFor('writes acknowledged before the change', async () => plainW.acked.length > 20, 60_000);
      await kubectl('patch', 'kvscluster', NAME, '-n', NS, '--type=merge', '-p', JSON.stringify({ spec: { tls: { secretName: `${NAME}-tls` } } }));
      await waitFor('every pod in transition', async () => (await podModes()).every((m) => m === 'transition'), 300_000);
      await waitFor('every pod on tls', async () => (await podModes()).every((m) => m === 'tls'), 300_000);
      const st = await waitRunning(NS, NAME, 3, 240_000);
      assert.equal(st.tlsMode, 'tls');
      await waitFor('mTLS writes after the change', async () => tlsW.acked.length > 0 && tlsW.ackedAt[tlsW.ackedAt.length - 1]! > Date.now() - 5000, 60_000);
    } finally {
      stopWatch = true;
      await watch;
      await plainW.stop();
      await tlsW.stop();
    }
    console.log(`[e2e] pod TLS modes seen: ${seen.join(' | ')}; acked plaintext ${plainW.acked.length} (failed ${plainW.failures.length}), mTLS ${tlsW.acked.length} (failed ${tlsW.failures.length})`);
    // Never a plaintext-only node next to a TLS-only one: plain and tls are never seen at once.
    const mixed = seen.filter((s) => s.split(',').includes('plain') && s.split(',').includes('tls'));
    assert.deepEqual(mixed, [], 'plain and tls pods side by side');
    assert.ok(seen.includes('transition,transition,transition'), `every pod ran transition at once: ${seen.join(' | ')}`);
    // The quorum held: between the first and last acknowledgement, the two writers together were never
    // without an acknowledged write for long (a pod restart costs at most an election).
    const acks = [...plainW.ackedAt, ...tlsW.ackedAt].sort((a, b) => a - b);
    let gap = 0;
    for (let i = 1; i < acks.length; i++) gap = Math.max(gap, acks[i]! - acks[i - 1]!);
    console.log(`[e2e] longest stretch without an acknowledged write: ${gap} ms`);
    assert.ok(gap < 15_000, `writes stalled for ${gap} ms`);
    const events = (await getJson('events.events.k8s.io', '-n', NS)).items.filter((e: any) => e.reason === 'TlsModeChanging').map((e: any) => e.note);
    assert.ok(events.length >= 2, `TlsModeChanging events: ${events.join(' / ')}`);

    // Every acknowledged write, of both writers, on every node over mTLS; a never-written key is missing
    // (the check can fail).
    const never = 'tlson/never-written';
    const keys = [...plainW.acked, ...tlsW.acked];
    const missing = await missingOnSomeNode(NS, NAME, [...keys, never], clientTls());
    assert.deepEqual(missing, [...(await nodeIps()).keys()].map((p) => `${p}: ${never}`));
    // TLS only now: a plaintext client is refused.
    const plain = new KvClient({ endpoints: [...(await nodeIps()).values()].map((ip) => `${ip}:7379`), timeoutMs: 3000, attemptTimeoutMs: 1000 });
    try {
      await assert.rejects(plain.put('tlson/plain-after', 'x'));
    } finally {
      plain.close();
    }
  });
});
