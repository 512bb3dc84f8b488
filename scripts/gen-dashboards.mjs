#!/usr/bin/env node
// Generates the Grafana dashboards of the chart (charts/kvs-operator/dashboards/*.json; never edit those
// by hand): one source for layout, variables and selectors across the four. `--check` exits 1 when a
// file differs from what this script would write (make test-monitoring runs it).
//
// Node series are selected by `namespace` and `kvs_cluster` (the chart's PodMonitor sets both; a local
// Prometheus may set neither: the variables' "All" value `.*` also matches an absent label). Members are
// told apart by `pod` on Kubernetes and `instance` elsewhere, so per-member panels keep both.
import { readFileSync, writeFileSync, readdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const outDir = join(root, 'charts', 'kvs-operator', 'dashboards');
const DS = { type: 'prometheus', uid: '${datasource}' };
/** Node series of the selected clusters. */
const S = 'namespace=~"$namespace", kvs_cluster=~"$kvs_cluster"';
const RI = '$__rate_interval';
const MEMBER = 'pod, instance';
const MEMBER_LEGEND = '{{pod}}{{instance}}';

const q = (...quantiles) => (metric, by, sel = S) =>
  quantiles.map((p) => [`histogram_quantile(${p}, sum by (le${by ? `, ${by}` : ''}) (rate(${metric}_bucket{${sel}}[${RI}])))`, `p${p * 100}${by ? ` ${by.split(', ').map((l) => `{{${l}}}`).join(' ')}` : ''}`]);
const p50p99 = q(0.5, 0.99);
const p99 = q(0.99);

const datasourceVar = { name: 'datasource', type: 'datasource', query: 'prometheus', label: 'Data source' };
const labelVar = (name, label, query) => ({
  name,
  label,
  type: 'query',
  datasource: DS,
  query,
  definition: query,
  includeAll: true,
  multi: true,
  allValue: '.*',
  refresh: 2,
  sort: 1,
});
const nodeVars = [
  datasourceVar,
  labelVar('namespace', 'Namespace', 'label_values(kvs_build_info, namespace)'),
  labelVar('kvs_cluster', 'KvsCluster', 'label_values(kvs_build_info{namespace=~"$namespace"}, kvs_cluster)'),
];

/**
 * A dashboard from rows of panels: each row is [title, panels]; a panel is
 * { title, unit?, type?, description?, targets: [[expr, legend], ...], w? }. Panels flow left to right,
 * 12 columns wide by default, 8 high.
 */
function dashboard({ uid, title, description, vars, rows }) {
  const panels = [];
  let id = 1;
  let y = 0;
  for (const [rowTitle, rowPanels] of rows) {
    panels.push({ id: id++, type: 'row', title: rowTitle, collapsed: false, gridPos: { h: 1, w: 24, x: 0, y }, panels: [] });
    y += 1;
    let x = 0;
    for (const p of rowPanels) {
      const w = p.w ?? 12;
      const h = p.type === 'stat' ? 4 : 8;
      if (x + w > 24) {
        x = 0;
        y += 8;
      }
      panels.push({
        id: id++,
        type: p.type ?? 'timeseries',
        title: p.title,
        ...(p.description ? { description: p.description } : {}),
        datasource: DS,
        gridPos: { h, w, x, y },
        fieldConfig: { defaults: { unit: p.unit ?? 'short' }, overrides: [] },
        options: p.type === 'stat' ? { reduceOptions: { calcs: ['lastNotNull'], fields: '', values: false }, colorMode: 'value', graphMode: 'none' } : { legend: { displayMode: 'list', placement: 'bottom' }, tooltip: { mode: 'multi' } },
        targets: p.targets.map(([expr, legend], i) => ({ refId: String.fromCharCode(65 + i), expr, legendFormat: legend, datasource: DS })),
      });
      x += w;
    }
    y += 8;
  }
  return {
    title,
    uid,
    description,
    tags: ['kvs'],
    schemaVersion: 39,
    version: 1,
    editable: true,
    refresh: '30s',
    time: { from: 'now-1h', to: 'now' },
    links: [{ title: 'kvs dashboards', type: 'dashboards', tags: ['kvs'], asDropdown: true }],
    templating: { list: vars },
    panels,
  };
}

const overview = dashboard({
  uid: 'kvs-overview',
  title: 'kvs / cluster overview',
  description: 'Client requests of the kvs nodes: rate by method and status code, latency, errors.',
  vars: nodeVars,
  rows: [
    [
      'Cluster',
      [
        { title: 'Members reporting', type: 'stat', w: 6, targets: [[`count(kvs_build_info{${S}})`, 'members']] },
        { title: 'Leaders', type: 'stat', w: 6, description: 'Members that are the leader of their Raft group: 1 per group when healthy.', targets: [[`sum(kvs_raft_is_leader{${S}})`, 'leaders']] },
        { title: 'Requests / s', type: 'stat', w: 6, unit: 'reqps', targets: [[`sum(rate(kvs_requests_total{${S}}[${RI}]))`, 'requests/s']] },
        { title: 'Error ratio', type: 'stat', w: 6, unit: 'percentunit', description: 'Share of requests answered with a code other than OK.', targets: [[`(sum(rate(kvs_requests_total{${S}, code!="OK"}[${RI}])) or vector(0)) / sum(rate(kvs_requests_total{${S}}[${RI}]))`, 'errors']] },
      ],
    ],
    [
      'Requests',
      [
        { title: 'Requests / s by method', unit: 'reqps', targets: [[`sum by (method) (rate(kvs_requests_total{${S}}[${RI}]))`, '{{method}}']] },
        { title: 'Requests / s by code', unit: 'reqps', targets: [[`sum by (code) (rate(kvs_requests_total{${S}}[${RI}]))`, '{{code}}']] },
        { title: 'Request latency p50 / p99 by method', unit: 's', targets: p50p99('kvs_request_duration_seconds', 'method') },
        { title: 'Requests / s by member', unit: 'reqps', targets: [[`sum by (${MEMBER}) (rate(kvs_requests_total{${S}}[${RI}]))`, MEMBER_LEGEND]] },
      ],
    ],
    [
      'Errors',
      [
        { title: 'Errors / s by method and code', unit: 'reqps', description: 'Every code but OK (NOT_FOUND is not an error: a missing key is an OK answer).', targets: [[`sum by (method, code) (rate(kvs_requests_total{${S}, code!="OK"}[${RI}]))`, '{{method}} {{code}}']] },
        { title: 'Error ratio by method', unit: 'percentunit', targets: [[`(sum by (method) (rate(kvs_requests_total{${S}, code!="OK"}[${RI}])) or 0 * sum by (method) (rate(kvs_requests_total{${S}}[${RI}]))) / sum by (method) (rate(kvs_requests_total{${S}}[${RI}]))`, '{{method}}']] },
      ],
    ],
    [
      'Concurrency and transactions',
      [
        { title: 'Requests in flight by member', targets: [[`sum by (${MEMBER}) (kvs_requests_in_flight{${S}})`, MEMBER_LEGEND]] },
        { title: 'BatchStream: open streams and sub-requests per frame (p50)', targets: [[`sum(kvs_streams_open{${S}})`, 'open streams'], ...q(0.5)('kvs_stream_frame_requests', '')] },
        { title: 'Transactions / s by outcome', unit: 'ops', targets: [[`sum by (outcome) (rate(kvs_txn_total{${S}}[${RI}]))`, '{{outcome}}']] },
        { title: 'Open interactive transactions', targets: [[`sum by (${MEMBER}) (kvs_active_txns{${S}})`, MEMBER_LEGEND]] },
      ],
    ],
  ],
});

const raft = dashboard({
  uid: 'kvs-raft',
  title: 'kvs / raft',
  description: 'Raft groups of the kvs nodes: leadership, terms, proposals, replication and apply lag, ReadIndex, snapshots.',
  vars: nodeVars,
  rows: [
    [
      'Leadership',
      [
        { title: 'Leader (raft id) by group', type: 'stat', w: 6, targets: [[`max by (group) (kvs_raft_leader_id{${S}})`, 'group {{group}}']] },
        { title: 'Term by group', type: 'stat', w: 6, targets: [[`max by (group) (kvs_raft_term{${S}})`, 'group {{group}}']] },
        { title: 'Leader changes (term increments) in the last hour', type: 'stat', w: 6, description: 'Every election or leader transfer raises the term (the KvsLeaderChangesTooOften alert: more than 5 in 15 min).', targets: [[`max by (group) (max_over_time(kvs_raft_term{${S}}[1h]) - min_over_time(kvs_raft_term{${S}}[1h]))`, 'group {{group}}']] },
        { title: 'Voters configured / reporting', type: 'stat', w: 6, targets: [[`max by (group) (kvs_raft_voters{${S}})`, 'configured'], [`sum by (group) (kvs_raft_is_voter{${S}})`, 'reporting']] },
        { title: 'Leader by member', description: '1 on the member that leads its group.', targets: [[`max by (${MEMBER}, group) (kvs_raft_is_leader{${S}})`, MEMBER_LEGEND]] },
        { title: 'Term by member', targets: [[`max by (${MEMBER}) (kvs_raft_term{${S}})`, MEMBER_LEGEND]] },
      ],
    ],
    [
      'Proposals',
      [
        { title: 'Proposals / s by member', unit: 'ops', targets: [[`sum by (${MEMBER}) (rate(kvs_raft_proposals{${S}}[${RI}]))`, MEMBER_LEGEND]] },
        { title: 'Proposal latency p99 by stage', unit: 's', description: 'From submit to: queued (in a Ready), committed, applied, resolved (on the proposing node).', targets: p99('kvs_raft_proposal_seconds', 'stage') },
        { title: 'Entries applied / s by member', unit: 'ops', targets: [[`sum by (${MEMBER}) (rate(kvs_raft_applied_entries{${S}}[${RI}]))`, MEMBER_LEGEND]] },
        { title: 'Ready loop stage latency p99', unit: 's', targets: p99('kvs_raft_ready_stage_seconds', 'stage') },
      ],
    ],
    [
      'Replication',
      [
        { title: 'Commit lag by member (entries behind the group\'s highest commit index)', targets: [[`max by (namespace, kvs_cluster, group) (kvs_raft_commit_index{${S}}) - on (namespace, kvs_cluster, group) group_right () kvs_raft_commit_index{${S}}`, MEMBER_LEGEND]] },
        { title: 'Apply lag by member (commit index − applied index)', targets: [[`kvs_raft_commit_index{${S}} - kvs_raft_applied_index{${S}}`, MEMBER_LEGEND]] },
        { title: 'Log entries kept by member (last − first index)', targets: [[`kvs_raft_last_index{${S}} - kvs_raft_first_index{${S}}`, MEMBER_LEGEND]] },
        { title: 'Transport messages / s', unit: 'ops', targets: [[`sum by (${MEMBER}) (rate(kvs_raft_transport_messages_sent{${S}}[${RI}]))`, `sent ${MEMBER_LEGEND}`], [`sum by (${MEMBER}) (rate(kvs_raft_transport_messages_dropped{${S}}[${RI}]))`, `dropped ${MEMBER_LEGEND}`]] },
      ],
    ],
    [
      'Reads and snapshots',
      [
        { title: 'ReadIndex rounds and linearizable reads / s', unit: 'ops', description: 'Concurrent reads share one ReadIndex round: reads / rounds is the batching factor.', targets: [[`sum(rate(kvs_raft_read_index_rounds{${S}}[${RI}]))`, 'ReadIndex rounds'], [`sum(rate(kvs_raft_reads{${S}}[${RI}]))`, 'reads']] },
        { title: 'Linearizable read latency p99 by stage', unit: 's', targets: p99('kvs_raft_read_index_seconds', 'stage') },
        { title: 'Snapshots by member (generated / installed, since start)', targets: [[`max by (${MEMBER}) (kvs_raft_snapshots_generated{${S}})`, `generated ${MEMBER_LEGEND}`], [`max by (${MEMBER}) (kvs_raft_snapshots_installed{${S}})`, `installed ${MEMBER_LEGEND}`]] },
        { title: 'Refused member identities', description: 'A wiped or replaced data dir answering under a recorded raft id (its frames are dropped).', targets: [[`max by (${MEMBER}) (kvs_raft_identity_refused{${S}})`, MEMBER_LEGEND]] },
      ],
    ],
  ],
});

const storage = dashboard({
  uid: 'kvs-storage',
  title: 'kvs / storage',
  description: 'Storage engine of the kvs nodes: size, disk space, synced writes and group commit, MVCC garbage collection.',
  vars: nodeVars,
  rows: [
    [
      'Space',
      [
        { title: 'Engine size by member', unit: 'bytes', targets: [[`max by (${MEMBER}) (kvs_engine_bytes{${S}})`, MEMBER_LEGEND]] },
        { title: 'Data disk free by member', unit: 'percentunit', description: 'The KvsDiskAlmostFull alert fires below 10 %.', targets: [[`max by (${MEMBER}) (kvs_disk_free_bytes{${S}} / kvs_disk_size_bytes{${S}})`, MEMBER_LEGEND]] },
      ],
    ],
    [
      'Writes',
      [
        {
          title: 'Synced write latency p50 / p99 by member',
          unit: 's',
          description: 'A replicated node syncs its Raft log appends (kvs_raft_append_persist_seconds); a single node syncs its state machine batches (kvs_sync_duration_seconds).',
          targets: [0.5, 0.99].map((p) => [
            `histogram_quantile(${p}, sum by (le, ${MEMBER}) (rate(kvs_raft_append_persist_seconds_bucket{${S}}[${RI}]))) or histogram_quantile(${p}, sum by (le, ${MEMBER}) (rate(kvs_sync_duration_seconds_bucket{${S}}[${RI}])))`,
            `p${p * 100} ${MEMBER_LEGEND}`,
          ]),
        },
        { title: 'Raft log append (persist) p99 by role', unit: 's', targets: p99('kvs_raft_append_persist_seconds', 'role') },
        { title: 'Synced writes / s by member', unit: 'ops', targets: [[`sum by (${MEMBER}) (rate(kvs_raft_synced_writes{${S}}[${RI}])) or sum by (${MEMBER}) (rate(kvs_sync_duration_seconds_count{${S}}[${RI}]))`, MEMBER_LEGEND]] },
        {
          title: 'Group commit: commands per synced write (mean)',
          description: 'Raft entries appended per synced log write on a replicated node; client commands per engine write on a single node.',
          targets: [[`sum(rate(kvs_raft_ready_entries_sum{${S}, kind="appended"}[${RI}])) / sum(rate(kvs_raft_synced_writes{${S}}[${RI}])) or sum(rate(kvs_write_batch_commands_sum{${S}}[${RI}])) / sum(rate(kvs_write_batch_commands_count{${S}}[${RI}]))`, 'commands']],
        },
        { title: 'Ready loop engine writes: ops per write (p50) by kind', targets: q(0.5)('kvs_raft_engine_write_ops', 'kind') },
        { title: 'Ready loop engine writes: bytes / s by kind', unit: 'Bps', targets: [[`sum by (kind) (rate(kvs_raft_engine_write_bytes_sum{${S}}[${RI}]))`, '{{kind}}']] },
      ],
    ],
    [
      'Garbage collection',
      [
        { title: 'GC runs and removed versions / s', unit: 'ops', targets: [[`sum(rate(kvs_gc_runs_total{${S}}[${RI}]))`, 'runs'], [`sum(rate(kvs_gc_removed_versions_total{${S}}[${RI}]))`, 'removed versions']] },
        { title: 'GC run duration (mean by member)', unit: 's', targets: [[`sum by (${MEMBER}) (rate(kvs_gc_duration_seconds_sum{${S}}[${RI}])) / sum by (${MEMBER}) (rate(kvs_gc_duration_seconds_count{${S}}[${RI}]))`, MEMBER_LEGEND]] },
      ],
    ],
  ],
});

const operator = dashboard({
  uid: 'kvs-operator',
  title: 'kvs / operator',
  description: 'The kvs operator: reconcile passes, errors, work queue, membership steps, managed clusters.',
  vars: [datasourceVar],
  rows: [
    [
      'Operator',
      [
        { title: 'Leader instances', type: 'stat', w: 6, description: '1 when an instance holds the leader lease.', targets: [['sum(kvs_operator_leader)', 'leaders']] },
        { title: 'Managed clusters', type: 'stat', w: 6, targets: [['max(kvs_operator_clusters)', 'clusters']] },
        { title: 'Degraded clusters', type: 'stat', w: 6, description: 'KvsClusters whose Degraded condition is True (KvsClusterDegraded alert after 15 min).', targets: [['sum(kvs_operator_cluster_degraded)', 'degraded']] },
        { title: 'Work queue depth', type: 'stat', w: 6, targets: [['max(kvs_operator_workqueue_depth)', 'depth']] },
      ],
    ],
    [
      'Reconciles',
      [
        { title: 'Reconciles / s by result', unit: 'ops', targets: [[`sum by (result) (rate(kvs_operator_reconcile_total[${RI}]))`, '{{result}}']] },
        { title: 'Reconcile errors / s by code', unit: 'ops', targets: [[`sum by (code) (rate(kvs_operator_reconcile_errors_total[${RI}]))`, '{{code}}']] },
        { title: 'Reconcile duration p50 / p99', unit: 's', targets: q(0.5, 0.99)('kvs_operator_reconcile_duration_seconds', '', '') },
        { title: 'Work queue retries / s', unit: 'ops', targets: [[`sum(rate(kvs_operator_workqueue_retries_total[${RI}]))`, 'retries']] },
      ],
    ],
    [
      'Changes',
      [
        { title: 'Membership steps / s by type and result', unit: 'ops', description: 'Raft membership changes through the nodes\' admin API (add learner, promote, remove, transfer leader).', targets: [[`sum by (type, result) (rate(kvs_operator_membership_steps_total[${RI}]))`, '{{type}} {{result}}']] },
        { title: 'Server-side applies / s by kind', unit: 'ops', targets: [[`sum by (kind) (rate(kvs_operator_apply_total[${RI}]))`, '{{kind}}']] },
        { title: 'Degraded clusters', targets: [['max by (kvs_namespace, kvs_cluster) (kvs_operator_cluster_degraded)', '{{kvs_namespace}}/{{kvs_cluster}}']] },
        { title: 'Operator CPU and memory', targets: [[`sum by (pod, instance) (rate(kvs_operator_process_cpu_seconds_total[${RI}]))`, `cpu ${MEMBER_LEGEND}`], ['sum by (pod, instance) (kvs_operator_process_resident_memory_bytes) / 2^20', `MiB ${MEMBER_LEGEND}`]] },
      ],
    ],
  ],
});

const files = { 'kvs-overview.json': overview, 'kvs-raft.json': raft, 'kvs-storage.json': storage, 'kvs-operator.json': operator };
const check = process.argv.includes('--check');
let stale = [];
for (const [name, d] of Object.entries(files)) {
  const text = `${JSON.stringify(d, null, 2)}\n`;
  const path = join(outDir, name);
  let old = '';
  try {
    old = readFileSync(path, 'utf8');
  } catch {
    /* new file */
  }
  if (old === text) continue;
  stale.push(name);
  if (!check) writeFileSync(path, text);
}
const extra = readdirSync(outDir).filter((f) => f.endsWith('.json') && !(f in files));
if (check) {
  if (stale.length || extra.length) {
    console.error(`gen-dashboards: out of date: ${[...stale, ...extra.map((f) => `${f} (not generated)`)].join(', ')} (run node scripts/gen-dashboards.mjs)`);
    process.exit(1);
  }
} else {
  for (const f of extra) rmSync(join(outDir, f));
  console.log(`gen-dashboards: ${Object.keys(files).length} dashboards, ${stale.length + extra.length} file(s) changed`);
}
