// kvs-node configuration: command-line flags, then KVS_* environment variables, then defaults.
// parseConfig is pure (argv + env in, config or ConfigError out) so it is unit-tested directly.
import { Command, CommanderError, Option } from 'commander';
import { hostname } from 'node:os';
import { parseDuration, parseSize } from '../common/units.js';
import { resolveLimits, type Limits } from './validate.js';
import { packageVersion, splitHostPort } from './node-server.js';

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
  txnIdleTimeoutMs: number | undefined;
  sessionTtlMs: number | undefined;
  /** How long a graceful shutdown waits for in-flight calls. */
  shutdownTimeoutMs: number;
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
  maxMessageBytes: { flag: '--max-message-bytes <size>', env: 'KVS_MAX_MESSAGE_BYTES', desc: 'grpc max_receive_message_length', def: '8MiB' },
  maxTxnIdleTimeout: { flag: '--max-txn-idle-timeout <duration>', env: 'KVS_MAX_TXN_IDLE_TIMEOUT', desc: 'largest idle timeout a Begin may ask for', def: '10m' },
  gcLifetime: { flag: '--gc-lifetime <duration>', env: 'KVS_GC_LIFETIME', desc: 'MVCC versions older than this may be garbage-collected (store default)' },
  txnIdleTimeout: { flag: '--txn-idle-timeout <duration>', env: 'KVS_TXN_IDLE_TIMEOUT', desc: 'default idle timeout of interactive transactions (store default)' },
  sessionTtl: { flag: '--session-ttl <duration>', env: 'KVS_SESSION_TTL', desc: 'exactly-once sessions idle longer than this are forgotten (store default)' },
  shutdownTimeout: { flag: '--shutdown-timeout <duration>', env: 'KVS_SHUTDOWN_TIMEOUT', desc: 'graceful shutdown waits this long for in-flight calls', def: '10s' },
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
export function parseConfig(argv: string[], env: NodeJS.ProcessEnv = process.env, out: { writeOut?: (s: string) => void; writeErr?: (s: string) => void } = {}): NodeConfig {
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
    });
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    throw new ConfigError(`limits: ${err instanceof Error ? err.message : String(err)}`);
  }
  const shutdownTimeoutMs = duration('shutdownTimeout')!;
  return {
    listen,
    http,
    dataDir,
    nodeId,
    logLevel: logLevel as NodeConfig['logLevel'],
    limits,
    gcLifetimeMs: duration('gcLifetime'),
    txnIdleTimeoutMs: duration('txnIdleTimeout'),
    sessionTtlMs: duration('sessionTtl'),
    shutdownTimeoutMs,
  };
}
