// Static checks of the Helm chart (helm lint/template run in `make test-operator-k8s`).
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { parse } from 'yaml';
import { repoRoot } from '../../../operator/src/api/gen-crd.js';

const chart = resolve(repoRoot(), 'charts/kvs-operator');

describe('operator Helm chart', () => {
  it('dashboards are valid JSON, cover the node, Raft, storage and operator metrics, and match their generator', () => {
    const dir = resolve(chart, 'dashboards');
    const files = readdirSync(dir).filter((f) => f.endsWith('.json')).sort();
    assert.deepEqual(files, ['kvs-operator.json', 'kvs-overview.json', 'kvs-raft.json', 'kvs-storage.json']);
    const exprs = files.map((f) => JSON.stringify((JSON.parse(readFileSync(resolve(dir, f), 'utf8')) as { panels: unknown[] }).panels)).join('\n');
    for (const m of ['kvs_requests_total', 'kvs_request_duration_seconds', 'kvs_raft_term', 'kvs_raft_is_leader', 'kvs_raft_proposals', 'kvs_raft_applied_index', 'kvs_raft_read_index_rounds', 'kvs_raft_snapshots_installed', 'kvs_engine_bytes', 'kvs_sync_duration_seconds', 'kvs_gc_runs_total', 'kvs_operator_reconcile_total', 'kvs_operator_reconcile_errors_total', 'kvs_operator_membership_steps_total']) {
      assert.ok(exprs.includes(m), m);
    }
    const r = spawnSync(process.execPath, [resolve(repoRoot(), 'scripts/gen-dashboards.mjs'), '--check'], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
  });

  it('every value is documented in the README', () => {
    const values = parse(readFileSync(resolve(chart, 'values.yaml'), 'utf8')) as Record<string, unknown>;
    const readme = readFileSync(resolve(chart, 'README.md'), 'utf8');
    const keys: string[] = [];
    for (const [k, v] of Object.entries(values)) {
      if (v && typeof v === 'object' && !Array.isArray(v) && !['resources', 'podSecurityContext', 'securityContext', 'podAnnotations', 'podLabels', 'nodeSelector', 'affinity'].includes(k)) {
        for (const [k2, v2] of Object.entries(v)) {
          if (v2 && typeof v2 === 'object' && !Array.isArray(v2) && k2 !== 'labels' && k2 !== 'annotations') for (const k3 of Object.keys(v2)) keys.push(`${k}.${k2}.${k3}`);
          else keys.push(`${k}.${k2}`);
        }
      } else keys.push(k);
    }
    assert.deepEqual(keys.filter((k) => !readme.includes(`\`${k}\``) && !readme.includes(`${k}\``)), []);
  });

  it('default image is kvs/operator:dev with IfNotPresent', () => {
    const values = parse(readFileSync(resolve(chart, 'values.yaml'), 'utf8'));
    assert.deepEqual([values.image.repository, values.image.tag, values.image.pullPolicy], ['kvs/operator', 'dev', 'IfNotPresent']);
    assert.equal(values.securityContext.readOnlyRootFilesystem, true);
    assert.equal(values.podSecurityContext.runAsNonRoot, true);
  });

  it('RBAC has no wildcard and deletes nothing but pods and PVCs (rolling restarts; member replacement on a new volume)', () => {
    const rbac = readFileSync(resolve(chart, 'templates/rbac.yaml'), 'utf8');
    assert.ok(!rbac.includes("'*'") && !rbac.includes('"*"') && !/\[\s*\*/.test(rbac));
    const rules = rbac.replace(/#.*$/gm, '').split(/\n\s*- apiGroups:/);
    const deleting = rules.filter((r) => /\bdelete\b/.test(r));
    assert.equal(deleting.length, 1);
    assert.match(deleting[0]!, /resources: \[pods, persistentvolumeclaims\]\s*\n\s*verbs: \[delete\]/);
  });
});
