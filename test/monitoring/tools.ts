// Where the monitoring tests find promtool, prometheus and helm (scripts/test-monitoring.sh installs
// them and exports the paths; the defaults are Debian's and e2e/cluster/env.sh's locations).
import { spawnSync } from 'node:child_process';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { repoRoot } from '../../operator/src/api/gen-crd.js';

export const ROOT = repoRoot();
export const RULES = resolve(ROOT, 'charts/kvs-operator/alerts/kvs.rules.yaml');
export const RULE_TESTS = resolve(ROOT, 'test/monitoring/alerts.test.yaml');
export const CHART = resolve(ROOT, 'charts/kvs-operator');
export const PROMTOOL = process.env.PROMTOOL ?? 'promtool';
export const PROMETHEUS = process.env.PROMETHEUS ?? 'prometheus';
export const HELM = process.env.KVS_HELM ?? join(homedir(), '.cache/kvs-k8s', process.env.KVS_K8S_VERSION ?? 'v1.33.13', 'bin/helm');

export interface Run {
  status: number | null;
  out: string;
}

/** Runs a tool synchronously (they all finish in well under a second), stdout + stderr together. */
export function run(cmd: string, args: string[], opts: { cwd?: string; input?: string } = {}): Run {
  const r = spawnSync(cmd, args, { cwd: opts.cwd ?? ROOT, input: opts.input, encoding: 'utf8', timeout: 60_000 });
  if (r.error) throw r.error;
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}
