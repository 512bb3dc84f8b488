// kubectl helpers of the e2e scenarios (KVS_KUBECTL and KUBECONFIG come from e2e/run-e2e.sh).
import { strict as assert } from 'node:assert';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { KvClient, type ClientTlsOptions } from '../../node/src/client/index.js';

const KUBECTL = process.env.KVS_KUBECTL ?? 'kubectl';

export function kubectl(...args: string[]): Promise<string> {
  return new Promise((resolve, reject) =>
    execFile(KUBECTL, args, { timeout: 60_000, maxBuffer: 32 << 20 }, (err, stdout, stderr) => (err ? reject(new Error(`kubectl ${args.join(' ')}: ${stderr || err.message}`)) : resolve(String(stdout)))),
  );
}

export const getJson = async (...args: string[]): Promise<any> => JSON.parse(await kubectl('get', ...args, '-o', 'json'));

/** `kubectl apply -f -` of one object. */
export function applyManifest(obj: object): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const p = execFile(KUBECTL, ['apply', '-f', '-'], { timeout: 60_000 }, (err, _o, stderr) => (err ? reject(new Error(`kubectl apply: ${stderr || err.message}`)) : resolve()));
    p.stdin?.end(JSON.stringify(obj));
  });
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Polls fn every second until it returns a value other than undefined/false. The timeout message carries
 * the last error and what `observed` says was last seen (a CI log's tail may be all anyone gets to read).
 */
export async function waitFor<T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs: number, observed?: () => string | undefined): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined && v !== false) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) {
      const seen = observed?.();
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${String(last)}` : ''}${seen ? `; last seen: ${seen}` : ''}`);
    }
    await sleep(1000);
  }
}

/** Pod name → IP of a KvsCluster's running pods (not terminating). */
export async function podIps(ns: string, instance: string): Promise<Map<string, string>> {
  const pods = await getJson('pods', '-n', ns, '-l', `app.kubernetes.io/name=kvs,app.kubernetes.io/instance=${instance}`);
  return new Map(pods.items.filter((p: any) => p.status?.podIP && !p.metadata.deletionTimestamp).map((p: any) => [p.metadata.name, p.status.podIP]));
}

/** One line of a KvsCluster status: phase, ready count, members (pod:raftId:role, ! = unhealthy), leader, conditions that are not quiet. */
export function describeStatus(x: any): string {
  if (x === undefined || x === null) return 'no status';
  const members = (x.members ?? []).map((m: any) => `${m.pod}:${m.raftId ?? '?'}:${m.role}${m.healthy ? '' : '!'}`).join(',');
  const conds = (x.conditions ?? [])
    // The ones not in their quiet state: Available/Balanced False, every other condition True.
    .filter((c: any) => (c.type === 'Available' || c.type === 'Balanced' ? c.status === 'False' : c.status === 'True'))
    .map((c: any) => `${c.type}=${c.status}(${c.reason}: ${String(c.message ?? '').slice(0, 160)})`)
    .join('; ');
  const sm = x.shardMap;
  const shard = sm === undefined ? '' : ` ranges=${sm.ranges} under=${sm.underReplicated} unavail=${sm.unavailable} moves=${sm.movesInFlight} stores=[${(sm.stores ?? []).map((s: any) => `${s.storeId}:${s.state}:${s.ranges}/${s.leaders}`).join(',')}]`;
  return `phase=${x.phase} ready=${x.readyReplicas}/${x.replicas} members=[${members}] leader=${x.leader ?? '-'}${shard}${conds ? ` ${conds}` : ''}`;
}

/**
 * Clusters that once failed to settle: later waits on them get SETTLE_RETRY_MS at most, so one stuck
 * cluster costs the run minutes, not a full timeout per remaining scenario (CI has a time limit), while a
 * cluster that does recover is still seen to.
 */
const unsettled = new Set<string>();
const SETTLE_RETRY_MS = 60_000;

/** The KvsCluster Running with n ready, healthy members, n voters and a leader (the operator observes its nodes). */
export async function waitRunning(ns: string, name: string, n: number, timeoutMs = 240_000): Promise<any> {
  const key = `${ns}/${name}`;
  const budget = unsettled.has(key) ? Math.min(timeoutMs, SETTLE_RETRY_MS) : timeoutMs;
  let seen: any;
  try {
    const st = await waitFor(
      `${key} Running with ${n} voters and a leader${budget < timeoutMs ? ' (shortened: it did not settle before)' : ''}`,
      async () => {
        const x = (await getJson('kvscluster', name, '-n', ns)).status;
        seen = x;
        const voters = (x?.members ?? []).filter((m: any) => m.role === 'Leader' || m.role === 'Follower');
        return x?.phase === 'Running' && x.readyReplicas === n && voters.length === n && x.leader && x.members.every((m: any) => m.healthy) ? x : undefined;
      },
      budget,
      () => describeStatus(seen),
    );
    unsettled.delete(key);
    return st;
  } catch (e) {
    unsettled.add(key);
    throw e;
  }
}

/**
 * A retrying client writing `prefix/i` (value `v<i>`) to a KvsCluster's pod IPs, following them as pods
 * restart (re-read every 2 s, as a Service or DNS would); records acknowledged keys (with the time) and
 * failures. `tls`: mutual TLS, else plaintext. `cycle`: write the keys `prefix/000` … `prefix/<cycle-1>`
 * over and over instead (a key space split into ranges stays written everywhere); `last` then holds each
 * key's last acknowledged value.
 */
export class PodWriter {
  acked: string[] = [];
  ackedAt: number[] = [];
  failures: string[] = [];
  /** Each key's last acknowledged value. */
  readonly last = new Map<string, string>();
  /** The slowest acknowledged write (ms). */
  maxMs = 0;
  private stopped = false;
  private done?: Promise<void>;
  private client?: KvClient;
  private endpoints = '';
  constructor(private readonly o: { ns: string; instance: string; prefix: string; tls?: ClientTlsOptions; attemptTimeoutMs?: number; cycle?: number; pauseMs?: number }) {}

  private async refresh(): Promise<void> {
    const eps = [...(await podIps(this.o.ns, this.o.instance)).values()].map((ip) => `${ip}:7379`).sort().join(',');
    if (eps && eps !== this.endpoints) {
      this.client?.close();
      this.endpoints = eps;
      this.client = new KvClient({ endpoints: eps, ...(this.o.tls ? { tls: this.o.tls } : {}), timeoutMs: 30_000, attemptTimeoutMs: this.o.attemptTimeoutMs ?? 3000 });
    }
  }

  start(): this {
    this.done = (async () => {
      let lastRefresh = 0;
      for (let i = 0; !this.stopped; i++) {
        if (Date.now() - lastRefresh > 2000) {
          await this.refresh().catch(() => undefined);
          lastRefresh = Date.now();
        }
        const key = this.o.cycle ? `${this.o.prefix}/${String(i % this.o.cycle).padStart(3, '0')}` : `${this.o.prefix}/${String(i).padStart(6, '0')}`;
        const t = Date.now();
        try {
          await this.client!.put(key, `v${i}`);
          this.acked.push(key);
          this.ackedAt.push(Date.now());
          this.last.set(key, `v${i}`);
          this.maxMs = Math.max(this.maxMs, Date.now() - t);
        } catch (e) {
          this.failures.push(`${key}: ${e instanceof Error ? e.message : String(e)}`);
        }
        await sleep(this.o.pauseMs ?? 20);
      }
    })();
    return this;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.done;
    this.client?.close();
    this.client = undefined;
    this.endpoints = '';
  }

  /** Every key's last acknowledged value reads back (through the pods running now); call after stop(). */
  async checkLast(): Promise<void> {
    await this.refresh();
    try {
      for (const [k, v] of this.last) assert.equal((await this.client!.get(k)).value?.toString(), v, k);
    } finally {
      this.client?.close();
      this.client = undefined;
      this.endpoints = '';
    }
  }
}

/** The value PodWriter wrote under a key. */
export const writerValue = (k: string): string => `v${Number(k.split('/').pop())}`;

/** PodWriter keys not readable with their value on some pod of the cluster (reads on every replica): `pod: key`. */
export async function missingOnSomeNode(ns: string, instance: string, keys: string[], tls?: ClientTlsOptions): Promise<string[]> {
  const missing: string[] = [];
  for (const [pod, ip] of await podIps(ns, instance)) {
    const c = new KvClient({ endpoints: [`${ip}:7379`], ...(tls ? { tls } : {}), timeoutMs: 20_000 });
    try {
      for (const k of keys) {
        const r = await c.get(k);
        if (!r.found || r.value?.toString() !== writerValue(k)) missing.push(`${pod}: ${k}`);
      }
    } finally {
      c.close();
    }
  }
  return missing;
}

/**
 * A namespace with the nodes' certificate as a kubernetes.io/tls Secret `<name>-tls` (the throwaway PKI
 * of e2e/run-e2e.sh) and a small 3-node KvsCluster `name` in it (`spec` is merged in, e.g. tls).
 */
export async function createSmallCluster(ns: string, name: string, pki: string, spec: Record<string, unknown> = {}): Promise<void> {
  await kubectl('create', 'namespace', ns);
  await kubectl('-n', ns, 'create', 'secret', 'generic', `${name}-tls`, '--type=kubernetes.io/tls', `--from-file=tls.crt=${join(pki, 'node.crt')}`, `--from-file=tls.key=${join(pki, 'node.key')}`, `--from-file=ca.crt=${join(pki, 'ca.crt')}`);
  await applyManifest({
    apiVersion: 'kvs.dev/v1alpha1',
    kind: 'KvsCluster',
    metadata: { name, namespace: ns },
    spec: {
      replicas: 3,
      storage: { size: '128Mi' },
      resources: { requests: { cpu: '50m', memory: '96Mi' }, limits: { memory: '512Mi' } },
      pvcRetentionPolicy: 'Delete',
      ...spec,
    },
  });
}
