// The PromQL the chart ships — every Grafana panel and variable query and every alert rule — and the
// helpers that evaluate it: shared by the local-cluster monitoring test (test/monitoring/dashboards)
// and the Kubernetes e2e (e2e/tests/tls-monitoring), so both check the very same queries.
import { readFileSync, readdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { parse } from 'yaml';
import { CHART, RULES } from './tools.js';

export interface Panel {
  title: string;
  type: string;
  targets?: Array<{ refId: string; expr: string }>;
}
export interface Dashboard {
  uid: string;
  panels: Panel[];
  templating: { list: Array<{ name: string; type: string; query?: string }> };
}
export interface QueryResult {
  status: 'success' | 'error';
  errorType?: string;
  error?: string;
  data?: { resultType: string; result: Array<{ metric: Record<string, string>; value: [number, string] }> };
}
export interface AlertRule {
  alert?: string;
  record?: string;
  expr: string;
}

export const dashboards: Dashboard[] = readdirSync(resolve(CHART, 'dashboards'))
  .filter((f) => f.endsWith('.json'))
  .sort()
  .map((f) => JSON.parse(readFileSync(resolve(CHART, 'dashboards', f), 'utf8')) as Dashboard);

export const alertRules: AlertRule[] = (parse(readFileSync(RULES, 'utf8')) as { groups: Array<{ rules: AlertRule[] }> }).groups.flatMap((g) => g.rules);

/** Grafana's variables as the dashboard's "All" / one cluster selection would set them. */
export function expand(expr: string, cluster: string): string {
  return expr.replaceAll('$__rate_interval', '30s').replaceAll('$namespace', '.*').replaceAll('$kvs_cluster', cluster);
}

/** Label names that share the metrics' prefix. */
const KVS_LABELS = new Set(['kvs_cluster', 'kvs_namespace']);

/** Metric families referenced by an expression (histogram series names mapped to their family). */
export function families(expr: string): string[] {
  const names = [...expr.matchAll(/\b(kvs_[a-z0-9_]+)/g)].map((m) => m[1]!).filter((n) => !KVS_LABELS.has(n));
  return [...new Set(names.map((n) => n.replace(/_(bucket|sum|count)$/, '')))];
}

/** Families a /metrics exposition declares (`# TYPE name kind`). */
export function exported(text: string): Set<string> {
  return new Set([...text.matchAll(/^# TYPE (\S+) /gm)].map((m) => m[1]!));
}

/** An instant query against a Prometheus HTTP API. */
export async function promQuery(promUrl: string, q: string): Promise<QueryResult> {
  const r = await fetch(`${promUrl}/api/v1/query`, { method: 'POST', body: new URLSearchParams({ query: q }), signal: AbortSignal.timeout(10_000) });
  return (await r.json()) as QueryResult;
}
