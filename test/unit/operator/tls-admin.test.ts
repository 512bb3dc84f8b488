// The operator's node admin per cluster (runtime/admin.ts ClusterNodeAdmins): plaintext for clusters
// without spec.tls; mutual TLS with the operator's admin certificate for the others, the node verified
// against the client Service's DNS name although it is dialed by IP. Against an in-process TLS server
// with the real authorizer and a stand-in Admin service.
import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import { ClusterNodeAdmins, NodeAdminError } from '../../../operator/src/runtime/admin.js';
import { ReloadingTls } from '../../../node/src/common/tls.js';
import { silentLogger } from '../../../node/src/common/logger.js';
import { tlsServerSecurity } from '../../../node/src/server/authz.js';
import { adminServiceDefinition } from '../../../node/src/raftstore/services.js';
import { startAdminServer } from '../../../node/src/raftstore/services.js';
import { makeTestPki, type Issued, type TestPki } from '../../helpers/certs.js';

describe('operator: node admin per cluster (spec.tls)', function () {
  this.timeout(20_000);
  let pki: TestPki;
  let nodeCert: Issued;
  let server: grpc.Server;
  let address: string;
  let serverTls: ReloadingTls;
  const cluster = (tls: boolean) => ({ metadata: { name: 'demo', namespace: 'db' }, spec: tls ? { tls: { secretName: 'demo-tls' } } : {} });

  before(async () => {
    pki = makeTestPki();
    // What cert-manager would issue for the cluster: the client Service and the pods, no pod IPs.
    nodeCert = pki.certs.issue(pki.ca, 'demo-node', { cn: 'kvs-node', sans: ['DNS:demo.db.svc', 'DNS:*.demo-peers.db.svc'] });
    serverTls = new ReloadingTls({ sources: { ca: pki.ca.crt, cert: nodeCert.crt, key: nodeCert.key }, pollMs: 0 });
    const impl: grpc.UntypedServiceImplementation = {};
    for (const name of Object.keys(adminServiceDefinition())) impl[name] = (_c: unknown, cb: grpc.sendUnaryData<unknown>) => cb(null, { raftId: 1, role: 'Leader', members: [] });
    ({ server, address } = await startAdminServer('127.0.0.1:0', impl, tlsServerSecurity(serverTls, { admin: ['kvs-admin'], peer: ['kvs-node'] }, silentLogger())));
  });
  after(() => {
    server?.forceShutdown();
    serverTls?.close();
    pki?.certs.remove();
  });

  it('TLS clusters: the admin certificate reaches the node by IP, verified against <name>.<namespace>.svc', async () => {
    const admins = new ClusterNodeAdmins({ logger: silentLogger(), clientTls: new ReloadingTls({ sources: { ca: pki.ca.crt, cert: pki.admin.crt, key: pki.admin.key }, pollMs: 0 }) });
    const a = admins.forCluster(cluster(true))!;
    assert.equal(admins.forCluster(cluster(true)), a, 'one admin (channel pool) per cluster name');
    const r = await a.status(address);
    assert.equal(r.raftId, 1);
    assert.equal(r.role, 'Leader');
    // Plaintext clusters get the plaintext admin, which cannot talk to this TLS node.
    const plain = admins.forCluster(cluster(false))!;
    assert.notEqual(plain, a);
    await assert.rejects(plain.status(address), (e: unknown) => e instanceof NodeAdminError && e.code === 'Unavailable');
    // Another name than the certificate's: the operator refuses the node.
    const other = admins.forCluster({ metadata: { name: 'other', namespace: 'db' }, spec: { tls: { secretName: 'x' } } })!;
    await assert.rejects(other.status(address), (e: unknown) => e instanceof NodeAdminError && /other\.db\.svc|altnames|Hostname/i.test(e.message));
    admins.close();
  });

  it('a data client certificate as the operator\'s: PERMISSION_DENIED surfaces as a failed call', async () => {
    const admins = new ClusterNodeAdmins({ logger: silentLogger(), clientTls: new ReloadingTls({ sources: { ca: pki.ca.crt, cert: pki.client.crt, key: pki.client.key }, pollMs: 0 }) });
    await assert.rejects(admins.forCluster(cluster(true))!.status(address), (e: unknown) => e instanceof NodeAdminError && e.code === 'Failed' && /PERMISSION_DENIED|not an allowed admin identity/.test(e.message));
    admins.close();
  });

  it('transition (spec.tls.transition): reaches a TLS-only node by TLS and a plaintext-only node by plaintext', async () => {
    const impl: grpc.UntypedServiceImplementation = {};
    for (const name of Object.keys(adminServiceDefinition())) impl[name] = (_c: unknown, cb: grpc.sendUnaryData<unknown>) => cb(null, { raftId: 2, role: 'Follower', members: [] });
    const plainServer = await startAdminServer('127.0.0.1:0', impl);
    const admins = new ClusterNodeAdmins({ logger: silentLogger(), clientTls: new ReloadingTls({ sources: { ca: pki.ca.crt, cert: pki.admin.crt, key: pki.admin.key }, pollMs: 0 }) });
    try {
      const t = admins.forCluster({ metadata: { name: 'demo', namespace: 'db' }, spec: { tls: { secretName: 'demo-tls', transition: true } } })!;
      assert.equal((await t.status(address)).raftId, 1, 'the TLS-only node');
      assert.equal((await t.status(plainServer.address)).raftId, 2, 'the plaintext-only node');
      // Without transition the plaintext node is out of reach: the fallback is what makes the roll work.
      await assert.rejects(admins.forCluster(cluster(true))!.status(plainServer.address), (e: unknown) => e instanceof NodeAdminError && e.code === 'Unavailable');
    } finally {
      admins.close();
      plainServer.server.forceShutdown();
    }
  });

  it('the operator turning TLS on or off by itself: the pods\' modes pick TLS or plaintext per node', async () => {
    const impl: grpc.UntypedServiceImplementation = {};
    for (const name of Object.keys(adminServiceDefinition())) impl[name] = (_c: unknown, cb: grpc.sendUnaryData<unknown>) => cb(null, { raftId: 2, role: 'Follower', members: [] });
    const plainServer = await startAdminServer('127.0.0.1:0', impl);
    const admins = new ClusterNodeAdmins({ logger: silentLogger(), clientTls: new ReloadingTls({ sources: { ca: pki.ca.crt, cert: pki.admin.crt, key: pki.admin.key }, pollMs: 0 }) });
    try {
      // Turning on: spec.tls without transition, one pod still plaintext: both nodes are reached.
      const on = admins.forCluster(cluster(true), ['plain', 'transition'])!;
      assert.equal((await on.status(address)).raftId, 1, 'the TLS node');
      assert.equal((await on.status(plainServer.address)).raftId, 2, 'the plaintext-only node');
      // Every pod offers TLS: TLS only (no plaintext fallback that a downgrade could use).
      const tlsOnly = admins.forCluster(cluster(true), ['transition', 'tls'])!;
      await assert.rejects(tlsOnly.status(plainServer.address), (e: unknown) => e instanceof NodeAdminError && e.code === 'Unavailable');
      // Turning off: spec.tls removed while the pods still run TLS: the nodes are still reached over TLS.
      const off = admins.forCluster(cluster(false), ['tls', 'tls'])!;
      assert.equal((await off.status(address)).raftId, 1);
      // Negative control: a plaintext cluster whose pods are all plaintext gets the plaintext admin only.
      await assert.rejects(admins.forCluster(cluster(false), ['plain'])!.status(address), (e: unknown) => e instanceof NodeAdminError && e.code === 'Unavailable');
    } finally {
      admins.close();
      plainServer.server.forceShutdown();
    }
  });

  it('a TLS cluster without an operator certificate is not observed (and says so once)', () => {
    const warnings: string[] = [];
    const logger = silentLogger();
    logger.warn = ((m: string) => {
      warnings.push(m);
      return logger;
    }) as typeof logger.warn;
    const admins = new ClusterNodeAdmins({ logger });
    assert.equal(admins.forCluster(cluster(true)), undefined);
    assert.equal(admins.forCluster(cluster(true)), undefined);
    assert.equal(warnings.length, 1);
    assert.match(warnings[0]!, /spec.tls \(or nodes running TLS\) but the operator has no client certificate/);
    assert.ok(admins.forCluster(cluster(false)));
    admins.close();
  });
});
