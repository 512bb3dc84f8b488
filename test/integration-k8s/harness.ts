// Helpers for tests against a real kube-apiserver (e2e/run-operator-k8s.sh starts one and sets
// KUBECONFIG, KVS_KUBECTL, KVS_HELM). The operator runs as a child process, as in production.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { repoRoot } from '../../operator/src/api/gen-crd.js';

export const ROOT = repoRoot();
export const KUBECTL = process.env.KVS_KUBECTL ?? 'kubectl';
export const HELM = process.env.KVS_HELM ?? 'helm';
export const LOG_DIR = process.env.KVS_TEST_LOG_DIR ?? '/tmp/kvs-operator-k8s-logs';

export function requireKubeconfig(): string {
  const k = process.env.KUBECONFIG;
  if (!k) throw new Error('KUBECONFIG is not set: run through `make test-operator-k8s` (e2e/run-operator-k8s.sh)');
  return k;
}

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function run(cmd: string, args: string[], opts: { input?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<RunResult> {
  return new Promise((resolvePromise) => {
    const child = execFile(cmd, args, { env: { ...process.env, ...opts.env }, timeout: opts.timeoutMs ?? 60_000, maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? ((err as { code: number }).code) : 1) : 0;
      resolvePromise({ code, stdout: String(stdout), stderr: String(stderr) });
    });
    if (opts.input !== undefined) child.stdin?.end(opts.input);
  });
}

export async function kubectl(args: string[], input?: string, kubeconfig?: string): Promise<RunResult> {
  return run(KUBECTL, args, { input, env: kubeconfig ? { KUBECONFIG: kubeconfig } : {} });
}

/** kubectl that must succeed; returns stdout. */
export async function k(...args: string[]): Promise<string> {
  const r = await kubectl(args);
  if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')} failed (${r.code}): ${r.stderr}`);
  return r.stdout;
}

export async function kApply(yaml: string, ...extra: string[]): Promise<RunResult> {
  return kubectl(['apply', '-f', '-', ...extra], yaml);
}

export async function getJson<T = any>(...args: string[]): Promise<T> {
  return JSON.parse(await k('get', ...args, '-o', 'json')) as T;
}

export async function waitFor<T>(what: string, fn: () => Promise<T>, timeoutMs = 30_000, everyMs = 250): Promise<Exclude<T, undefined | false>> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined && v !== false) return v as Exclude<T, undefined | false>;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface OperatorProcess {
  name: string;
  proc: ChildProcess;
  port: number;
  logFile: string;
  metrics(): Promise<string>;
  isLeader(): Promise<boolean>;
  stop(signal?: NodeJS.Signals): Promise<void>;
}

/** Starts dist/operator/src/main.js with its own metrics port (127.0.0.1) and identity. */
export function startOperator(name: string, port: number, kubeconfig: string, extraArgs: string[] = []): OperatorProcess {
  mkdirSync(LOG_DIR, { recursive: true });
  const logFile = resolve(LOG_DIR, `${name}.log`);
  const out = createWriteStream(logFile, { flags: 'a' });
  // The operator compiled next to this test (dist/ in make, or whatever outDir compiled the tests).
  const main = resolve(dirname(fileURLToPath(import.meta.url)), '../../operator/src/main.js');
  const proc = spawn(
    process.execPath,
    [main, '--metrics-bind-address', `127.0.0.1:${port}`, '--identity', name, '--lease-namespace', 'kvs-system', '--lease-duration', '6', '--renew-deadline', '4', '--retry-period', '1', '--resync', '30', ...extraArgs],
    { env: { ...process.env, KUBECONFIG: kubeconfig, KVS_LOG_LEVEL: 'debug' }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  proc.stdout?.pipe(out);
  proc.stderr?.pipe(out);
  const metrics = async () => {
    const r = await fetch(`http://127.0.0.1:${port}/metrics`);
    return r.text();
  };
  return {
    name,
    proc,
    port,
    logFile,
    metrics,
    async isLeader() {
      return /^kvs_operator_leader 1$/m.test(await metrics());
    },
    stop(signal: NodeJS.Signals = 'SIGTERM') {
      return new Promise((res) => {
        if (proc.exitCode !== null || proc.signalCode !== null) return res();
        proc.once('exit', () => res());
        proc.kill(signal);
      });
    },
  };
}

/**
 * A kubeconfig for the chart's ServiceAccount (token from the TokenRequest API), so the operator runs
 * with exactly the chart's RBAC. Returns undefined when helm is unavailable.
 */
export async function serviceAccountKubeconfig(namespace: string, release: string): Promise<string | undefined> {
  const tpl = await run(HELM, ['template', release, resolve(ROOT, 'charts/kvs-operator'), '--namespace', namespace, '--show-only', 'templates/serviceaccount.yaml', '--show-only', 'templates/rbac.yaml']);
  if (tpl.code !== 0) throw new Error(`helm template failed: ${tpl.stderr}`);
  const applied = await kApply(tpl.stdout, '-n', namespace);
  if (applied.code !== 0) throw new Error(`applying chart RBAC failed: ${applied.stderr}`);
  const token = (await k('create', 'token', release, '-n', namespace, '--duration', '2h')).trim();
  const admin = JSON.parse(await k('config', 'view', '--raw', '-o', 'json')) as {
    clusters: { name: string; cluster: Record<string, string> }[];
  };
  const cluster = admin.clusters[0]!;
  const cfg = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: cluster.name, cluster: cluster.cluster }],
    users: [{ name: 'operator', user: { token } }],
    contexts: [{ name: 'operator', context: { cluster: cluster.name, user: 'operator', namespace } }],
    'current-context': 'operator',
  };
  mkdirSync(LOG_DIR, { recursive: true });
  const file = resolve(LOG_DIR, 'operator-sa.kubeconfig');
  writeFileSync(file, JSON.stringify(cfg), { mode: 0o600 });
  return file;
}

export function tail(file: string, lines = 40): string {
  try {
    return readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}
