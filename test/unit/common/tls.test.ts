// common/tls.ts: validation of TLS files (clear errors naming the file), reloading on change (a bad
// rotation keeps the previous material), identities, and an in-process gRPC server with the authorizer
// (server/authz.ts): refusals with reasons, PERMISSION_DENIED by identity, the served certificate
// following a rotation. Certificates are made with openssl (test/helpers/certs.ts).
import assert from 'node:assert/strict';
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { Writable } from 'node:stream';
import winston from 'winston';
import { X509Certificate } from 'node:crypto';
import { connect as tlsConnect, type PeerCertificate } from 'node:tls';
import * as grpc from '@grpc/grpc-js';
import { ReloadingTls, TlsConfigError, identityMatches, loadTlsMaterial, peerIdentities } from '../../../node/src/common/tls.js';
import { silentLogger, type Logger } from '../../../node/src/common/logger.js';
import { authorize, tlsServerSecurity } from '../../../node/src/server/authz.js';
import { startKvsNode, type KvsNode } from '../../../node/src/server/node-server.js';
import { adminServiceDefinition } from '../../../node/src/raftstore/services.js';
import { KvClient, KvPermissionDeniedError, KvUnauthenticatedError, AdminClient } from '../../../node/src/client/index.js';
import { FakeStore } from '../../helpers/fake-store.js';
import { makeTestPki, type TestPki } from '../../helpers/certs.js';

/** A logger that keeps its lines (parsed JSON) for assertions. */
function capturingLogger(): { logger: Logger; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      cb();
    },
  });
  const logger = winston.createLogger({ level: 'debug', format: winston.format.json(), transports: [new winston.transports.Stream({ stream })] });
  return { logger, lines };
}

describe('common/tls', function () {
  this.timeout(20_000);
  let pki: TestPki;
  before(() => {
    pki = makeTestPki();
  });
  after(() => pki.certs.remove());

  describe('loadTlsMaterial: every bad input is a TlsConfigError naming the file and the reason', () => {
    const labels = { ca: '--trusted-ca-file', cert: '--cert-file', key: '--key-file' };
    const bad = (src: Parameters<typeof loadTlsMaterial>[0], re: RegExp, opts: Parameters<typeof loadTlsMaterial>[1] = { requireTrustedCert: true }) =>
      assert.throws(() => loadTlsMaterial({ labels, ...src }, opts), (e: unknown) => e instanceof TlsConfigError && e.code === 'TLS_CONFIG' && re.test(e.message), String(re));

    it('accepts a valid node set and describes it', () => {
      const m = loadTlsMaterial({ ca: pki.ca.crt, cert: pki.node.crt, key: pki.node.key }, { requireTrustedCert: true });
      assert.deepEqual(m.leaf?.identities, ['kvs-node', 'localhost']);
      assert.equal(m.caCerts.length, 1);
      assert.equal(m.leaf?.fingerprint256, new X509Certificate(m.cert!).fingerprint256);
    });
    it('unreadable, not PEM, half a pair, a key of another certificate', () => {
      bad({ ca: '/nonexistent/ca.crt', cert: pki.node.crt, key: pki.node.key }, /^--trusted-ca-file: cannot read \/nonexistent\/ca.crt: ENOENT/);
      bad({ ca: Buffer.from('hello'), cert: pki.node.crt, key: pki.node.key }, /^--trusted-ca-file: no PEM certificate found/);
      bad({ ca: pki.ca.crt, cert: pki.node.crt }, /--cert-file and --key-file go together/);
      bad({ ca: pki.ca.crt, cert: pki.node.crt, key: Buffer.from('not a key') }, /^--key-file: not a usable PEM private key/);
      bad({ ca: pki.ca.crt, cert: pki.node.crt, key: pki.client.key }, /^--key-file: the private key does not belong to the certificate of --cert-file \(CN=kvs-node\)/);
    });
    it('expired, and signed by another CA (for a node)', () => {
      bad({ ca: pki.ca.crt, cert: pki.expired.crt, key: pki.expired.key }, /^--cert-file: certificate CN=kvs-admin expired at \d{4}-\d\d-\d\dT/);
      bad({ ca: pki.ca.crt, cert: pki.foreign.crt, key: pki.foreign.key }, /^--cert-file: certificate CN=kvs-admin \(issuer CN=other-ca\) is not signed by a CA of --trusted-ca-file \(CN=ca\)/);
      // A client's certificate need not be signed by the CA it verifies the nodes with.
      assert.ok(loadTlsMaterial({ ca: pki.ca.crt, cert: pki.foreign.crt, key: pki.foreign.key }).leaf);
    });
  });

  it('identities: CN and DNS/URI SANs; exact or *.suffix matches', () => {
    const cert = { subject: { CN: 'kvs-0' }, subjectaltname: 'DNS:kvs-0.kvs.ns.svc, IP Address:10.0.0.1, URI:spiffe://c/kvs' } as unknown as PeerCertificate;
    const ids = peerIdentities(cert);
    assert.deepEqual(ids, ['kvs-0', 'kvs-0.kvs.ns.svc', 'spiffe://c/kvs']);
    assert.ok(identityMatches(ids, ['kvs-0']));
    assert.ok(identityMatches(ids, ['*.kvs.ns.svc']));
    assert.ok(!identityMatches(ids, ['*.other.svc', 'kvs-1', '10.0.0.1']));
    assert.ok(!identityMatches(['kvs.ns.svc'], ['*.kvs.ns.svc']), 'the wildcard needs at least one label');
    assert.deepEqual(peerIdentities(undefined), []);
  });

  it('authorize: unverified → UNAUTHENTICATED with the reason; Admin/Raft by identity → PERMISSION_DENIED; Kv for any verified client', () => {
    const policy = { admin: ['kvs-admin'], peer: ['kvs-node'] };
    const ctx = (cn: string) => ({ transportSecurityType: 'ssl', sslPeerCertificate: { subject: { CN: cn }, subjectaltname: '' } as unknown as PeerCertificate });
    const none = authorize('/kvs.v1.Kv/Get', {}, policy, 'client certificate has expired');
    assert.equal(none?.code, 'UNAUTHENTICATED');
    assert.match(none!.message, /TLS client certificate refused: client certificate has expired/);
    assert.equal(authorize('/kvs.v1.Kv/Get', ctx('kvs-client'), policy), undefined);
    assert.equal(authorize('/kvs.v1.Admin/RemoveMember', ctx('kvs-admin'), policy), undefined);
    assert.equal(authorize('/kvs.v1.Raft/Stream', ctx('kvs-node'), policy), undefined);
    const denied = authorize('/kvs.v1.Admin/RemoveMember', ctx('kvs-client'), policy);
    assert.equal(denied?.code, 'PERMISSION_DENIED');
    assert.match(denied!.message, /certificate \[kvs-client\] is not an allowed admin identity \(allowed: kvs-admin\)/);
    assert.equal(authorize('/kvs.v1.Raft/Snapshot', ctx('kvs-admin'), policy)?.code, 'PERMISSION_DENIED');
    assert.equal(authorize('/kvs.v1.Admin/Status', ctx('kvs-node'), policy)?.code, 'PERMISSION_DENIED');
  });

  describe('ReloadingTls', () => {
    it('reloads changed files; a broken change is logged and the previous material stays; the next valid one takes effect', () => {
      const dir = pki.certs;
      const crt = dir.path('reload.crt');
      const key = dir.path('reload.key');
      copyFileSync(pki.node.crt, crt);
      copyFileSync(pki.node.key, key);
      const { logger, lines } = capturingLogger();
      const r = new ReloadingTls({ sources: { ca: pki.ca.crt, cert: crt, key }, requireTrustedCert: true, pollMs: 0, logger, role: 'test' });
      const first = r.current.leaf!.fingerprint256;
      let notified = 0;
      r.onReload(() => notified++);
      assert.equal(r.check(), false, 'nothing changed');
      const next = dir.issue(pki.ca, 'reload-next', { cn: 'kvs-node', sans: ['IP:127.0.0.1'] });
      // Half a rotation: the new key next to the old certificate.
      copyFileSync(next.key, key);
      assert.equal(r.check(), false);
      assert.equal(r.current.leaf!.fingerprint256, first);
      assert.ok(lines.some((l) => l.message === 'tls files changed but cannot be used: keeping the previous certificate' && /does not belong/.test(String(l.err))), JSON.stringify(lines));
      assert.equal(r.check(), false, 'the same broken files are not retried (nor logged) again');
      copyFileSync(next.crt, crt);
      assert.equal(r.check(), true);
      assert.equal(r.current.leaf!.fingerprint256, new X509Certificate(readFileSync(next.crt)).fingerprint256);
      assert.equal(notified, 1);
      assert.equal(r.reloads, 1);
      // Unreadable files: refused, kept.
      writeFileSync(crt, 'garbage');
      assert.equal(r.check(), false);
      assert.notEqual(r.current.leaf!.fingerprint256, first);
      r.close();
    });
  });

  describe('gRPC server with mutual TLS and the authorizer (in process)', () => {
    let node: KvsNode;
    let ctlLines: Array<Record<string, unknown>>;
    let serverTls: ReloadingTls;
    const crt = () => pki.certs.path('srv.crt');
    const key = () => pki.certs.path('srv.key');
    before(async () => {
      copyFileSync(pki.node.crt, crt());
      copyFileSync(pki.node.key, key());
      const { logger, lines } = capturingLogger();
      ctlLines = lines;
      serverTls = new ReloadingTls({ sources: { ca: pki.ca.crt, cert: crt(), key: key() }, requireTrustedCert: true, pollMs: 50, logger });
      const security = tlsServerSecurity(serverTls, { admin: ['kvs-admin'], peer: ['kvs-node'] }, logger);
      // A stand-in Admin service: authorization is decided by the method path, before any handler.
      const adminImpl: grpc.UntypedServiceImplementation = {};
      for (const name of Object.keys(adminServiceDefinition())) adminImpl[name] = (_call: unknown, cb: grpc.sendUnaryData<unknown>) => cb(null, {});
      node = await startKvsNode({
        store: new FakeStore() as never,
        listen: '127.0.0.1:0',
        nodeId: 'tls-test',
        logger: silentLogger(),
        security,
        extraServices: [{ definition: adminServiceDefinition(), implementation: adminImpl }],
      });
    });
    after(async () => {
      await node?.shutdown(1000);
      serverTls?.close();
    });
    const client = (cert: { crt: string; key: string } | undefined) => {
      return new KvClient({ endpoints: node.grpcAddress, timeoutMs: 3000, maxAttempts: 2, tls: { ca: pki.ca.crt, ...(cert ? { cert: cert.crt, key: cert.key } : {}) } });
    };

    it('a data client works; without a certificate the typed error says why, at once', async () => {
      const c = client(pki.client);
      await c.put('k', 'v');
      assert.equal((await c.get('k')).value?.toString(), 'v');
      c.close();
      const anon = client(undefined);
      const t0 = Date.now();
      await assert.rejects(anon.get('k'), (e: unknown) => e instanceof KvUnauthenticatedError && /no client certificate presented/.test(e.message) && !e.retryable);
      assert.ok(Date.now() - t0 < 2000, 'not retried until the deadline');
      anon.close();
      assert.ok(ctlLines.some((l) => l.message === 'tls client refused: every call on this connection is answered UNAUTHENTICATED' && l.reason === 'no client certificate presented'), JSON.stringify(ctlLines.slice(-5)));
    });

    it('Admin: the admin identity passes, a data client gets PERMISSION_DENIED on every method', async () => {
      const ok = new AdminClient([node.grpcAddress], { tls: { ca: pki.ca.crt, cert: pki.admin.crt, key: pki.admin.key } });
      await ok.status();
      ok.close();
      const data = new AdminClient([node.grpcAddress], { tls: { ca: pki.ca.crt, cert: pki.client.crt, key: pki.client.key } });
      for (const call of [() => data.status(), () => data.addLearner(4, '127.0.0.1:1'), () => data.promote(4), () => data.removeMember(2, true), () => data.transferLeader(2), () => data.snapshot(), () => data.compact(), () => data.settings()]) {
        await assert.rejects(call(), (e: unknown) => e instanceof KvPermissionDeniedError && /not an allowed admin identity/.test(e.message));
      }
      data.close();
    });

    it('the client library refuses unusable files before connecting', () => {
      assert.throws(() => client(pki.expired), (e: unknown) => e instanceof TlsConfigError && /cert: certificate CN=kvs-admin expired/.test(e.message));
    });

    it('the served certificate follows a rotation of the files; established clients keep working', async () => {
      const fp = () =>
        new Promise<string>((resolve, reject) => {
          const s = tlsConnect({ host: '127.0.0.1', port: node.grpcPort, ca: readFileSync(pki.ca.crt), cert: readFileSync(pki.client.crt), key: readFileSync(pki.client.key), ALPNProtocols: ['h2'], checkServerIdentity: () => undefined }, () => {
            resolve(s.getPeerCertificate().fingerprint256);
            s.destroy();
          });
          s.on('error', reject);
        });
      const c = client(pki.client);
      await c.put('before', '1');
      assert.equal(await fp(), new X509Certificate(readFileSync(pki.node.crt)).fingerprint256);
      const next = pki.certs.issue(pki.ca, 'srv-next', { cn: 'kvs-node', sans: ['IP:127.0.0.1'] });
      copyFileSync(next.key, key());
      copyFileSync(next.crt, crt());
      const want = new X509Certificate(readFileSync(next.crt)).fingerprint256;
      const deadline = Date.now() + 5000;
      while ((await fp()) !== want) {
        assert.ok(Date.now() < deadline, 'rotation not picked up');
        await new Promise((r) => setTimeout(r, 50));
      }
      await c.put('after', '2');
      c.close();
    });
  });
});

