// kvsctl end to end: spawns the compiled CLI (next to this compiled test) against an in-process node.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { startTestNode, type TestNode } from '../../helpers/test-node.js';
import { makeTestPki, type TestPki } from '../../helpers/certs.js';
import { ReloadingTls } from '../../../node/src/common/tls.js';
import { tlsServerSecurity } from '../../../node/src/server/authz.js';
import { silentLogger } from '../../../node/src/common/logger.js';

const KVSCTL = fileURLToPath(new URL('../../../node/src/cli/kvsctl.js', import.meta.url));

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function kvsctl(args: string[], opts: { stdin?: string | Buffer; env?: Record<string, string> } = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const env: NodeJS.ProcessEnv = { ...process.env, ...opts.env };
    if (!opts.env?.KVS_ENDPOINTS) delete env.KVS_ENDPOINTS;
    const p = spawn(process.execPath, [KVSCTL, ...args], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    p.on('error', reject);
    p.on('close', (code) => resolve({ code, stdout, stderr }));
    p.stdin.end(opts.stdin ?? '');
  });
}

describe('kvsctl (spawned) against a running node', function () {
  this.timeout(60_000);
  let t: TestNode;
  let ep: string[];
  before(async () => {
    t = await startTestNode();
    ep = ['--endpoints', t.endpoint];
  });
  after(async () => {
    await t.stop();
  });

  it('put / get / missing key / --require', async () => {
    let r = await kvsctl([...ep, 'put', 'greeting', 'hello world']);
    assert.deepEqual([r.code, r.stdout, r.stderr], [0, 'OK\n', '']);
    r = await kvsctl([...ep, 'get', 'greeting']);
    assert.deepEqual([r.code, r.stdout], [0, 'hello world\n']);
    r = await kvsctl([...ep, 'get', 'missing']);
    assert.deepEqual([r.code, r.stdout, r.stderr], [0, '', ''], 'missing key: nothing, exit 0');
    r = await kvsctl([...ep, 'get', '--require', 'missing']);
    assert.equal(r.code, 3);
    assert.equal(r.stderr, 'kvsctl: key not found: "missing"\n');
  });

  it('--json output for get and put, value from stdin, KVS_ENDPOINTS', async () => {
    let r = await kvsctl(['put', 'fromstdin'], { stdin: 'line1\nline2', env: { KVS_ENDPOINTS: t.endpoint } });
    assert.equal(r.code, 0, r.stderr);
    r = await kvsctl(['--json', 'get', 'fromstdin'], { env: { KVS_ENDPOINTS: t.endpoint } });
    assert.equal(r.code, 0, r.stderr);
    const j = JSON.parse(r.stdout) as { key: string; found: boolean; value: string; version: number };
    assert.equal(j.found, true);
    assert.equal(j.value, 'line1\nline2');
    assert.ok(j.version > 0);
    r = await kvsctl([...ep, '--json', 'get', 'nope']);
    assert.deepEqual(JSON.parse(r.stdout).found, false);
    r = await kvsctl([...ep, '--json', 'put', 'j', 'v']);
    assert.equal(JSON.parse(r.stdout).succeeded, true);
  });

  it('compare-and-set failures exit 3', async () => {
    let r = await kvsctl([...ep, 'put', '--if-absent', 'greeting', 'x']);
    assert.equal(r.code, 3);
    assert.match(r.stderr, /^kvsctl: compare failed: the key exists\n$/);
    r = await kvsctl([...ep, 'put', '--if-value', 'hello world', 'greeting', 'bye']);
    assert.equal(r.code, 0, r.stderr);
    r = await kvsctl([...ep, 'get', 'greeting']);
    assert.equal(r.stdout, 'bye\n');
  });

  it('scan: prefix, range, limit, keys-only, reverse, json', async () => {
    await kvsctl([...ep, 'txn'], { stdin: ['put s/1 a', 'put s/2 b', 'put s/3 c', 'put t/1 z'].join('\n') });
    let r = await kvsctl([...ep, 'scan', '--prefix', 's/']);
    assert.equal(r.stdout, 's/1\na\ns/2\nb\ns/3\nc\n');
    r = await kvsctl([...ep, 'scan', '--from', 's/2', '--to', 't/1', '--keys-only']);
    assert.equal(r.stdout, 's/2\ns/3\n');
    r = await kvsctl([...ep, 'scan', '--prefix', 's/', '--reverse', '--limit', '2', '--keys-only']);
    assert.equal(r.stdout, 's/3\ns/2\n');
    r = await kvsctl([...ep, '--json', 'scan', '--prefix', 's/', '--limit', '2']);
    const j = JSON.parse(r.stdout) as { kvs: { key: string; value: string }[]; count: number; more: boolean };
    assert.deepEqual(j.kvs.map((kv) => [kv.key, kv.value]), [['s/1', 'a'], ['s/2', 'b']]);
    assert.equal(j.more, true);
    r = await kvsctl([...ep, 'scan', '--from', 'z', '--to', 'a']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /^kvsctl: --from must be <= --to\n$/);
  });

  it('txn: prints the gets, commits; --json', async () => {
    let r = await kvsctl([...ep, 'txn'], { stdin: 'get s/1\nput s/1 "new value"\nget s/1\nget nothing\ndel s/2\n' });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 's/1\na\ns/1\nnew value\n');
    r = await kvsctl([...ep, '--json', 'txn'], { stdin: 'get s/1\nget s/2\n' });
    const j = JSON.parse(r.stdout) as { results: { op: string; key: string; found: boolean; value?: string }[]; commitTs: number; attempts: number };
    assert.deepEqual(j.results, [
      { op: 'get', key: 's/1', found: true, value: 'new value' },
      { op: 'get', key: 's/2', found: false },
    ]);
    assert.equal(j.attempts, 1);
    r = await kvsctl([...ep, 'txn'], { stdin: 'get a\nfrobnicate b\n' });
    assert.equal(r.code, 2);
    assert.equal(r.stderr, 'kvsctl: line 2: unknown operation "frobnicate" (expected get K, put K V or del K)\n');
  });

  it('del: key, --prefix', async () => {
    let r = await kvsctl([...ep, 'del', 's/1']);
    assert.deepEqual([r.code, r.stdout], [0, '1\n']);
    r = await kvsctl([...ep, 'del', 's/1']);
    assert.equal(r.stdout, '0\n');
    r = await kvsctl([...ep, '--json', 'del', '--prefix', 's/']);
    // Its exit code and stderr first: an empty stdout alone said nothing (once under the coverage run).
    assert.equal(r.code, 0, r.stderr);
    assert.equal(JSON.parse(r.stdout).deleted, 1);
  });

  it('--encoding hex for binary keys and values', async () => {
    let r = await kvsctl([...ep, '--encoding', 'hex', 'put', '00ff', 'deadbeef']);
    assert.equal(r.code, 0, r.stderr);
    r = await kvsctl([...ep, '--encoding', 'hex', 'get', '00ff']);
    assert.equal(r.stdout, 'deadbeef\n');
    r = await kvsctl([...ep, '--encoding', 'hex', 'get', 'zz']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /not valid hex/);
  });

  it('status (text and JSON)', async () => {
    let r = await kvsctl([...ep, 'status']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`^${t.endpoint.replace(/\./g, '\\.')}  node=test-node version=\\S+ applied_ts=\\d+`));
    r = await kvsctl([...ep, '--json', 'status']);
    const j = JSON.parse(r.stdout) as { endpoint: string; ok: boolean; nodeId: string }[];
    assert.equal(j[0]!.ok, true);
    assert.equal(j[0]!.nodeId, 'test-node');
  });

  it('errors: one line on stderr, exit 1; usage errors exit 2', async () => {
    let r = await kvsctl([...ep, 'put', '', 'x']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^kvsctl: INVALID_ARGUMENT: Put \S+: key: must not be empty\n$/);
    r = await kvsctl([...ep, 'frob']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /unknown command 'frob'/);
    r = await kvsctl([...ep, 'get']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /missing required argument 'key'/);
    const port = await new Promise<number>((res) => {
      const s = createServer().listen(0, '127.0.0.1', () => {
        const p = (s.address() as { port: number }).port;
        s.close(() => res(p));
      });
    });
    r = await kvsctl(['--endpoints', `127.0.0.1:${port}`, '--timeout', '500ms', 'get', 'k']);
    assert.equal(r.code, 1);
    assert.equal(r.stderr.split('\n').length, 2, 'exactly one line');
    assert.match(r.stderr, /^kvsctl: (DEADLINE_EXCEEDED|UNAVAILABLE): /);
    r = await kvsctl(['--endpoints', `127.0.0.1:${port}`, '--timeout', '300ms', 'status']);
    assert.equal(r.code, 1);
    assert.match(r.stdout, /UNREACHABLE/);
    r = await kvsctl(['--timeout', 'soon', ...ep, 'get', 'k']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--timeout: malformed duration/);
  });

  it('--help documents the missing-key choice and exit codes', async () => {
    const r = await kvsctl(['--help']);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /"get" of a missing key, which prints nothing/);
    assert.match(r.stdout, /3 {2}condition not met/);
  });
});

describe('kvsctl --cacert/--cert/--key against a node with mutual TLS', function () {
  this.timeout(60_000);
  let t: TestNode;
  let pki: TestPki;
  let material: ReloadingTls;
  before(async () => {
    pki = makeTestPki();
    material = new ReloadingTls({ sources: { ca: pki.ca.crt, cert: pki.node.crt, key: pki.node.key }, pollMs: 0 });
    t = await startTestNode({ security: tlsServerSecurity(material, { admin: ['kvs-admin'], peer: ['kvs-node'] }, silentLogger()) });
  });
  after(async () => {
    await t.stop();
    material.close();
    pki.certs.remove();
  });

  it('works with a client certificate (flags or KVS_CACERT/KVS_CERT/KVS_KEY), and prints no warning', async () => {
    const tls = ['--cacert', pki.ca.crt, '--cert', pki.client.crt, '--key', pki.client.key];
    let r = await kvsctl(['--endpoints', t.endpoint, ...tls, 'put', 'k', 'v']);
    assert.deepEqual([r.code, r.stdout, r.stderr], [0, 'OK\n', '']);
    r = await kvsctl(['get', 'k'], { env: { KVS_ENDPOINTS: t.endpoint, KVS_CACERT: pki.ca.crt, KVS_CERT: pki.client.crt, KVS_KEY: pki.client.key } });
    assert.deepEqual([r.code, r.stdout, r.stderr], [0, 'v\n', '']);
  });

  it('clear errors: no certificate (refused at once, with the reason), an expired one, a missing --cacert', async () => {
    const t0 = Date.now();
    let r = await kvsctl(['--endpoints', t.endpoint, '--cacert', pki.ca.crt, 'get', 'k']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^kvsctl: UNAUTHENTICATED: .*TLS client certificate refused: no client certificate presented/);
    assert.ok(Date.now() - t0 < 4000, 'not retried until the 5 s deadline');
    r = await kvsctl(['--endpoints', t.endpoint, '--cacert', pki.ca.crt, '--cert', pki.expired.crt, '--key', pki.expired.key, 'get', 'k']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^kvsctl: --cert: certificate CN=kvs-admin expired at /);
    r = await kvsctl(['--endpoints', t.endpoint, '--cert', pki.client.crt, '--key', pki.client.key, 'get', 'k']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--cacert is required/);
    // Plaintext kvsctl against the TLS node: refused, bounded by --timeout.
    r = await kvsctl(['--endpoints', t.endpoint, '--timeout', '1s', 'get', 'k']);
    assert.equal(r.code, 1);
  });
});
