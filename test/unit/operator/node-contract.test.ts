// The pod the planner builds must start the real kvs-node: its args and the ConfigMap's env parse in
// the node's own configuration parser (node/src/server/config.ts).
import { strict as assert } from 'node:assert';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, checkRaftIdentity, parseConfig } from '../../../node/src/server/config.js';
import { plan } from '../../../operator/src/controller/plan.js';
import { NOW, cluster } from './fixtures.js';

describe('operator ↔ kvs-node contract', () => {
  it('StatefulSet args + nodeConfig env are accepted by the node and land where expected', () => {
    const p = plan(cluster({ nodeConfig: { 'max-key-bytes': '4KiB', 'log-level': 'debug', 'shutdown-timeout': '20s' } }), { pods: [], pvcs: [], now: NOW });
    const sts = p.apply.find((o) => o.kind === 'StatefulSet') as any;
    const cm = p.apply.find((o) => o.kind === 'ConfigMap' && o.metadata?.name === 'demo-config') as any;
    const members = p.apply.find((o) => o.kind === 'ConfigMap' && o.metadata?.name === 'demo-members') as any;
    const c = sts.spec.template.spec.containers[0];
    const mount = c.volumeMounts.find((m: { name: string }) => m.name === 'members');
    assert.equal(sts.spec.template.spec.volumes.find((v: any) => v.name === 'members').configMap.name, 'demo-members');
    // The kubelet expands $(POD_NAME) / $(POD_IP) from the env entries of the same name.
    const args = (c.args as string[]).map((a) => a.replace('$(POD_NAME)', 'demo-0').replace('$(POD_IP)', '10.0.0.5'));
    const readFile = (path: string) => {
      assert.ok(path.startsWith(mount.mountPath + '/'), path);
      const v = members.data[path.slice(mount.mountPath.length + 1)];
      if (v === undefined) throw new Error('ENOENT');
      return v;
    };
    const cfg = parseConfig(args, { ...cm.data }, { readFile });
    // Bootstrap: raft id 1, --peers of all three initial members by their stable DNS names.
    assert.equal(cfg.raft?.raftId, 1);
    assert.equal(cfg.raft?.join, false);
    assert.deepEqual([...cfg.raft!.peers], [
      [1, 'demo-0.demo-peers.db.svc:7379'],
      [2, 'demo-1.demo-peers.db.svc:7379'],
      [3, 'demo-2.demo-peers.db.svc:7379'],
    ]);
    assert.equal(cfg.raft?.raftListen, cfg.listen, 'Kv, Admin and Raft share one gRPC server');
    assert.equal(cfg.raft?.advertiseClient, '10.0.0.5:7379');
    assert.equal(sts.spec.updateStrategy.type, 'OnDelete');
    assert.equal(sts.spec.persistentVolumeClaimRetentionPolicy.whenScaled, 'Delete');
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

describe('operator ↔ kvs-node contract: spec.tls', () => {
  it('mounts the kubernetes.io/tls Secret and hands the node its files and identities; plaintext without spec.tls', () => {
    const env = (c: any): Record<string, string> => Object.fromEntries((c.env as Array<{ name: string; value?: string }>).filter((e) => e.value !== undefined).map((e) => [e.name, e.value!]));
    const p = plan(cluster({ tls: { secretName: 'demo-tls', adminIdentities: ['kvs-admin', 'ops'] } }), { pods: [], pvcs: [], now: NOW });
    const sts = p.apply.find((o) => o.kind === 'StatefulSet') as any;
    const cm = p.apply.find((o) => o.kind === 'ConfigMap' && o.metadata?.name === 'demo-config') as any;
    const podSpec = sts.spec.template.spec;
    const c = podSpec.containers[0];
    const vol = podSpec.volumes.find((v: any) => v.secret?.secretName === 'demo-tls');
    assert.ok(vol, 'the Secret is a volume');
    const mount = c.volumeMounts.find((m: any) => m.name === vol.name);
    assert.equal(mount.readOnly, true);
    const args = (c.args as string[]).map((a) => a.replace('$(POD_NAME)', 'demo-0').replace('$(POD_IP)', '10.0.0.5'));
    // The node reads env (container env wins over the ConfigMap's envFrom).
    const cfg = parseConfig(args, { ...cm.data, ...env(c) }, { readFile: () => 'KVS_RAFT_ID=1\nKVS_PEERS=1=demo-0.demo-peers.db.svc:7379' });
    assert.deepEqual(cfg.tls, {
      certFile: `${mount.mountPath}/tls.crt`,
      keyFile: `${mount.mountPath}/tls.key`,
      trustedCaFile: `${mount.mountPath}/ca.crt`,
      adminIdentities: ['kvs-admin', 'ops'],
      peerIdentities: ['kvs-node'],
      reloadMs: 5000,
      transition: false,
    });
    // transition: the node's --tls-transition.
    const tp = plan(cluster({ tls: { secretName: 'demo-tls', transition: true } }), { pods: [], pvcs: [], now: NOW });
    const tc = (tp.apply.find((o) => o.kind === 'StatefulSet') as any).spec.template.spec.containers[0];
    const tcfg = parseConfig(args, { ...cm.data, ...env(tc) }, { readFile: () => 'KVS_RAFT_ID=1\nKVS_PEERS=1=demo-0.demo-peers.db.svc:7379' });
    assert.equal(tcfg.tls?.transition, true);
    const plain = plan(cluster(), { pods: [], pvcs: [], now: NOW });
    const pc = (plain.apply.find((o) => o.kind === 'StatefulSet') as any).spec.template.spec.containers[0];
    assert.ok(!pc.env.some((e: any) => /^KVS_(CERT|KEY|TRUSTED_CA)_FILE$/.test(e.name)));
    assert.ok(!(plain.apply.find((o) => o.kind === 'StatefulSet') as any).spec.template.spec.volumes.some((v: any) => v.secret));
  });
});

describe('operator ↔ kvs-node contract: scale-out pods and raft identity', () => {
  it('a pod added by a scale-out starts with --join and its own fresh raft id', () => {
    const base = plan(cluster(), { pods: [], pvcs: [], now: NOW });
    const cmData = (base.apply.find((o) => o.metadata?.name === 'demo-members') as any).data;
    const p = plan(cluster({ replicas: 4 }), {
      statefulSet: (base.apply.find((o) => o.kind === 'StatefulSet') as any),
      pods: [],
      pvcs: [],
      membersConfig: cmData,
      nodes: {
        'demo-0': { raftId: 1, role: 'Leader', term: 2, commit: 10, applied: 10, leaderId: 1, members: [1, 2, 3].map((id) => ({ raftId: id, role: 'voter', match: 10, next: 11, state: 'Replicate', recentActive: true })) },
      },
      now: NOW,
    });
    const members = (p.apply.find((o) => o.metadata?.name === 'demo-members') as any).data;
    const cfg = parseConfig(['--data-dir', '/data', '--env-file', '/m/demo-3'], {}, { readFile: () => members['demo-3'] });
    assert.equal(cfg.raft?.raftId, 4);
    assert.equal(cfg.raft?.join, true);
    assert.equal(cfg.raft?.peers.get(1), 'demo-0.demo-peers.db.svc:7379');
  });

  it('a node refuses a data directory that belongs to another raft id (a resurrected old member)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kvs-identity-'));
    try {
      checkRaftIdentity(dir, 4); // first start records the id
      assert.equal(readFileSync(join(dir, 'KVS_RAFT_ID'), 'utf8').split('\n')[0], '4');
      checkRaftIdentity(dir, 4); // restart with the same id: fine
      assert.throws(() => checkRaftIdentity(dir, 6), (e: unknown) => e instanceof ConfigError && /belongs to raft id 4.*started as raft id 6: refusing to start/.test((e as Error).message));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
  it('the raft identity file is written durably (temp file + fsync + rename + directory fsync): a crash mid-write leaves no torn file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kvs-identity-'));
    try {
      // What a crash between writing the temp file and the rename leaves behind: ignored and replaced.
      writeFileSync(join(dir, '.KVS_RAFT_ID.tmp'), '9');
      checkRaftIdentity(dir, 4);
      assert.deepEqual(readdirSync(dir), ['KVS_RAFT_ID']);
      assert.match(readFileSync(join(dir, 'KVS_RAFT_ID'), 'utf8'), /^4\nincarnation [0-9a-f]{32}\n$/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
