import assert from 'node:assert/strict';
import { ConfigError, HelpShown, parseConfig } from '../../../node/src/server/config.js';
import { parseDuration, parseSize } from '../../../node/src/common/units.js';

describe('server/config', () => {
  it('defaults', () => {
    const c = parseConfig([], {});
    assert.equal(c.listen, '127.0.0.1:7379');
    assert.equal(c.http, '127.0.0.1:7380');
    assert.equal(c.dataDir, './data');
    assert.equal(c.logLevel, 'info');
    assert.equal(c.limits.maxKeyBytes, 8192);
    assert.equal(c.limits.maxValueBytes, 1024 * 1024);
    assert.equal(c.shutdownTimeoutMs, 10_000);
    assert.equal(c.gcLifetimeMs, undefined);
    assert.ok(c.nodeId.length > 0);
  });

  it('flags win over env, env over defaults', () => {
    const env = { KVS_LISTEN: '127.0.0.2:9000', KVS_NODE_ID: 'from-env', KVS_MAX_VALUE_BYTES: '2MiB', KVS_LOG_LEVEL: 'debug' };
    const c = parseConfig(['--node-id', 'n1', '--max-key-bytes', '1KiB', '--gc-lifetime', '5m', '--http', 'off'], env);
    assert.equal(c.listen, '127.0.0.2:9000');
    assert.equal(c.nodeId, 'n1');
    assert.equal(c.limits.maxKeyBytes, 1024);
    assert.equal(c.limits.maxValueBytes, 2 * 1024 * 1024);
    assert.equal(c.logLevel, 'debug');
    assert.equal(c.gcLifetimeMs, 300_000);
    assert.equal(c.http, undefined);
  });

  it('--memory drops the data dir', () => {
    assert.equal(parseConfig(['--memory'], {}).dataDir, undefined);
    assert.equal(parseConfig([], { KVS_MEMORY: '1' }).dataDir, undefined);
  });

  it('clear errors naming the flag or variable', () => {
    const bad = (argv: string[], env: Record<string, string>, re: RegExp) =>
      assert.throws(() => parseConfig(argv, env), (e: unknown) => e instanceof ConfigError && re.test(e.message));
    bad(['--listen', 'nope'], {}, /^--listen: malformed address "nope"/);
    bad(['--listen', '127.0.0.1:70000'], {}, /^--listen: .*port 70000 > 65535/);
    bad([], { KVS_LISTEN: 'x' }, /^KVS_LISTEN: malformed address/);
    bad(['--max-key-bytes', '12 parsecs'], {}, /^--max-key-bytes: malformed size/);
    bad(['--max-batch-mutations', '-3'], {}, /^--max-batch-mutations: expected a positive integer/);
    bad(['--shutdown-timeout', 'soon'], {}, /^--shutdown-timeout: malformed duration/);
    bad(['--log-level', 'loud'], {}, /^--log-level: unknown level "loud"/);
    bad(['--node-id', 'a b'], {}, /^--node-id: "a b" is not a valid node id/);
    bad(['--max-value-bytes', '64MiB'], {}, /^limits: maxReceiveMessageBytes/);
    bad(['--bogus'], {}, /unknown option '--bogus'/);
    bad(['--memory', 'extra'], {}, /too many arguments|excess/i);
    const raft = ['--raft-id', '1', '--peers', '1=127.0.0.1:7379'];
    bad([...raft, '--heartbeat-tick', '12'], {}, /^--heartbeat-tick: must be >= 1 and below --election-tick \(12\)/);
    bad([...raft, '--heartbeat-tick', '0'], {}, /^--heartbeat-tick/);
    bad([...raft, '--election-tick', '4'], { KVS_HEARTBEAT_TICK: '5' }, /^--heartbeat-tick: must be >= 1 and below --election-tick \(4\)/);
  });

  it('--heartbeat-tick: default 1, settable below the election tick', () => {
    const raft = ['--raft-id', '1', '--peers', '1=127.0.0.1:7379'];
    assert.equal(parseConfig(raft, {}).raft?.heartbeatTick, 1);
    assert.equal(parseConfig([...raft, '--heartbeat-tick', '3'], {}).raft?.heartbeatTick, 3);
    assert.equal(parseConfig(raft, { KVS_HEARTBEAT_TICK: '2' }).raft?.heartbeatTick, 2);
  });

  it('cross-range commits: parallel commits by default, with a 10 ms secondary hold (taking effect with parallel commits only); both settable', () => {
    const raft = ['--raft-id', '1', '--peers', '1=127.0.0.1:7379'];
    const d = parseConfig(raft, {}).raft;
    assert.deepEqual([d?.txnParallelCommit, d?.txnSecondaryHoldMs], [true, 10]);
    const on = parseConfig([...raft, '--txn-parallel-commit'], {}).raft;
    assert.equal(on?.txnParallelCommit, true);
    const off = parseConfig([...raft, '--txn-parallel-commit', 'false', '--txn-secondary-hold', '0'], {}).raft;
    assert.deepEqual([off?.txnParallelCommit, off?.txnSecondaryHoldMs], [false, 0]);
    const env = parseConfig(raft, { KVS_TXN_PARALLEL_COMMIT: 'off', KVS_TXN_SECONDARY_HOLD: '25ms' }).raft;
    assert.deepEqual([env?.txnParallelCommit, env?.txnSecondaryHoldMs], [false, 25]);
    assert.throws(() => parseConfig([...raft, '--txn-parallel-commit', 'maybe'], {}), /--txn-parallel-commit/);
  });

  it('--help is reported as HelpShown', () => {
    let text = '';
    assert.throws(() => parseConfig(['--help'], {}, { writeOut: (s) => (text += s) }), HelpShown);
    assert.match(text, /--listen <host:port>/);
    assert.match(text, /KVS_DATA_DIR/);
  });

  it('--version is reported as HelpShown with the package version', () => {
    let text = '';
    assert.throws(() => parseConfig(['--version'], {}, { writeOut: (s) => (text += s) }), HelpShown);
    assert.match(text, /^\d+\.\d+\.\d+/);
  });

  it('ranges split at 64 MiB by default (0 = off); --txn-lock-ttl (100ms..10m, default 3s)', () => {
    const raft = ['--raft-id', '1', '--peers', '1=127.0.0.1:7000'];
    const r = (argv: string[], env: Record<string, string> = {}) => parseConfig([...raft, ...argv], env).raft!;
    assert.equal(r([]).rangeMaxBytes, 64 * 1024 * 1024);
    assert.equal(r(['--range-max-bytes', '0']).rangeMaxBytes, 0);
    assert.equal(r([], { KVS_RANGE_MAX_BYTES: '8KiB' }).rangeMaxBytes, 8192);
    assert.equal(r([]).txnLockTtlMs, 3000);
    assert.equal(r(['--txn-lock-ttl', '500ms']).txnLockTtlMs, 500);
    for (const bad of ['50ms', '11m', 'soon']) {
      assert.throws(() => r(['--txn-lock-ttl', bad]), (e: unknown) => e instanceof ConfigError && /^--txn-lock-ttl/.test(e.message), bad);
    }
  });

  it('lease reads are on by default; --lease-read=false (or the env) selects ReadIndex; --max-clock-drift', () => {
    const raft = ['--raft-id', '1', '--peers', '1=127.0.0.1:7000'];
    const r = (argv: string[], env: Record<string, string> = {}) => parseConfig([...raft, ...argv], env).raft!;
    assert.equal(r([]).leaseRead, true);
    assert.equal(r([]).raftQuiesce, true);
    assert.equal(r(['--raft-quiesce=false']).raftQuiesce, false);
    assert.equal(r([], { KVS_RAFT_QUIESCE: 'false' }).raftQuiesce, false);
    assert.equal(r([]).raftWal, false);
    assert.equal(r(['--raft-wal']).raftWal, true);
    assert.equal(r([], { KVS_RAFT_WAL: 'true' }).raftWal, true);
    assert.equal(r([]).raftAsyncAppend, false);
    assert.equal(r(['--raft-async-append']).raftAsyncAppend, true);
    assert.equal(r([], { KVS_RAFT_ASYNC_APPEND: 'true' }).raftAsyncAppend, true);
    assert.equal(r([]).maxClockDrift, 0.1);
    assert.equal(r(['--lease-read']).leaseRead, true);
    assert.equal(r(['--lease-read=false']).leaseRead, false);
    assert.equal(r(['--lease-read', 'false']).leaseRead, false);
    assert.equal(r([], { KVS_LEASE_READ: 'false' }).leaseRead, false);
    assert.equal(r(['--lease-read=true'], { KVS_LEASE_READ: 'false' }).leaseRead, true);
    assert.equal(r(['--max-clock-drift', '0.25']).maxClockDrift, 0.25);
    assert.equal(r([], { KVS_MAX_CLOCK_DRIFT: '0' }).maxClockDrift, 0);
    for (const bad of ['0.6', '-0.1', 'ten', '']) {
      assert.throws(() => r(['--max-clock-drift', bad]), (e: unknown) => e instanceof ConfigError && /^--max-clock-drift: expected a fraction in \[0, 0.5\]/.test(e.message), bad);
    }
    assert.throws(() => r(['--lease-read=maybe']), (e: unknown) => e instanceof ConfigError && /^--lease-read: expected true or false/.test(e.message));
  });

  it('units', () => {
    assert.equal(parseSize('4096'), 4096);
    assert.equal(parseSize('8KiB'), 8192);
    assert.equal(parseSize('1 MiB'), 1048576);
    assert.equal(parseSize('2mb'), 2_000_000);
    assert.equal(parseDuration('1500'), 1500);
    assert.equal(parseDuration('2s'), 2000);
    assert.equal(parseDuration('1.5m'), 90_000);
    assert.throws(() => parseSize('x'), /malformed size/);
    assert.throws(() => parseDuration('3 days'), /malformed duration/);
  });
});

describe('server/config scan limits', () => {
  it('a small --max-scan-limit lowers the default page size', () => {
    const c = parseConfig(['--max-scan-limit', '50'], {});
    assert.equal(c.limits.maxScanLimit, 50);
    assert.equal(c.limits.defaultScanLimit, 50);
    assert.throws(() => parseConfig(['--max-scan-limit', '50', '--default-scan-limit', '60'], {}), /defaultScanLimit \(60\) must be <= maxScanLimit \(50\)/);
  });

  it('TLS: all three files or none; identities and --admin-listen validated; plaintext by default', () => {
    const d = parseConfig([], {});
    assert.equal(d.tls, undefined);
    assert.equal(d.adminListen, undefined);
    const c = parseConfig(['--cert-file', 'n.crt', '--key-file', 'n.key', '--peers', '1=127.0.0.1:7400', '--raft-id', '1', '--admin-listen', '127.0.0.1:7390'], { KVS_TRUSTED_CA_FILE: 'ca.crt', KVS_ADMIN_IDENTITIES: 'ops, *.admins.example' });
    assert.deepEqual(c.tls, { certFile: 'n.crt', keyFile: 'n.key', trustedCaFile: 'ca.crt', adminIdentities: ['ops', '*.admins.example'], peerIdentities: ['kvs-node'], reloadMs: 5000, transition: false });
    assert.equal(parseConfig(['--cert-file', 'n.crt', '--key-file', 'n.key', '--trusted-ca-file', 'ca', '--tls-transition'], {}).tls?.transition, true);
    assert.equal(c.adminListen, '127.0.0.1:7390');
    const bad = (argv: string[], env: Record<string, string>, re: RegExp) =>
      assert.throws(() => parseConfig(argv, env), (e: unknown) => e instanceof ConfigError && re.test(e.message), String(re));
    bad(['--cert-file', 'n.crt'], {}, /^--key-file, --trusted-ca-file: required with --cert-file/);
    bad(['--cert-file', 'n.crt', '--key-file', 'k'], { KVS_TRUSTED_CA_FILE: 'ca' , KVS_ADMIN_IDENTITIES: ' , ' }, /^KVS_ADMIN_IDENTITIES: must name at least one identity/);
    bad(['--cert-file', 'n.crt', '--key-file', 'k', '--trusted-ca-file', 'ca', '--peer-identities', 'a*b'], {}, /^--peer-identities: malformed identity "a\*b"/);
    bad(['--admin-listen', '127.0.0.1:7390'], {}, /^--admin-listen: only a replicated node/);
    bad(['--tls-transition'], {}, /^--tls-transition: needs --cert-file/);
    bad(['--admin-listen', '127.0.0.1:7379', '--peers', '1=127.0.0.1:7400', '--raft-id', '1'], {}, /^--admin-listen: equals --listen/);
  });
});
