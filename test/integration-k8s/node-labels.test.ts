// spec.placement.topologyKey reads the labels of the Kubernetes nodes the store pods run on (issue 13):
// against a real kube-apiserver, with a token of the chart's ServiceAccount (exactly the chart's RBAC),
// the operator's NodeLabelCache reads a Node's zone. Negative control: without the chart's
// `<release>-nodes` ClusterRoleBinding the same read is forbidden and yields no labels.
import { strict as assert } from 'node:assert';
import { KubeConfig } from '@kubernetes/client-node';
import { silentLogger } from '../../node/src/common/logger.js';
import { NodeLabelCache } from '../../operator/src/runtime/node-labels.js';
import { k, kApply, kubectl, requireKubeconfig, serviceAccountKubeconfig } from './harness.js';

const OP_NS = 'kvs-system';
const ZONE = 'topology.kubernetes.io/zone';
const NODE = 'kvs-it-node-zone-b';

describe('operator: node labels for placement topology (chart RBAC)', function () {
  this.timeout(60_000);
  let saKubeconfig: string;

  before(async () => {
    requireKubeconfig();
    const r = await kubectl(['create', 'namespace', OP_NS]);
    assert.ok(r.code === 0 || /AlreadyExists/.test(r.stderr), r.stderr);
    saKubeconfig = (await serviceAccountKubeconfig(OP_NS, 'kvs-operator'))!;
    assert.ok(saKubeconfig, 'helm renders the chart RBAC');
    // A Node object (no kubelet behind it: the API server stores it like any object).
    const a = await kApply(`apiVersion: v1\nkind: Node\nmetadata:\n  name: ${NODE}\n  labels: { ${ZONE}: b, kubernetes.io/hostname: ${NODE} }\n`);
    assert.equal(a.code, 0, a.stderr);
  });

  after(async () => {
    await kubectl(['delete', 'node', NODE, '--ignore-not-found']);
  });

  const cacheAsOperator = (): NodeLabelCache => {
    const kc = new KubeConfig();
    kc.loadFromFile(saKubeconfig);
    return NodeLabelCache.forKube(kc, silentLogger());
  };

  it("the chart's ServiceAccount reads the zone of a pod's node", async () => {
    const labels = await cacheAsOperator().labelsOf([NODE, 'no-such-node']);
    assert.equal(labels.get(NODE)?.[ZONE], 'b');
    assert.equal(labels.has('no-such-node'), false);
  });

  it('negative control: without the chart\'s nodes ClusterRoleBinding the read is forbidden (no labels)', async () => {
    const binding = 'kvs-operator-nodes';
    const saved = await k('get', 'clusterrolebinding', binding, '-o', 'yaml');
    await k('delete', 'clusterrolebinding', binding);
    try {
      // RBAC is evaluated per request: the same token, a fresh cache.
      let labels = await cacheAsOperator().labelsOf([NODE]);
      for (let i = 0; i < 20 && labels.has(NODE); i++) {
        await new Promise((res) => setTimeout(res, 250));
        labels = await cacheAsOperator().labelsOf([NODE]);
      }
      assert.equal(labels.has(NODE), false, 'forbidden without the binding');
    } finally {
      const cleaned = saved.replace(/^\s*(resourceVersion|uid|creationTimestamp):.*$/gm, '');
      const r = await kApply(cleaned);
      assert.equal(r.code, 0, r.stderr);
    }
    assert.equal((await cacheAsOperator().labelsOf([NODE])).get(NODE)?.[ZONE], 'b', 'readable again with the binding');
  });
});
