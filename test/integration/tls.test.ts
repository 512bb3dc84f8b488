// Mutual TLS on real processes: a 3-node cluster whose Kv, Raft and Admin services listen on three
// separate ports (--raft-listen, --admin-listen), all with --cert-file/--key-file/--trusted-ca-file.
// Certificates are made with openssl in a temp dir (test/helpers/certs.ts).
//  * the cluster replicates writes over mTLS (Raft channels use the node certificate as client cert);
//  * on every port, a client without a certificate, with another CA's, or an expired one is refused
//    with UNAUTHENTICATED naming the reason; a plaintext client cannot connect; a valid certificate of
//    the right identity is accepted (the control that the refusals are about the certificate);
//  * a data client certificate gets PERMISSION_DENIED on every Admin method, and membership is unchanged;
//  * rotating a node's certificate files is picked up without a restart (the served certificate
//    changes on the Kv and Raft ports) while a writing client sees no error;
//  * a node refuses to start on an expired certificate or a mismatched key, with a clear message.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { copyFileSync, readFileSync, renameSync } from 'node:fs';
import { X509Certificate } from 'node:crypto';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import * as grpc from '@grpc/grpc-js';
import { AdminClient, KvClient, KvPermissionDeniedError } from '../../node/src/client/index.js';
import { adminServiceDefinition, raftServiceDefinition } from '../../node/src/raftstore/services.js';
import { loadKvProto } from '../../node/src/common/proto.js';
import { CertDir, makeTestPki, type Issued, type TestPki } from '../helpers/certs.js';
import { NODE_MAIN, NodeProcess, ProcessCluster, collectLogsOnFailure, freePort, sleep, until } from '../helpers/cluster-process.js';

const KVSCTL = fileURLToPath(new URL('../../node/src/cli/kvsctl.js', import.meta.url));
const run = promisify(execFile);

type Port = 'kv' | 'raft' | 'admin';

interface Outcome {
  code: number;
  details: string;
}

/** Calls one method of the service on `port` of `address` with raw grpc-js credentials; resolves with its status. */
function probe(address: string, creds: grpc.ChannelCredentials, port: Port): Promise<Outcome> {
  const client = new grpc.Client(address, creds);
  const deadline = Date.now() + 5000;
  return new Promise<Outcome>((resolve) => {
    const done = (err: grpc.ServiceError | null) => {
      client.close();
      resolve(err ? { code: err.code, details: err.details } : { code: grpc.status.OK, details: '' });
    };
    if (port === 'kv') {
      const m = loadKvProto().kvs.v1.Kv.service.Status!;
      client.makeUnaryRequest(m.path, m.requestSerialize, m.responseDeserialize, {}, { deadline }, done);
    } else if (port === 'admin') {
      const m = adminServiceDefinition().Status!;
      client.makeUnaryRequest(m.path, m.requestSerialize, m.responseDeserialize, {}, { deadline }, done);
    } else {
      // Snapshot without a message: an authorized caller gets {accepted: false}; nothing reaches raft.
      const m = raftServiceDefinition().Snapshot!;
      const call = client.makeClientStreamRequest(m.path, m.requestSerialize, m.responseDeserialize, { deadline }, done);
      call.end();
    }
  });
}

describe('mutual TLS: 3-node cluster with Kv, Raft and Admin on separate ports (multi-process)', function () {
  this.timeout(180_000);
  let pki: TestPki;
  let cluster: ProcessCluster;
  const ports: Array<Record<Port, string>> = [];
  const clients: Array<{ close(): void }> = [];
  const read = (p: string) => readFileSync(p);
  const ssl = (cert?: Issued, ca = pki.ca.crt) => grpc.credentials.createSsl(read(ca), cert ? read(cert.key) : null, cert ? read(cert.crt) : null);
  const tlsOf = (cert: Issued) => ({ ca: pki.ca.crt, cert: cert.crt, key: cert.key });
  /** Per-node copies of the node certificate (rotated per node). */
  const nodeFiles = (i: number) => ({ crt: join(pki.certs.dir, `node${i}.crt`), key: join(pki.certs.dir, `node${i}.key`) });

  before(async function () {
    pki = makeTestPki();
    // Node certificate for the cluster's loopback hosts; a node is also a client of its peers.
    const nodeCert = pki.certs.issue(pki.ca, 'cluster-node', { cn: 'kvs-node', sans: ['IP:127.0.0.1', 'IP:127.0.0.10', 'IP:127.0.0.11', 'IP:127.0.0.12'] });
    // Refused credentials named so that, were they valid, they would be allowed everywhere: the refusal
    // can only be about the CA or the expiry.
    pki.foreign = pki.certs.issue(pki.otherCa, 'foreign-all', { cn: 'kvs-admin', sans: ['DNS:kvs-node'] });
    pki.expired = pki.certs.issue(pki.ca, 'expired-all', { cn: 'kvs-admin', sans: ['DNS:kvs-node'], days: -1 });
    const hosts = [0, 1, 2].map((i) => `127.0.0.${10 + i}`);
    for (const [i, h] of hosts.entries()) {
      copyFileSync(nodeCert.crt, nodeFiles(i).crt);
      copyFileSync(nodeCert.key, nodeFiles(i).key);
      ports.push({ kv: '', raft: `${h}:${await freePort(h)}`, admin: `${h}:${await freePort(h)}` });
    }
    const peers = ports.map((p, i) => `${i + 1}=${p.raft}`).join(',');
    cluster = await ProcessCluster.start({
      size: 3,
      extraArgs: (self, all) => {
        const i = all.findIndex((s) => s.nodeId === self.nodeId);
        return [
          '--raft-id', String(i + 1), '--peers', peers, '--raft-listen', ports[i]!.raft, '--admin-listen', ports[i]!.admin,
          '--cert-file', nodeFiles(i).crt, '--key-file', nodeFiles(i).key, '--trusted-ca-file', pki.ca.crt,
          '--tls-reload-interval', '200ms',
        ];
      },
    });
    cluster.nodes.forEach((n, i) => (ports[i]!.kv = n.address));
  });

  let extra: NodeProcess | undefined;
  afterEach(function () {
    collectLogsOnFailure(this, [...(cluster?.nodes ?? []), extra]);
  });

  after(async function () {
    for (const c of clients) c.close();
    await extra?.cleanup();
    await cluster?.cleanup();
    pki?.certs.remove();
  });

  const admin = () => {
    const a = new AdminClient(ports.map((p) => p.admin), { tls: tlsOf(pki.admin), followAnyLeaderHint: false });
    clients.push(a);
    return a;
  };
  const kv = (cert: Issued = pki.client, endpoints = cluster.addresses) => {
    const c = new KvClient({ endpoints, timeoutMs: 15_000, tls: tlsOf(cert) });
    clients.push(c);
    return c;
  };

  async function leaderId(): Promise<number> {
    const a = admin();
    return until('an agreed leader', async () => {
      const sts = await a.statusAll();
      if (sts.some((s) => s === undefined)) return undefined;
      const ls = new Set(sts.map((s) => Number(s!.leaderId)));
      return ls.size === 1 && [...ls][0]! > 0 ? [...ls][0] : undefined;
    });
  }

  it('replicates writes over mTLS: written through any node, readable on every node', async function () {
    const leader = await leaderId();
    for (const [i, p] of ports.entries()) {
      await kv(pki.client, [p.kv]).put(`tls/${i}`, `v${i}`);
      for (const q of ports) assert.equal((await kv(pki.client, [q.kv]).get(`tls/${i}`)).value?.toString(), `v${i}`);
    }
    // The leader replicates to both followers over the TLS Raft channels.
    const st = await admin().status(ports[leader - 1]!.admin);
    assert.equal(st.members.length, 3);
    assert.ok(st.members.every((m) => m.state === 'Replicate' && Number(m.match) >= Number(st.commit) - 1), JSON.stringify(st.members));
  });

  it('refuses a client without a certificate, with another CA\'s or an expired one on every port, with the reason', async function () {
    const bad: Array<[string, grpc.ChannelCredentials, RegExp]> = [
      ['no certificate', ssl(), /no client certificate presented/],
      ['another CA', ssl(pki.foreign), /not signed by a trusted CA/],
      ['expired', ssl(pki.expired), /client certificate has expired/],
    ];
    const p = ports[1]!;
    for (const port of ['kv', 'raft', 'admin'] as const) {
      for (const [what, creds, reason] of bad) {
        const o = await probe(p[port], creds, port);
        assert.equal(o.code, grpc.status.UNAUTHENTICATED, `${port} port, ${what}: ${o.code} ${o.details}`);
        assert.match(o.details, reason, `${port} port, ${what}`);
      }
      // A plaintext client never gets a connection to a TLS port.
      const plain = await probe(p[port], grpc.credentials.createInsecure(), port);
      assert.equal(plain.code, grpc.status.UNAVAILABLE, `${port} port, plaintext: ${plain.details}`);
      // A client that does not trust the node's CA refuses the node.
      const distrust = await probe(p[port], ssl(pki.admin, pki.otherCa.crt), port);
      assert.equal(distrust.code, grpc.status.UNAVAILABLE);
      assert.match(distrust.details, /certificate/i, `${port} port, client distrusting the node: ${distrust.details}`);
    }
    // Controls: the right certificate passes on each port.
    assert.equal((await probe(p.kv, ssl(pki.client), 'kv')).code, grpc.status.OK);
    assert.equal((await probe(p.admin, ssl(pki.admin), 'admin')).code, grpc.status.OK);
    assert.equal((await probe(p.raft, ssl({ crt: nodeFiles(1).crt, key: nodeFiles(1).key }), 'raft')).code, grpc.status.OK);
    // The server says why in its log, too.
    const log = readFileSync(cluster.node(1).logFile, 'utf8');
    assert.match(log, /"message":"tls client refused[^"]*".*"reason":"client certificate has expired/);
    assert.match(log, /not a TLS client \(plaintext connection to a TLS port\?\)/);
  });

  it('a data client certificate gets PERMISSION_DENIED on every Admin method (and on Raft); membership is unchanged', async function () {
    const before = await admin().status(ports[0]!.admin);
    const def = adminServiceDefinition();
    const methods = Object.keys(def);
    assert.ok(methods.length >= 8, methods.join(','));
    const creds = ssl(pki.client);
    for (const p of ports) {
      const client = new grpc.Client(p.admin, creds);
      for (const name of methods) {
        const m = def[name]!;
        const req = name === 'RemoveMember' ? { raftId: 3, force: true } : name === 'TransferLeader' ? { toRaftId: 2 } : {};
        const o = await new Promise<Outcome>((resolve) =>
          client.makeUnaryRequest(m.path, m.requestSerialize, m.responseDeserialize, req, { deadline: Date.now() + 5000 }, (err) => resolve(err ? { code: err.code, details: err.details } : { code: 0, details: '' })),
        );
        assert.equal(o.code, grpc.status.PERMISSION_DENIED, `${p.admin} ${name}: ${o.code} ${o.details}`);
        assert.match(o.details, /kvs-client.*not an allowed admin identity/);
      }
      client.close();
      // Nor may a data client talk Raft.
      const raft = await probe(p.raft, creds, 'raft');
      assert.equal(raft.code, grpc.status.PERMISSION_DENIED, raft.details);
    }
    // The typed client error, through the client library and kvsctl.
    const dataAdmin = new AdminClient(ports.map((p) => p.admin), { tls: tlsOf(pki.client), followAnyLeaderHint: false });
    clients.push(dataAdmin);
    await assert.rejects(dataAdmin.removeMember(3, true), (e: unknown) => e instanceof KvPermissionDeniedError && e.retryable === false);
    const ctl = await run(process.execPath, [KVSCTL, '--admin-endpoints', ports.map((p) => p.admin).join(','), '--cacert', pki.ca.crt, '--cert', pki.client.crt, '--key', pki.client.key, 'member', 'remove', '3', '--force']).then(
      () => ({ code: 0, stderr: '' }),
      (e: { code: number; stderr: string }) => e,
    );
    assert.equal(ctl.code, 1);
    assert.match(ctl.stderr, /PERMISSION_DENIED/);
    // Control: the admin identity may; and nothing changed.
    const after = await admin().status(ports[0]!.admin);
    assert.deepEqual(after.members.map((m) => Number(m.raftId)), before.members.map((m) => Number(m.raftId)));
    const ok = await run(process.execPath, [KVSCTL, '--endpoints', cluster.addresses.join(','), '--admin-endpoints', ports.map((p) => p.admin).join(','), '--cacert', pki.ca.crt, '--cert', pki.admin.crt, '--key', pki.admin.key, 'member', 'list']);
    assert.match(ok.stdout, /leader=\d/);
  });

  it('picks up rotated certificate files without a restart while a writing client sees no error', async function () {
    const fingerprint = (address: string) =>
      new Promise<string>((resolve, reject) => {
        const [host, port] = [address.slice(0, address.lastIndexOf(':')), Number(address.slice(address.lastIndexOf(':') + 1))];
        const s = tlsConnect({ host, port, ca: read(pki.ca.crt), cert: read(pki.admin.crt), key: read(pki.admin.key), ALPNProtocols: ['h2'], checkServerIdentity: () => undefined }, () => {
          const fp = s.getPeerCertificate().fingerprint256;
          s.destroy();
          resolve(fp);
        });
        s.on('error', reject);
      });
    const target = 0;
    const p = ports[target]!;
    const old = await fingerprint(p.kv);
    assert.equal(old, new X509Certificate(read(nodeFiles(target).crt)).fingerprint256);

    // A client writing through every node for the whole rotation; any error fails the test.
    const writer = kv(pki.client);
    let stop = false;
    let written = 0;
    const errors: string[] = [];
    const loop = (async () => {
      while (!stop) {
        try {
          await writer.put(`rot/${written}`, `v${written}`);
          written++;
        } catch (e) {
          errors.push((e as Error).message);
        }
      }
    })();
    await sleep(300);

    // Rotate: a new certificate and key from the same CA, renamed into place (as a Secret update lands).
    const certs = new CertDir(pki.certs.dir);
    const next = certs.issue(pki.ca, 'rotated-node', { cn: 'kvs-node', sans: ['IP:127.0.0.1', 'IP:127.0.0.10', 'IP:127.0.0.11', 'IP:127.0.0.12'] });
    copyFileSync(next.key, `${nodeFiles(target).key}.tmp`);
    copyFileSync(next.crt, `${nodeFiles(target).crt}.tmp`);
    renameSync(`${nodeFiles(target).key}.tmp`, nodeFiles(target).key);
    renameSync(`${nodeFiles(target).crt}.tmp`, nodeFiles(target).crt);
    const want = new X509Certificate(read(next.crt)).fingerprint256;
    assert.notEqual(want, old);
    const pid = cluster.node(target).pid;
    await until('the Kv port serving the rotated certificate', async () => ((await fingerprint(p.kv)) === want ? true : undefined), 10_000, 100);
    await until('the Raft port serving the rotated certificate', async () => ((await fingerprint(p.raft)) === want ? true : undefined), 10_000, 100);
    await until('the Admin port serving the rotated certificate', async () => ((await fingerprint(p.admin)) === want ? true : undefined), 10_000, 100);
    await sleep(500);
    stop = true;
    await loop;
    assert.equal(cluster.node(target).pid, pid, 'no restart');
    assert.deepEqual(errors, [], 'the writing client saw errors during the rotation');
    assert.ok(written > 10, `only ${written} writes`);
    // Every acknowledged write is there; the cluster still has its quorum (a write goes through).
    const reader = kv(pki.admin);
    for (let i = 0; i < written; i += Math.max(1, Math.floor(written / 20))) assert.equal((await reader.get(`rot/${i}`)).value?.toString(), `v${i}`);
    await reader.put('rot/after', 'x');
    assert.match(readFileSync(cluster.node(target).logFile, 'utf8'), /"message":"tls certificate reloaded"/);
    const metrics = await cluster.node(target).metrics();
    assert.match(metrics, /^kvs_tls_certificate_reloads_total(\{[^}]*\})? 1$/m);
    const expiry = Number(/^kvs_tls_certificate_expiry_timestamp_seconds(?:\{[^}]*\})? (\d+)$/m.exec(metrics)?.[1]);
    assert.equal(expiry, Date.parse(new X509Certificate(read(next.crt)).validTo) / 1000);

    // A broken rotation (key of another certificate) is refused and logged; the valid certificate stays.
    copyFileSync(pki.client.key, nodeFiles(target).key);
    await until('the refused rotation logged', async () => (/tls files changed but cannot be used/.test(readFileSync(cluster.node(target).logFile, 'utf8')) ? true : undefined), 10_000, 100);
    assert.equal(await fingerprint(p.kv), want);
    await reader.put('rot/after-bad', 'y');
    copyFileSync(next.key, nodeFiles(target).key);
  });

  it('a node whose certificate is not a peer identity is refused by the group, and says so in its log', async function () {
    // A data client's certificate (signed by the right CA, so the node starts) used as a node certificate.
    const host = '127.0.0.13';
    const raft = `${host}:${await freePort(host)}`;
    const peers = [...ports.map((p, i) => `${i + 1}=${p.raft}`), `4=${raft}`].join(',');
    const intruder = new NodeProcess({
      nodeId: 'n4',
      host,
      extraArgs: ['--raft-id', '4', '--join', '--peers', peers, '--raft-listen', raft, '--cert-file', pki.client.crt, '--key-file', pki.client.key, '--trusted-ca-file', pki.ca.crt],
    });
    extra = intruder;
    await intruder.start();
    await until(
      'the refusal in the joining node\'s log',
      async () => (/"message":"raft connection to peer refused \(TLS\)[^"]*".*PERMISSION_DENIED|"message":"raft connection to peer refused \(TLS\)[^"]*".*not an allowed peer identity/.test(readFileSync(intruder.logFile, 'utf8')) ? true : undefined),
      10_000,
      100,
    );
    // The members logged the refused caller too.
    const refusedHere = (n: NodeProcess) =>
      readFileSync(n.logFile, 'utf8')
        .split('\n')
        .some((l) => l.includes('"message":"call refused"') && l.includes('"method":"/kvs.v1.Raft/Stream"') && l.includes('"code":"PERMISSION_DENIED"'));
    await until('a member logging the refused Raft caller', async () => (cluster.nodes.some(refusedHere) ? true : undefined), 5000, 100);
    await intruder.cleanup();
    extra = undefined;
  });

  it('a node refuses to start on an expired certificate or a key that does not match, naming the file', async function () {
    const start = (cert: string, key: string) =>
      run(process.execPath, [NODE_MAIN, '--listen', '127.0.0.1:0', '--http', 'off', '--memory', '--cert-file', cert, '--key-file', key, '--trusted-ca-file', pki.ca.crt], { timeout: 20_000 }).then(
        () => ({ code: 0, stderr: '' }),
        (e: { code: number; stderr: string }) => e,
      );
    const expired = await start(pki.expired.crt, pki.expired.key);
    assert.equal(expired.code, 2, expired.stderr);
    assert.match(expired.stderr, /--cert-file: certificate CN=kvs-admin expired at \d{4}-/);
    const mismatch = await start(pki.client.crt, pki.admin.key);
    assert.equal(mismatch.code, 2, mismatch.stderr);
    assert.match(mismatch.stderr, /--key-file: the private key does not belong to the certificate/);
    const foreign = await start(pki.foreign.crt, pki.foreign.key);
    assert.equal(foreign.code, 2, foreign.stderr);
    assert.match(foreign.stderr, /--cert-file: .* is not signed by a CA of --trusted-ca-file/);
  });
});

describe('mutual TLS turned on and off in a running 3-node cluster by rolling restarts (--tls-transition), never losing quorum (multi-process)', function () {
  this.timeout(300_000);
  let pki: TestPki;
  let cluster: ProcessCluster;
  /** What the next (re)start of the nodes runs with. */
  let mode: 'plain' | 'transition' | 'tls' = 'plain';
  const closers: Array<{ close(): void }> = [];

  before(async function () {
    pki = makeTestPki();
    const node = pki.certs.issue(pki.ca, 'roll-node', { cn: 'kvs-node', sans: ['IP:127.0.0.1', 'IP:127.0.0.10', 'IP:127.0.0.11', 'IP:127.0.0.12'] });
    cluster = await ProcessCluster.start({
      size: 3,
      extraArgs: (self, all) => [
        '--raft-id', String(all.findIndex((x) => x.nodeId === self.nodeId) + 1),
        '--peers', all.map((x, i) => `${i + 1}=${x.host}:${x.grpcPort}`).join(','),
        ...(mode === 'plain' ? [] : ['--cert-file', node.crt, '--key-file', node.key, '--trusted-ca-file', pki.ca.crt]),
        ...(mode === 'transition' ? ['--tls-transition'] : []),
      ],
    });
  });
  afterEach(function () {
    collectLogsOnFailure(this, cluster?.nodes ?? []);
  });
  after(async () => {
    for (const c of closers) c.close();
    await cluster?.cleanup();
    pki?.certs.remove();
  });

  const tlsOpts = () => ({ tls: { ca: pki.ca.crt, cert: pki.admin.crt, key: pki.admin.key } });
  const admin = (secure: boolean) => {
    const a = new AdminClient(cluster.addresses, secure ? tlsOpts() : {});
    closers.push(a);
    return a;
  };
  /** Every node answers, one leader, both followers replicating: the group has all three voters. */
  async function healthy(secure: boolean): Promise<void> {
    const a = admin(secure);
    await until(
      'three members replicating under one leader',
      async () => {
        const sts = await a.statusAll();
        if (sts.some((x) => x === undefined)) return undefined;
        const leaders = new Set(sts.map((x) => Number(x!.leaderId)));
        if (leaders.size !== 1 || [...leaders][0] === 0) return undefined;
        const l = sts.find((x) => x!.role === 'Leader');
        return l && l.members.length === 3 && l.members.every((m) => m.state === 'Replicate') ? true : undefined;
      },
      30_000,
      100,
    );
  }

  /** Restarts the nodes one at a time (graceful), waiting until the group is whole again after each. */
  async function roll(to: typeof mode, write: () => Promise<void>, secureAfter: (i: number) => boolean): Promise<void> {
    mode = to;
    for (const [i, n] of cluster.nodes.entries()) {
      await n.stop();
      await write(); // two of three voters: the group still commits
      await n.start();
      await healthy(secureAfter(i));
    }
  }

  it('plaintext → transition → mTLS → transition → plaintext with writes throughout; every acknowledged write survives', async function () {
    const acked: string[] = [];
    let seq = 0;
    const writeWith = async (secure: boolean) => {
      const c = new KvClient({ endpoints: cluster.addresses, timeoutMs: 20_000, ...(secure ? tlsOpts() : {}) });
      try {
        for (let i = 0; i < 5; i++) {
          const k = `roll/${seq++}`;
          await c.put(k, k);
          acked.push(k);
        }
      } finally {
        c.close();
      }
    };
    await healthy(false);
    await writeWith(false);
    // Roll 1: TLS on, plaintext still accepted; plaintext and TLS clients both work meanwhile.
    await roll('transition', () => writeWith(false), () => false);
    await writeWith(true);
    await writeWith(false);
    // Roll 2: strict mTLS. Plaintext clients are refused from here on.
    await roll('tls', () => writeWith(true), () => true);
    const refused = new KvClient({ endpoints: cluster.addresses, timeoutMs: 2000 });
    await assert.rejects(refused.put('roll/plain', 'x'));
    refused.close();
    const log = readFileSync(cluster.node(0).logFile, 'utf8');
    assert.match(log, /"tls":true/);
    // And back: transition, then plaintext.
    await roll('transition', () => writeWith(true), () => true);
    await roll('plain', () => writeWith(false), () => false);
    const reader = new KvClient({ endpoints: cluster.addresses, timeoutMs: 20_000 });
    closers.push(reader);
    for (const k of acked) assert.equal((await reader.get(k)).value?.toString(), k, `acknowledged write ${k} lost`);
    assert.ok(acked.length >= 60, `${acked.length} writes`);
  });
});
