// The TLS and monitoring scenarios of the Kubernetes e2e, on the one shared cluster, in their own
// namespace ($KVS_E2E_TLS_NAMESPACE) with their own KvsCluster ($KVS_E2E_TLS_CLUSTER), so the other
// scenarios (kvs.e2e.test.ts) are not disturbed:
//  - a KvsCluster with spec.tls, its nodes' certificate (openssl, e2e/run-e2e.sh → scripts/gen-certs.sh)
//    stored as a kubernetes.io/tls Secret; the operator manages it with its own admin certificate
//    (chart value tls.secretName); a writing client over mTLS from the host to the pod IPs through a
//    scale-out and a leader pod kill, then every acknowledged write read back on every node;
//  - a real Prometheus (Debian's binary) on the host scraping the operator and every node (pods found
//    with kubectl, given the chart's PodMonitor labels, fed through file_sd): every target up, the
//    series the dashboards and alert rules use present and moving under a writer.
// Each check has a negative control: a plaintext client and another CA's client are refused, a key never
// written is reported missing, a target on a wrong port is down, an unknown cluster selects nothing.
import { strict as assert } from 'node:assert';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { KvClient, type ClientTlsOptions } from '../../node/src/client/index.js';
import { quietIpServernameWarning } from '../../node/src/common/tls.js';
import { CertDir } from '../../test/helpers/certs.js';
import { alertRules, dashboards, expand, families, promQuery } from '../../test/monitoring/queries.js';
import { RULES } from '../../test/monitoring/tools.js';
import { PodWriter, createSmallCluster, getJson, kubectl, podIps, sleep, waitFor, waitRunning, missingOnSomeNode } from './k8s.js';

const NS = process.env.KVS_E2E_TLS_NAMESPACE ?? 'kvs-e2e-tls';
const NAME = process.env.KVS_E2E_TLS_CLUSTER ?? 'secure';
const PKI = process.env.KVS_E2E_PKI ?? '';
const OP_NS = 'kvs-system';
const PROMETHEUS = process.env.PROMETHEUS ?? 'prometheus';
/** The name in the nodes' certificate the host verifies them against while dialing pod IPs. */
const SERVER_NAME = `${NAME}.${NS}.svc`;

const clientTls = (): ClientTlsOptions => ({ ca: join(PKI, 'ca.crt'), cert: join(PKI, 'client.crt'), key: join(PKI, 'client.key'), serverName: SERVER_NAME });

const waitSettled = (n: number, timeoutMs?: number) => waitRunning(NS, NAME, n, timeoutMs);
const nodeIps = () => podIps(NS, NAME);
const tlsWriter = (prefix: string) => new PodWriter({ ns: NS, instance: NAME, prefix, tls: clientTls() });

/** Keys not readable with their value on some node (mTLS, ReadIndex reads on every replica): `pod: key`. */
interface Target {
  labels: Record<string, string>;
  scrapePool: string;
  health: 'up' | 'down' | 'unknown';
  lastError: string;
}

describe('e2e: a TLS KvsCluster and a real Prometheus on the local Kubernetes', function () {
  this.timeout(600_000);
  let t0 = 0;
  let prom: ChildProcess | undefined;
  let promLog = '';
  let promUrl = '';
  let promDir = '';
  let discovery: NodeJS.Timeout | undefined;

  const targets = async (): Promise<Target[]> => ((await (await fetch(`${promUrl}/api/v1/targets?state=active`)).json()) as { data: { activeTargets: Target[] } }).data.activeTargets;
  /** Every target of the job up, and they are exactly `want` (host:port); a reason otherwise. */
  const jobUp = async (job: string, want: string[]): Promise<true | string> => {
    const ts = (await targets()).filter((t) => t.scrapePool === job);
    const got = ts.map((t) => t.labels['instance']!).sort();
    if (JSON.stringify(got) !== JSON.stringify([...want].sort())) return `${job}: targets ${got.join(',')} ≠ ${[...want].sort().join(',')}`;
    const bad = ts.filter((t) => t.health !== 'up');
    return bad.length === 0 ? true : `${job}: ${bad.map((t) => `${t.labels['instance']} ${t.health} ${t.lastError}`).join('; ')}`;
  };
  const scalar = async (q: string): Promise<number | undefined> => {
    const r = await promQuery(promUrl, q);
    const v = r.data?.result[0]?.value[1];
    return r.status === 'success' && v !== undefined ? Number(v) : undefined;
  };

  before(async function () {
    assert.ok(PKI, 'KVS_E2E_PKI (set by e2e/run-e2e.sh: the CA and certificates)');
    quietIpServernameWarning(); // grpc-js's SNI for a dialed pod IP (DEP0123), as kvsctl and the node do
    // Prometheus first, so it scrapes the whole scenario (the scale-out's membership steps too).
    // Debian's build has no kubernetes_sd, so the pods are discovered here (kubectl, every second) into
    // file_sd files with the labels the chart's PodMonitor gives: namespace, pod, kvs_cluster (from
    // app.kubernetes.io/instance). Prometheus picks up a rewritten file at once (inotify).
    promDir = mkdtempSync(join(tmpdir(), 'kvs-e2e-prom-'));
    const file = (job: string) => join(promDir, `${job}.json`);
    const job = (name: string) => ({ job_name: name, file_sd_configs: [{ files: [file(name)], refresh_interval: '1s' }] });
    const config = {
      global: { scrape_interval: '1s', scrape_timeout: '900ms', evaluation_interval: '1s' },
      rule_files: [RULES],
      // control-wrong-port: the negative control of the "up" check, the nodes' gRPC port (mTLS, no /metrics).
      scrape_configs: [job('kvs'), job('kvs-operator'), job('control-wrong-port')],
    };
    const discover = async () => {
      const groups = async (ns: string, selector: string, port: number, extra: (p: any) => Record<string, string>) =>
        (await getJson('pods', '-n', ns, '-l', selector)).items
          .filter((p: any) => p.status?.podIP && !p.metadata.deletionTimestamp)
          .map((p: any) => ({ targets: [`${p.status.podIP}:${port}`], labels: { namespace: ns, pod: p.metadata.name, ...extra(p) } }));
      const nodes = 'app.kubernetes.io/name=kvs';
      const write = (name: string, g: unknown[]) => {
        writeFileSync(`${file(name)}.tmp`, JSON.stringify(g));
        renameSync(`${file(name)}.tmp`, file(name));
      };
      write('kvs', await groups(NS, nodes, 7380, (p) => ({ kvs_cluster: p.metadata.labels['app.kubernetes.io/instance'] })));
      write('kvs-operator', await groups(OP_NS, 'app.kubernetes.io/name=kvs-operator', 8080, () => ({})));
      write('control-wrong-port', await groups(NS, nodes, 7379, () => ({})));
    };
    await discover();
    discovery = setInterval(() => void discover().catch(() => undefined), 1000);
    writeFileSync(join(promDir, 'prometheus.yml'), stringify(config));
    const port = 19090 + Math.floor(Math.random() * 900);
    promUrl = `http://127.0.0.1:${port}`;
    prom = spawn(PROMETHEUS, [`--config.file=${join(promDir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(promDir, 'tsdb')}`, `--web.listen-address=127.0.0.1:${port}`, '--log.level=warn'], { stdio: ['ignore', 'pipe', 'pipe'] });
    prom.stdout!.on('data', (b: Buffer) => (promLog += b.toString()));
    prom.stderr!.on('data', (b: Buffer) => (promLog += b.toString()));
    await waitFor('prometheus ready', async () => {
      if (prom!.exitCode !== null) throw new Error(`prometheus exited (${prom!.exitCode})`);
      return (await fetch(`${promUrl}/-/ready`)).ok;
    }, 30_000).catch((e: Error) => {
      throw new Error(`${e.message}\n${promLog}`);
    });

    await createSmallCluster(NS, NAME, PKI, { tls: { secretName: `${NAME}-tls` } });
  });

  after(async () => {
    clearInterval(discovery);
    if (prom && prom.exitCode === null) {
      prom.kill('SIGTERM');
      await new Promise((r) => prom!.once('exit', r));
    }
    if (promDir) rmSync(promDir, { recursive: true, force: true });
    // The namespace goes in the background (run-e2e.sh waits for it when it reuses a cluster).
    await kubectl('delete', 'namespace', NS, '--wait=false').catch(() => undefined);
  });

  beforeEach(() => {
    t0 = Date.now();
  });
  afterEach(function () {
    console.log(`[e2e-time] ${this.currentTest?.title}: ${((Date.now() - t0) / 1000).toFixed(1)} s (${this.currentTest?.state})`);
  });

  it('TLS KvsCluster → Ready: the operator observes the nodes with its admin certificate; a plaintext client and another CA\'s client are refused', async () => {
    const st = await waitSettled(3);
    assert.equal(st.members.filter((m: any) => m.role === 'Leader').length, 1);
    assert.ok(st.members.every((m: any) => typeof m.appliedIndex === 'number' && m.appliedIndex > 0), 'appliedIndex read over the admin API (mTLS)');
    const pod = (await getJson('pod', `${NAME}-0`, '-n', NS)).spec.containers[0];
    assert.ok(pod.env.some((e: any) => e.name === 'KVS_CERT_FILE'), 'the node runs with --cert-file');
    const eps = [...(await nodeIps()).values()].map((ip) => `${ip}:7379`);
    const ok = new KvClient({ endpoints: eps, tls: clientTls(), timeoutMs: 20_000 });
    const plain = new KvClient({ endpoints: eps, timeoutMs: 3000, attemptTimeoutMs: 1000 });
    const other = new CertDir();
    try {
      await ok.put('tls/hello', 'world');
      assert.equal((await ok.get('tls/hello')).value?.toString(), 'world');
      await assert.rejects(plain.get('tls/hello'), 'a plaintext client is refused');
      // Same CN as the real client, signed by another CA: only the signature differs.
      const otherCa = other.ca('other-ca');
      const foreign = other.issue(otherCa, 'foreign', { cn: 'kvs-client', eku: 'clientAuth' });
      const f = new KvClient({ endpoints: eps, tls: { ca: join(PKI, 'ca.crt'), cert: foreign.crt, key: foreign.key, serverName: SERVER_NAME }, timeoutMs: 3000, attemptTimeoutMs: 1000 });
      try {
        await assert.rejects(f.get('tls/hello'), 'a certificate of another CA is refused');
      } finally {
        f.close();
      }
    } finally {
      ok.close();
      plain.close();
      other.remove();
    }
  });

  it('over mTLS: scale 3→4 and kill the leader pod under a writing client; every acknowledged write is readable on every node', async () => {
    const w = tlsWriter('tls/writes').start();
    await waitFor('first acknowledged writes', async () => w.acked.length > 10, 60_000);
    await kubectl('scale', `kvscluster/${NAME}`, '-n', NS, '--replicas=4');
    let st = await waitSettled(4, 300_000);
    const leader = st.leader as string;
    const leaderId = st.members.find((m: any) => m.pod === leader).raftId;
    const ackedBefore = w.acked.length;
    await kubectl('delete', 'pod', leader, '-n', NS, '--grace-period=0', '--force', '--wait=false');
    await waitFor('writes acknowledged after the leader kill', async () => w.acked.length > ackedBefore + 20, 90_000);
    st = await waitSettled(4, 240_000);
    await w.stop();
    assert.equal(st.members.find((m: any) => m.pod === leader).raftId, leaderId, 'the killed pod rejoined under its raft id');
    console.log(`tls: ${w.acked.length} writes acknowledged over mTLS through scale 3→4 and a leader kill (${leader}), ${w.failures.length} failed`);
    assert.deepEqual(w.failures, []);
    assert.ok(w.acked.length > 50);
    // Negative control of the lost-write check: a key that was never written is reported.
    const never = 'tls/writes/never-written';
    assert.deepEqual(await missingOnSomeNode(NS, NAME, [...w.acked, never], clientTls()), [...(await nodeIps()).keys()].map((p) => `${p}: ${never}`));
  });

  it('Prometheus (pods discovered through the API server): the operator and every node are up; a wrong-port target is down', async () => {
    const ips = await nodeIps();
    assert.equal(ips.size, 4);
    const ops = await getJson('pods', '-n', OP_NS, '-l', 'app.kubernetes.io/name=kvs-operator');
    const opIps = ops.items.filter((p: any) => p.status?.podIP && !p.metadata.deletionTimestamp).map((p: any) => `${p.status.podIP}:8080`);
    const nodes = [...ips.values()].map((ip) => `${ip}:7380`);
    await waitFor('kvs and kvs-operator targets up', async () => (await jobUp('kvs', nodes)) === true && (await jobUp('kvs-operator', opIps)) === true, 60_000).catch(async (e: Error) => {
      throw new Error(`${e.message}: ${await jobUp('kvs', nodes)} / ${await jobUp('kvs-operator', opIps)}\n${promLog}`);
    });
    // The same check fails for a target that does not serve /metrics (discovered, scraped, down).
    const control = [...ips.values()].map((ip) => `${ip}:7379`);
    await waitFor('control targets scraped', async () => (await targets()).filter((t) => t.scrapePool === 'control-wrong-port' && t.health !== 'unknown').length === 4, 30_000);
    const verdict = await jobUp('control-wrong-port', control);
    assert.notEqual(verdict, true);
    assert.match(String(verdict), /down/);
    assert.equal(await scalar(`count(up{job="kvs", namespace="${NS}", kvs_cluster="${NAME}"} == 1)`), 4);
  });

  it('the series the dashboards and alert rules use exist for the cluster and move under a writer; every query and rule evaluates', async () => {
    const sel = `namespace="${NS}", kvs_cluster="${NAME}"`;
    const isOperator = (f: string) => f.startsWith('kvs_operator_');
    const used = new Set<string>();
    for (const d of dashboards) {
      for (const v of d.templating.list) for (const f of families(v.query ?? '')) used.add(f);
      for (const p of d.panels) for (const t of p.targets ?? []) for (const f of families(t.expr)) used.add(f);
    }
    for (const r of alertRules) for (const f of families(r.expr)) used.add(f);
    // The one family whose series appear only with their event (a reconcile error, labelled by its
    // code), which this scenario need not cause; that it is exported is checked by make test-monitoring.
    const onlyAfterEvent = new Set(['kvs_operator_reconcile_errors_total']);

    const moving = ['kvs_requests_total', 'kvs_raft_proposals', 'kvs_raft_applied_index', 'kvs_raft_commit_index', 'kvs_raft_synced_writes', 'kvs_raft_transport_messages_sent', 'kvs_request_duration_seconds_count', 'kvs_raft_proposal_seconds_count'];
    const sumOf = (m: string) => scalar(`sum(${m}{${sel}})`);
    const before = new Map<string, number | undefined>();
    for (const m of moving) before.set(m, await sumOf(m));
    const w = tlsWriter('tls/monitoring').start();
    await sleep(8000);
    await w.stop();
    await sleep(2500); // two more scrapes
    const stuck: string[] = [];
    for (const m of moving) {
      const a = before.get(m);
      const b = await sumOf(m);
      if (a === undefined || b === undefined || !(b > a)) stuck.push(`${m}: ${a} → ${b}`);
    }
    assert.deepEqual(stuck, [], `series that did not move under ${w.acked.length} writes`);
    assert.deepEqual(w.failures, []);
    // The operator's series of this scenario: the scale-out's membership steps (learner added, promoted).
    assert.ok(((await scalar('sum(kvs_operator_membership_steps_total)')) ?? 0) >= 2, 'membership steps of the scale-out');

    const absent: string[] = [];
    for (const f of [...used].sort()) {
      if (onlyAfterEvent.has(f)) continue;
      const q = isOperator(f) ? `count({__name__=~"${f}(_bucket|_sum|_count|_total)?", job="kvs-operator"})` : `count({__name__=~"${f}(_bucket|_sum|_count)?", ${sel}})`;
      if (!((await scalar(q)) ?? 0)) absent.push(f);
    }
    assert.deepEqual(absent, [], 'families used by the dashboards/alerts with no series from the cluster');
    assert.ok(used.size > 30, `${used.size} families checked`);

    const problems: string[] = [];
    let nonEmpty = 0;
    for (const d of dashboards) {
      for (const p of d.panels) {
        for (const t of p.targets ?? []) {
          const r = await promQuery(promUrl, expand(t.expr, NAME));
          if (r.status !== 'success') problems.push(`${d.uid} "${p.title}": ${r.errorType}: ${r.error}`);
          else if ((r.data?.result.length ?? 0) > 0) nonEmpty++;
        }
      }
    }
    assert.deepEqual(problems, []);
    console.log(`prometheus: ${used.size - onlyAfterEvent.size} of ${used.size} families present, ${nonEmpty} panel queries non-empty for ${NS}/${NAME}`);
    // Negative control of the selection: another cluster name selects nothing.
    assert.equal(await scalar(`count(kvs_build_info{namespace="${NS}", kvs_cluster="no-such-cluster"})`), undefined);
    assert.equal(await scalar(`count(kvs_build_info{${sel}})`), 4);
    // Every node reports the expiry of the certificate it serves (the certificate-expiry alerting input).
    assert.ok(((await scalar(`count(kvs_tls_certificate_expiry_timestamp_seconds{${sel}})`)) ?? 0) >= 4, 'certificate expiry series of every node');

    const rules = ((await (await fetch(`${promUrl}/api/v1/rules`)).json()) as { data: { groups: Array<{ rules: Array<{ name: string; health: string; lastError?: string }> }> } }).data.groups.flatMap((g) => g.rules);
    assert.equal(rules.length, alertRules.length);
    assert.deepEqual(rules.filter((x) => x.health !== 'ok').map((x) => `${x.name}: ${x.health} ${x.lastError ?? ''}`), []);
  });
});
