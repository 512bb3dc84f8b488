// kvs_operator_cluster_degraded: the state the "degraded for too long" alert reads.
import assert from 'node:assert/strict';
import type { KvsCluster } from '../../../operator/src/api/types.js';
import { OperatorMetrics } from '../../../operator/src/runtime/metrics.js';
import { cluster, healthyStatus } from './fixtures.js';

function degraded(name: string): KvsCluster {
  const c = cluster({}, healthyStatus());
  c.metadata.name = name;
  c.status!.conditions = c.status!.conditions!.map((x) => (x.type === 'Degraded' ? { ...x, status: 'True', reason: 'PodsFailing' } : x));
  return c;
}

describe('operator metrics: kvs_operator_cluster_degraded', () => {
  it('is 1 for a cluster whose Degraded condition is True, 0 for a healthy one, read at scrape time', async () => {
    const m = new OperatorMetrics(false);
    let clusters: KvsCluster[] = [cluster({}, healthyStatus()), degraded('sick')];
    m.setClusterSource(() => clusters);
    let text = await m.registry.metrics();
    assert.match(text, /^kvs_operator_cluster_degraded\{kvs_namespace="db",kvs_cluster="demo"\} 0$/m);
    assert.match(text, /^kvs_operator_cluster_degraded\{kvs_namespace="db",kvs_cluster="sick"\} 1$/m);
    // A deleted cluster disappears (no stale series keeping an alert alive).
    clusters = [cluster({}, healthyStatus())];
    text = await m.registry.metrics();
    assert.doesNotMatch(text, /kvs_cluster="sick"/);
  });

  it('reports nothing without a source (a standby instance)', async () => {
    const text = await new OperatorMetrics(false).registry.metrics();
    assert.doesNotMatch(text, /^kvs_operator_cluster_degraded\{/m);
  });
});
