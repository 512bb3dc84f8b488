// kvs-node configuration: command-line flags, then KVS_* environment variables, then defaults.
// parseConfig is pure (argv + env in, config or ConfigError out) so it is unit-tested directly.
import { Command, CommanderError, Option } from 'commander';
import { readFileSync, existsSync } from 'node:fs';
import { join as joinPath } from 'node:path';
import { hostname } from 'node:os';
import { parseDuration, parseSize } from '../common/units.js';
import { writeFileDurablySync } from '../common/durable-file.js';
import { resolveLimits, type Limits } from './validate.js';
import { packageVersion, splitHostPort } from './node-server.js';
import { generateIncarnation, isIncarnation } from '../raftstore/identity.js';

export interface NodeConfig {
  /** gRPC listen address host:port. */
  listen: string;
  /** HTTP address for /metrics /healthz /readyz, or undefined when disabled (--http off). */
  http: string | undefined;
  /** Data directory of the classic-level engine; undefined with --memory. */
  dataDir: string | undefined;
  nodeId: string;
  logLevel: 'error' | 'warn' | 'info' | 'debug';
  limits: Limits;
  gcLifetimeMs: number | undefined;
  gcIntervalMs: number | undefined;
  txnIdleTimeoutMs: number | undefined;
  sessionTtlMs: number | undefined;
  /** How long a graceful shutdown waits for in-flight calls. */
  shutdownTimeoutMs: number;
  /** Replication (Raft); undefined = single-node store with group commit (no --peers / --join). */
  raft: RaftConfig | undefined;
  /** Mutual TLS on every gRPC server and on the Raft channels; undefined = plaintext (the default). */
  tls: TlsConfig | undefined;
  /** Where kvs.v1.Admin is served: undefined = on the --listen server (the default). */
  adminListen: string | undefined;
}

export interface TlsConfig {
  certFile: string;
  keyFile: string;
  trustedCaFile: string;
  /** Certificate identities (CN or DNS/URI SAN; `*.suffix` allowed) that may call kvs.v1.Admin. */
  adminIdentities: string[];
  /** Certificate identities that may call kvs.v1.Raft (the other nodes). */
  peerIdentities: string[];
  /** How often the files are checked for a rotation. */
  reloadMs: number;
  /** Accept plaintext too and dial plaintext peers (turning TLS on or off in a running cluster). */
  transition: boolean;
}

export interface RaftConfig {
  raftId: number;
  /** Initial members: raft id → raft address (plain config: may point to a proxy). */
  peers: Map<number, string>;
  /** Start empty and wait to be added as a learner (scale-out). */
  join: boolean;
  /** Where this node serves kvs.v1.Raft; equal to `listen` = the same gRPC server as the Kv API. */
  raftListen: string;
  /** Client address advertised to peers (NOT_LEADER hints). */
  advertiseClient: string;
  tickMs: number;
  electionTick: number;
  heartbeatTick: number;
  leaseRead: boolean;
  raftQuiesce: boolean;
  /** Raft log writes made durable by the store's own WAL instead of a LevelDB sync (default false). */
  raftWal: boolean;
  raftAsyncAppend: boolean;
  maxClockDrift: number;
  compactThreshold: number;
  compactKeep: number;
  /** Split a range when its size passes this many bytes (0 = off: manual splits only; default 64 MiB). */
  rangeMaxBytes: number;
  /** Lock TTL of cross-range transactions (ms). */
  txnLockTtlMs: number;
  /** Cross-range commits reply after one Raft round (parallel commits, the default; false: prepare, then the commit point). */
  txnParallelCommit: boolean;
  /** How long a cross-range transaction's secondary commit waits to ride the range's next proposal (ms; 0 = sent at once). */
  txnSecondaryHoldMs: number;
  /** TEST ONLY (--test-disable-identity-check): peers admit a wiped data dir as the same voter. */
  identityCheck: boolean;
  staleNotices: boolean;
}

/** Parses "1=127.0.0.1:7400,2=127.0.0.2:7400". */
export function parsePeers(s: string): Map<number, string> {
  const out = new Map<number, string>();
  for (const part of s.split(',').map((x) => x.trim()).filter(Boolean)) {
    const m = /^(\d+)=(.+)$/.exec(part);
    if (!m) throw new Error(`malformed peer ${JSON.stringify(part)} (expected id=host:port)`);
    const id = Number(m[1]);
    if (!Number.isSafeInteger(id) || id <= 0) throw new Error(`peer id must be a positive integer in ${JSON.stringify(part)}`);
    const { host } = splitHostPort(m[2]!);
    if (!host) throw new Error(`missing host in ${JSON.stringify(part)}`);
    if (out.has(id)) throw new Error(`duplicate peer id ${id}`);
    out.set(id, m[2]!.trim());
  }
  if (out.size === 0) throw new Error('empty peer list');
  return out;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Thrown for --help / --version: the text was printed, exit 0. */
export class HelpShown extends Error {
  override name = 'HelpShown';
}

const LOG_LEVELS = ['error', 'warn', 'info', 'debug'] as const;

interface Spec {
  flag: string;
  env: string;
  desc: string;
  def?: string;
}

const SPECS = {
  listen: { flag: '--listen <host:port>', env: 'KVS_LISTEN', desc: 'gRPC listen address (port 0 = ephemeral)', def: '127.0.0.1:7379' },
  http: { flag: '--http <host:port|off>', env: 'KVS_HTTP', desc: 'HTTP address for /metrics, /healthz, /readyz ("off" disables)', def: '127.0.0.1:7380' },
  dataDir: { flag: '--data-dir <dir>', env: 'KVS_DATA_DIR', desc: 'data directory (classic-level engine)', def: './data' },
  memory: { flag: '--memory', env: 'KVS_MEMORY', desc: 'keep data in memory only (no data dir; everything is lost on exit)' },
  nodeId: { flag: '--node-id <id>', env: 'KVS_NODE_ID', desc: 'node id (default: the hostname)' },
  logLevel: { flag: '--log-level <level>', env: 'KVS_LOG_LEVEL', desc: 'log level: error, warn, info, debug (debug logs every request, never values)', def: 'info' },
  maxKeyBytes: { flag: '--max-key-bytes <size>', env: 'KVS_MAX_KEY_BYTES', desc: 'largest key', def: '8KiB' },
  maxValueBytes: { flag: '--max-value-bytes <size>', env: 'KVS_MAX_VALUE_BYTES', desc: 'largest value', def: '1MiB' },
  maxBatchMutations: { flag: '--max-batch-mutations <n>', env: 'KVS_MAX_BATCH_MUTATIONS', desc: 'most mutations per Batch', def: '10000' },
  defaultScanLimit: { flag: '--default-scan-limit <n>', env: 'KVS_DEFAULT_SCAN_LIMIT', desc: 'scan page size when a request says 0 (default 1000, at most --max-scan-limit)' },
  maxScanLimit: { flag: '--max-scan-limit <n>', env: 'KVS_MAX_SCAN_LIMIT', desc: 'cap of a requested scan limit', def: '10000' },
  maxScanResponseBytes: { flag: '--max-scan-response-bytes <size>', env: 'KVS_MAX_SCAN_RESPONSE_BYTES', desc: 'a scan page is cut (more=true) beyond this size', def: '4MiB' },
  maxMessageBytes: { flag: '--max-message-bytes <size>', env: 'KVS_MAX_MESSAGE_BYTES', desc: 'grpc max_receive_message_length of the Kv and Raft services; also bounds one Raft entry, so a Batch or transaction commit above it minus 16 KiB is refused (set it alike on every node)', def: '8MiB' },
  maxStreamInFlight: { flag: '--max-stream-in-flight <n>', env: 'KVS_MAX_STREAM_IN_FLIGHT', desc: 'requests running at once on one BatchStream (more are refused with RESOURCE_EXHAUSTED)', def: '4096' },
  maxTxnIdleTimeout: { flag: '--max-txn-idle-timeout <duration>', env: 'KVS_MAX_TXN_IDLE_TIMEOUT', desc: 'largest idle timeout a Begin may ask for', def: '10m' },
  gcLifetime: { flag: '--gc-lifetime <duration>', env: 'KVS_GC_LIFETIME', desc: 'MVCC versions older than this may be garbage-collected (store default)' },
  gcInterval: { flag: '--gc-interval <duration>', env: 'KVS_GC_INTERVAL', desc: 'how often each range replica runs a GC step (store default 10s)' },
  txnIdleTimeout: { flag: '--txn-idle-timeout <duration>', env: 'KVS_TXN_IDLE_TIMEOUT', desc: 'default idle timeout of interactive transactions (store default)' },
  sessionTtl: { flag: '--session-ttl <duration>', env: 'KVS_SESSION_TTL', desc: 'exactly-once sessions idle longer than this are forgotten: seeds the replicated cluster setting of a new cluster (1h by default; later changes: kvsctl settings set)' },
  shutdownTimeout: { flag: '--shutdown-timeout <duration>', env: 'KVS_SHUTDOWN_TIMEOUT', desc: 'graceful shutdown waits this long for in-flight calls', def: '10s' },
  raftId: { flag: '--raft-id <n>', env: 'KVS_RAFT_ID', desc: 'Raft id of this node (positive integer, never reused); needed with --peers/--join' },
  peers: { flag: '--peers <list>', env: 'KVS_PEERS', desc: 'initial Raft members id=host:port,... (raft addresses; may point to proxies). Without --peers/--join the node runs a single-node store' },
  join: { flag: '--join', env: 'KVS_JOIN', desc: 'start empty and wait to be added as a learner (Admin AddLearner) and sent a snapshot' },
  raftListen: { flag: '--raft-listen <host:port>', env: 'KVS_RAFT_LISTEN', desc: 'address of the node-to-node Raft service (default: this node\'s --peers entry, else --listen; equal to --listen = same gRPC server)' },
  advertise: { flag: '--advertise <host:port>', env: 'KVS_ADVERTISE', desc: 'client address told to peers for leader hints (default --listen)' },
  raftTick: { flag: '--raft-tick <duration>', env: 'KVS_RAFT_TICK', desc: 'Raft tick interval (the unit of --election-tick and --heartbeat-tick)', def: '50ms' },
  electionTick: { flag: '--election-tick <n>', env: 'KVS_ELECTION_TICK', desc: 'election timeout in ticks (randomized in [n, 2n)); default 12 × 50 ms = 0.6–1.2 s', def: '12' },
  heartbeatTick: { flag: '--heartbeat-tick <n>', env: 'KVS_HEARTBEAT_TICK', desc: 'a range leader heartbeats its followers every n ticks (fewer with writes: an append stands in for a heartbeat); must be below --election-tick', def: '1' },
  raftQuiesce: { flag: '--raft-quiesce [bool]', env: 'KVS_RAFT_QUIESCE', desc: 'idle ranges stop ticking and heartbeating until traffic or a store liveness change wakes them (a store with thousands of ranges stays cheap); --raft-quiesce=false ticks every range', def: 'true' },
  raftWal: { flag: '--raft-wal [bool]', env: 'KVS_RAFT_WAL', desc: 'make Raft log writes durable with one fdatasync of the store\'s own preallocated write-ahead log (<data-dir>/raft-wal) instead of a LevelDB sync; off by default: on the 2-core test machine the stores are CPU-bound and it measured no faster (docs/benchmarks.md). An existing WAL is replayed at start either way', def: 'false' },
  raftAsyncAppend: { flag: '--raft-async-append [bool]', env: 'KVS_RAFT_ASYNC_APPEND', desc: 'a range leader goes on with its next Raft round while its own log write is in flight, so followers\' acks commit entries without waiting for the leader\'s fsync (etcd-raft AsyncStorageWrites); off by default: on the 2-core test machine it measured no faster, at 1 or 64 in flight (docs/benchmarks.md)', def: 'false' },
  leaseRead: { flag: '--lease-read [bool]', env: 'KVS_LEASE_READ', desc: 'serve linearizable reads from the leader lease (election timeout minus --max-clock-drift, on the monotonic clock) instead of a heartbeat round per read; --lease-read=false for ReadIndex', def: 'true' },
  maxClockDrift: { flag: '--max-clock-drift <fraction>', env: 'KVS_MAX_CLOCK_DRIFT', desc: 'largest rate difference between two nodes\' monotonic clocks the leader lease tolerates (0..0.5)', def: '0.1' },
  raftCompactThreshold: { flag: '--raft-compact-threshold <n>', env: 'KVS_RAFT_COMPACT_THRESHOLD', desc: 'compact the Raft log when this many applied entries accumulate', def: '10000' },
  envFile: { flag: '--env-file <path>', env: 'KVS_ENV_FILE', desc: 'read KVS_* settings from this file of KEY=VALUE lines (flags and the environment win); the Kubernetes operator hands each pod its raft id this way' },
  testDisableIdentityCheck: {
    flag: '--test-disable-identity-check',
    env: 'KVS_TEST_DISABLE_IDENTITY_CHECK',
    desc: 'TEST ONLY, UNSAFE: do not refuse peers whose data dir was wiped (a wiped member may vote again and lose acknowledged writes); exists for the negative control of the wipe test',
  },
  testDisableStaleNotices: {
    flag: '--test-disable-stale-notices',
    env: 'KVS_TEST_DISABLE_STALE_NOTICES',
    desc: 'TEST ONLY: do not tell a store that a range no longer lists it when it sends that range messages (its removed replica then lingers until kvsctl or the operator destroys it); exists for the negative control of the stale-replica test',
  },
  rangeMaxBytes: { flag: '--range-max-bytes <size>', env: 'KVS_RANGE_MAX_BYTES', desc: 'split a range automatically once its data passes this size (0 = off: only `kvsctl range split`); a Batch or transaction spanning ranges commits atomically by two-phase commit', def: '64MiB' },
  txnLockTtl: { flag: '--txn-lock-ttl <duration>', env: 'KVS_TXN_LOCK_TTL', desc: 'lifetime of the locks of a transaction committing across ranges: a coordinator that dies mid-commit blocks the keys it locked at most this long (then the first request that meets them aborts or rolls it forward)', def: '3s' },
  txnParallelCommit: { flag: '--txn-parallel-commit [bool]', env: 'KVS_TXN_PARALLEL_COMMIT', desc: 'a transaction across ranges is committed once every range prepared it — one Raft round before the reply instead of two (prepare, then the primary range\'s commit), at the price of one more Raft command per transaction (the primary range records the outcome behind the reply); with --txn-secondary-hold the commands behind the reply ride the next transaction\'s rounds (a lone cross-range transaction 16-20 % faster, docs/benchmarks.md 2026-12-07); false: two rounds, and no secondary hold (docs/ARCHITECTURE.md "Parallel commits")', def: 'true' },
  txnSecondaryHold: { flag: '--txn-secondary-hold <duration>', env: 'KVS_TXN_SECONDARY_HOLD', desc: 'with parallel commits (ignored without them), a cross-range transaction\'s commits of its other ranges, sent behind the reply, wait at most this long for this store\'s next proposal to that range and share its Raft round (0 = each goes at once, in a round of its own); readers on this store that meet such a lock send it at once, readers on other stores check it at its primary at once (CockroachDB batches its intent resolution the same way, up to 10 ms)', def: '10ms' },
  raftCompactKeep: { flag: '--raft-compact-keep <n>', env: 'KVS_RAFT_COMPACT_KEEP', desc: 'entries kept behind the applied index when compacting', def: '1000' },
  certFile: { flag: '--cert-file <path>', env: 'KVS_CERT_FILE', desc: 'TLS: this node\'s certificate (PEM, chain leaf first; server AND client auth: it also dials the peers). With --key-file and --trusted-ca-file, every gRPC port requires mutual TLS' },
  keyFile: { flag: '--key-file <path>', env: 'KVS_KEY_FILE', desc: 'TLS: the private key of --cert-file (PEM, unencrypted)' },
  trustedCaFile: { flag: '--trusted-ca-file <path>', env: 'KVS_TRUSTED_CA_FILE', desc: 'TLS: CA bundle (PEM) verifying clients\' and peers\' certificates, and the peers\' server certificates' },
  adminIdentities: { flag: '--admin-identities <list>', env: 'KVS_ADMIN_IDENTITIES', desc: 'TLS: comma-separated certificate identities (subject CN or DNS/URI SAN; *.suffix matches subdomains) allowed to call the Admin API', def: 'kvs-admin' },
  peerIdentities: { flag: '--peer-identities <list>', env: 'KVS_PEER_IDENTITIES', desc: 'TLS: certificate identities allowed to call the Raft service (the other nodes)', def: 'kvs-node' },
  tlsReloadInterval: { flag: '--tls-reload-interval <duration>', env: 'KVS_TLS_RELOAD_INTERVAL', desc: 'TLS: how often the certificate files are checked; a valid change takes effect for new connections without a restart', def: '5s' },
  tlsTransition: { flag: '--tls-transition', env: 'KVS_TLS_TRANSITION', desc: 'TLS: also accept plaintext connections (unauthenticated) on every port and fall back to plaintext for peers without TLS; for turning TLS on or off in a running cluster in two rolling restarts (docs/ARCHITECTURE.md, Security)' },
  adminListen: { flag: '--admin-listen <host:port>', env: 'KVS_ADMIN_LISTEN', desc: 'serve the Admin API on this separate address instead of --listen (then --listen serves Kv only); with TLS the same certificates apply' },
} satisfies Record<string, Spec>;

type Key = keyof typeof SPECS;

export function configCommand(version = '0.0.0'): Command {
  const cmd = new Command('kvs-node')
    .version(version, '-V, --version', 'print the version')
    .description(
      'A kvs storage node: serves the kvs.v1.Kv gRPC API and /metrics, /healthz, /readyz over HTTP.\n' +
        'Every flag can also be given as an environment variable (shown in brackets); flags win.\n' +
        'Sizes: 4096, 8KiB, 1MiB. Durations: 500ms, 10s, 5m (a bare number is ms).\n' +
        'On start, one JSON line {"event":"listening","grpc":...,"http":...} is written to stdout;\n' +
        'logs are JSON lines on stderr. SIGINT/SIGTERM: stop accepting, drain, close the store, exit 0.',
    )
    .helpOption('-h, --help', 'show this help')
    .allowExcessArguments(false);
  for (const spec of Object.values(SPECS) as Spec[]) {
    cmd.addOption(new Option(spec.flag, `${spec.desc}${spec.def !== undefined ? ` (default ${spec.def})` : ''} [${spec.env}]`));
  }
  return cmd;
}

/** Parses argv (without node and script) and env; throws ConfigError with a message naming the flag. */
/** Parses KEY=VALUE lines (# comments and blank lines ignored) of an --env-file. */
export function parseEnvFile(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split(/\r?\n/)) {
    const t = line.trim();
    if (!t || t.startsWith('#')) continue;
    const m = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(t);
    if (!m) throw new Error(`malformed line ${JSON.stringify(t)} (expected KEY=VALUE)`);
    out[m[1]!] = m[2]!;
  }
  return out;
}

/**
 * File in the data directory recording the raft id the data belongs to and the data dir's incarnation:
 * line 1 the raft id, line 2 `incarnation <32 hex>` (files of older versions have line 1 only; the
 * incarnation is added on their next start).
 */
export const RAFT_IDENTITY_FILE = 'KVS_RAFT_ID';

export interface RaftIdentity {
  raftId: number;
  /** Random, created with the data dir: a wiped/replaced dir gets a new one (raftstore/identity.ts). */
  incarnation: string;
  /** The identity file was created (or completed with an incarnation) by this start. */
  created: boolean;
}

/**
 * A data directory belongs to one raft id forever: the first start records it; a later start with a
 * different id (a stale volume of a removed member, a volume attached to the wrong pod) is refused,
 * so an old member can never come back under a new identity or vice versa. The first start also mints
 * the data dir's incarnation, which peers use to tell a wiped dir restarted under the same id.
 */
export function checkRaftIdentity(dataDir: string, raftId: number): RaftIdentity {
  const file = joinPath(dataDir, RAFT_IDENTITY_FILE);
  if (existsSync(file)) {
    const lines = readFileSync(file, 'utf8').split(/\r?\n/).map((l) => l.trim());
    const recorded = lines[0] ?? '';
    if (recorded !== String(raftId)) {
      throw new ConfigError(
        `data directory ${dataDir} belongs to raft id ${recorded}, but this node was started as raft id ${raftId}: refusing to start ` +
          `(a stale volume of a removed member must not rejoin; delete the volume or start with --raft-id ${recorded})`,
      );
    }
    const m = /^incarnation ([0-9a-f]+)$/.exec(lines[1] ?? '');
    if (m !== null) {
      if (!isIncarnation(m[1]!)) throw new ConfigError(`${file}: malformed incarnation ${JSON.stringify(m[1])} (expected 32 hex digits)`);
      return { raftId, incarnation: m[1]!, created: false };
    }
    if ((lines[1] ?? '') !== '') throw new ConfigError(`${file}: malformed second line ${JSON.stringify(lines[1])} (expected "incarnation <32 hex digits>")`);
  }
  const incarnation = generateIncarnation();
  // Durable (temp + fsync + rename + dir fsync): a power cut must not leave no identity, or a restart
  // would mint a second incarnation for the same data.
  writeFileDurablySync(file, `${raftId}\nincarnation ${incarnation}\n`);
  return { raftId, incarnation, created: true };
}

export function parseConfig(argv: string[], env: NodeJS.ProcessEnv = process.env, out: { writeOut?: (s: string) => void; writeErr?: (s: string) => void; readFile?: (path: string) => string } = {}): NodeConfig {
  const cmd = configCommand(packageVersion());
  let help = '';
  cmd.exitOverride();
  cmd.configureOutput({
    writeOut: out.writeOut ?? ((s) => (help += s)),
    writeErr: out.writeErr ?? (() => undefined),
  });
  try {
    cmd.parse(argv, { from: 'user' });
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.help' || err.code === 'commander.version') throw new HelpShown(help);
      throw new ConfigError(err.message.replace(/^error: /, ''));
    }
    throw err;
  }
  const opts = cmd.opts<Record<string, string | boolean | undefined>>();
  const envFile = typeof opts['envFile'] === 'string' ? opts['envFile'] : env[SPECS.envFile.env] || undefined;
  if (envFile !== undefined) {
    let vars: Record<string, string>;
    try {
      vars = parseEnvFile((out.readFile ?? ((p: string) => readFileSync(p, 'utf8')))(envFile));
    } catch (err) {
      throw new ConfigError(`--env-file: ${envFile}: ${err instanceof Error ? err.message : String(err)}`);
    }
    env = { ...vars, ...env };
  }

  const raw = (k: Key): string | undefined => {
    const v = opts[k];
    if (typeof v === 'string') return v;
    if (v === true) return 'true';
    const e = env[SPECS[k].env];
    if (e !== undefined && e !== '') return e;
    return (SPECS[k] as Spec).def;
  };
  const where = (k: Key) => (opts[k] !== undefined ? SPECS[k].flag.split(' ')[0]! : env[SPECS[k].env] ? SPECS[k].env : SPECS[k].flag.split(' ')[0]!);
  const wrap = <T>(k: Key, fn: (s: string) => T): T | undefined => {
    const s = raw(k);
    if (s === undefined) return undefined;
    try {
      return fn(s);
    } catch (err) {
      throw new ConfigError(`${where(k)}: ${err instanceof Error ? err.message.replace(/^[^:]+: /, '') : String(err)}`);
    }
  };
  const address = (k: Key) =>
    wrap(k, (s) => {
      const { host, port } = splitHostPort(s);
      if (!host) throw new Error(`missing host in ${JSON.stringify(s)} (use 0.0.0.0:${port} to listen on all interfaces)`);
      return s.trim();
    });
  const int = (k: Key) =>
    wrap(k, (s) => {
      if (!/^\d+$/.test(s.trim())) throw new Error(`expected a positive integer, got ${JSON.stringify(s)}`);
      return Number(s);
    });
  const size = (k: Key) => wrap(k, (s) => parseSize(s));
  const duration = (k: Key) => wrap(k, (s) => parseDuration(s));
  const bool = (k: Key) => wrap(k, (s) => {
    if (/^(1|true|yes|on)$/i.test(s)) return true;
    if (/^(0|false|no|off)$/i.test(s)) return false;
    throw new Error(`expected true or false, got ${JSON.stringify(s)}`);
  }) ?? false;

  const listen = address('listen')!;
  const httpRaw = raw('http');
  const http = httpRaw === undefined || /^(off|none|false|)$/i.test(httpRaw.trim()) ? undefined : address('http');
  const memory = bool('memory');
  const dataDir = memory ? undefined : raw('dataDir');
  if (!memory && !dataDir) throw new ConfigError('--data-dir: must not be empty (or use --memory)');
  const nodeId = raw('nodeId') ?? hostname();
  if (!/^[A-Za-z0-9._-]{1,63}$/.test(nodeId)) throw new ConfigError(`${where('nodeId')}: ${JSON.stringify(nodeId)} is not a valid node id (1..63 characters of [A-Za-z0-9._-])`);
  const logLevel = raw('logLevel')!.toLowerCase();
  if (!(LOG_LEVELS as readonly string[]).includes(logLevel)) throw new ConfigError(`${where('logLevel')}: unknown level ${JSON.stringify(logLevel)} (expected ${LOG_LEVELS.join(', ')})`);

  let limits: Limits;
  try {
    limits = resolveLimits({
      maxKeyBytes: size('maxKeyBytes'),
      maxValueBytes: size('maxValueBytes'),
      maxBatchMutations: int('maxBatchMutations'),
      defaultScanLimit: int('defaultScanLimit'),
      maxScanLimit: int('maxScanLimit'),
      maxScanResponseBytes: size('maxScanResponseBytes'),
      maxReceiveMessageBytes: size('maxMessageBytes'),
      maxTxnIdleTimeoutMs: duration('maxTxnIdleTimeout'),
      maxStreamInFlight: int('maxStreamInFlight'),
    });
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    throw new ConfigError(`limits: ${err instanceof Error ? err.message : String(err)}`);
  }
  const shutdownTimeoutMs = duration('shutdownTimeout')!;

  let raft: RaftConfig | undefined;
  const join = bool('join');
  const peersRaw = raw('peers');
  if (peersRaw !== undefined || join) {
    const raftId = int('raftId');
    if (raftId === undefined || raftId <= 0) throw new ConfigError('--raft-id: required (a positive integer) with --peers or --join');
    const peers = peersRaw !== undefined ? wrap('peers', (x) => parsePeers(x))! : new Map<number, string>();
    if (!join && !peers.has(raftId)) throw new ConfigError(`--peers: must contain this node's --raft-id ${raftId}`);
    const raftListen = raw('raftListen') !== undefined ? address('raftListen')! : (peers.get(raftId) ?? listen);
    raft = {
      raftId,
      peers,
      join,
      raftListen,
      advertiseClient: raw('advertise') !== undefined ? address('advertise')! : listen,
      tickMs: duration('raftTick')!,
      electionTick: int('electionTick')!,
      heartbeatTick: int('heartbeatTick')!,
      leaseRead: bool('leaseRead'),
      raftQuiesce: bool('raftQuiesce'),
      raftWal: bool('raftWal'),
      raftAsyncAppend: bool('raftAsyncAppend'),
      maxClockDrift: wrap('maxClockDrift', (s) => {
        const x = Number(s.trim());
        if (!/^\d*\.?\d+$/.test(s.trim()) || !(x >= 0 && x <= 0.5)) throw new Error(`expected a fraction in [0, 0.5], got ${JSON.stringify(s)}`);
        return x;
      })!,
      compactThreshold: int('raftCompactThreshold')!,
      compactKeep: int('raftCompactKeep')!,
      rangeMaxBytes: size('rangeMaxBytes') ?? 0,
      txnLockTtlMs: duration('txnLockTtl')!,
      txnParallelCommit: bool('txnParallelCommit'),
      txnSecondaryHoldMs: duration('txnSecondaryHold')!,
      identityCheck: !bool('testDisableIdentityCheck'),
      staleNotices: !bool('testDisableStaleNotices'),
    };
    if (raft.tickMs <= 0) throw new ConfigError('--raft-tick: must be > 0');
    if (!(raft.txnLockTtlMs >= 100 && raft.txnLockTtlMs <= 600_000)) throw new ConfigError('--txn-lock-ttl: must be between 100ms and 10m');
    if (raft.electionTick < 2) throw new ConfigError('--election-tick: must be >= 2');
    // Raft needs followers to hear from their leader well within an election timeout (etcd-raft requires
    // electionTick > heartbeatTick).
    if (raft.heartbeatTick < 1 || raft.heartbeatTick >= raft.electionTick) throw new ConfigError(`--heartbeat-tick: must be >= 1 and below --election-tick (${raft.electionTick})`);
  }
  const tlsFiles = { certFile: raw('certFile'), keyFile: raw('keyFile'), trustedCaFile: raw('trustedCaFile') };
  let tls: TlsConfig | undefined;
  if (Object.values(tlsFiles).some((v) => v !== undefined)) {
    const missing = (['certFile', 'keyFile', 'trustedCaFile'] as const).filter((k) => !tlsFiles[k]).map((k) => SPECS[k].flag.split(' ')[0]!);
    if (missing.length > 0) throw new ConfigError(`${missing.join(', ')}: required with ${(['certFile', 'keyFile', 'trustedCaFile'] as const).filter((k) => tlsFiles[k]).map((k) => where(k)).join(', ')} (TLS needs a certificate, its key and the trusted CA)`);
    const identities = (k: 'adminIdentities' | 'peerIdentities') =>
      wrap(k, (x) => {
        const list = x.split(',').map((v) => v.trim()).filter(Boolean);
        if (list.length === 0) throw new Error('must name at least one identity');
        for (const v of list) if (/\s/.test(v) || (v.includes('*') && !/^\*\.[^*]+$/.test(v))) throw new Error(`malformed identity ${JSON.stringify(v)} (a name, or *.suffix)`);
        return list;
      })!;
    tls = {
      certFile: tlsFiles.certFile!,
      keyFile: tlsFiles.keyFile!,
      trustedCaFile: tlsFiles.trustedCaFile!,
      adminIdentities: identities('adminIdentities'),
      peerIdentities: identities('peerIdentities'),
      reloadMs: duration('tlsReloadInterval')!,
      transition: bool('tlsTransition'),
    };
    if (tls.reloadMs <= 0) throw new ConfigError(`${where('tlsReloadInterval')}: must be > 0`);
  }
  if (tls === undefined && bool('tlsTransition')) throw new ConfigError(`${where('tlsTransition')}: needs --cert-file, --key-file and --trusted-ca-file (the TLS side of the transition)`);
  const adminListen = raw('adminListen') !== undefined ? address('adminListen') : undefined;
  if (adminListen !== undefined && raft === undefined) throw new ConfigError(`${where('adminListen')}: only a replicated node (--peers or --join) serves the Admin API`);
  if (adminListen !== undefined && adminListen === listen) throw new ConfigError(`${where('adminListen')}: equals --listen (leave it unset to serve Admin on the --listen server)`);
  return {
    tls,
    adminListen,
    raft,
    listen,
    http,
    dataDir,
    nodeId,
    logLevel: logLevel as NodeConfig['logLevel'],
    limits,
    gcLifetimeMs: duration('gcLifetime'),
    gcIntervalMs: duration('gcInterval'),
    txnIdleTimeoutMs: duration('txnIdleTimeout'),
    sessionTtlMs: duration('sessionTtl'),
    shutdownTimeoutMs,
  };
}
