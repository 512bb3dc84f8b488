// The pod the planner builds must start the real kvs-node: its args and the ConfigMap's env parse in
// the node's own configuration parser (node/src/server/config.ts).
import { strict as assert } from 'node:assert';
import { parseConfig } from '../../../node/src/server/config.js';
import { plan } from '../../../operator/src/controller/plan.js';
import { NOW, cluster } from './fixtures.js';

describe('operator ↔ kvs-node contract', () => {
  it('StatefulSet args + nodeConfig env are accepted by the node and land where expected', () => {
    const p = plan(cluster({ nodeConfig: { 'max-key-bytes': '4KiB', 'log-level': 'debug', 'shutdown-timeout': '20s' } }), { pods: [], pvcs: [], now: NOW });
    const sts = p.apply.find((o) => o.kind === 'StatefulSet') as any;
    const cm = p.apply.find((o) => o.kind === 'ConfigMap') as any;
    const c = sts.spec.template.spec.containers[0];
    // The kubelet expands $(POD_NAME) from the env entry of the same name.
    const args = (c.args as string[]).map((a) => a.replace('$(POD_NAME)', 'demo-0'));
    const cfg = parseConfig(args, { ...cm.data });
    assert.equal(cfg.listen, '0.0.0.0:7379');
    assert.equal(cfg.http, '0.0.0.0:7380');
    assert.equal(cfg.dataDir, '/data');
    assert.equal(cfg.nodeId, 'demo-0');
    assert.equal(cfg.logLevel, 'debug');
    assert.equal(cfg.limits.maxKeyBytes, 4096);
    assert.equal(cfg.shutdownTimeoutMs, 20_000);
    assert.ok(sts.spec.template.spec.terminationGracePeriodSeconds * 1000 > 10_000, 'grace period above the node default shutdown timeout');
    assert.equal(c.volumeMounts.find((m: { name: string }) => m.name === 'data').mountPath, cfg.dataDir);
  });
});
