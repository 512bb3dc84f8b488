// kvsctl: command-line client of kvs (built on the client library). The entry point is ./kvsctl.ts;
// this module holds the program so tests can run it in-process with their own stdio.
import { Command, CommanderError, Option } from 'commander';
import {
  AdminClient,
  KvClient,
  KvError,
  collectShardMap,
  describeStep,
  drainStore,
  moveReplica,
  DrainIncompleteError,
  DrainUnknownStoreError,
  type AdminResult,
  type ClusterSettings,
  type KeyValue,
  type ShardMap,
} from '../client/index.js';
import { parseDuration } from '../common/units.js';
import { prefixEnd } from '../engine/engine.js';
import { ReloadingTls } from '../common/tls.js';
import { parseTxnScript, TxnScriptError } from './txn-script.js';

export const EXIT_OK = 0;
export const EXIT_ERROR = 1;
export const EXIT_USAGE = 2;
export const EXIT_CONDITION = 3;

export interface Io {
  stdout: { write(s: string | Uint8Array): unknown };
  stderr: { write(s: string): unknown };
  /** Reads all of stdin (for `put K` without a value and `txn`). */
  readStdin(): Promise<Buffer>;
  stdinIsTTY: boolean;
  env: NodeJS.ProcessEnv;
}

type Encoding = 'utf8' | 'hex' | 'base64';

interface Globals {
  endpoints: string;
  adminEndpoints?: string;
  cacert?: string;
  cert?: string;
  key?: string;
  timeout: string;
  json: boolean;
  encoding: Encoding;
}

class UsageError extends Error {}
class ConditionFailed extends Error {}

const HELP_AFTER = `
Keys and values are UTF-8 text by default; --encoding hex|base64 applies to arguments and output.

Output: plain text by default (get prints the value; scan prints key and value lines like etcdctl),
or one JSON document per command with --json (bytes as strings in the chosen encoding).

Exit codes:
  0  success — including "get" of a missing key, which prints nothing (like etcdctl);
     use "get --require" to turn a missing key into exit code 3
  1  error (one line on stderr: "kvsctl: <message>"), e.g. server unavailable, invalid argument
  2  usage error (unknown command or option, missing argument)
  3  condition not met: "get --require" on a missing key, failed "put --if-absent" / "--if-value"

Environment: KVS_ENDPOINTS (default 127.0.0.1:7379, the "make run" node), KVS_TIMEOUT, KVS_ADMIN_ENDPOINTS,
KVS_CACERT, KVS_CERT, KVS_KEY.

TLS (nodes started with --cert-file/--key-file/--trusted-ca-file): --cacert verifies the nodes,
--cert/--key is this client's certificate. Admin commands (member, leader, raft, settings) need an admin
identity's certificate (the nodes' --admin-identities, default CN kvs-admin); others get PERMISSION_DENIED.
  kvsctl --cacert ca.crt --cert admin.crt --key admin.key member list

Examples:
  kvsctl put greeting hello
  kvsctl get greeting
  kvsctl scan --prefix user/ --limit 10
  kvsctl del --prefix user/
  printf 'get a\\nput a 2\\nput b "x y"\\n' | kvsctl txn
  kvsctl --json status
  kvsctl member list                      (replicated cluster: members, roles, progress)
  kvsctl member add 4 127.0.0.4:7400 && kvsctl member promote 4
  kvsctl member remove 2 [--force]
  kvsctl leader transfer 3
  kvsctl store drain 2 --dry-run          (then without --dry-run: replicas and leaderships off store 2)
  kvsctl raft snapshot && kvsctl raft compact   (on every --endpoints node)`;

function decodeArg(s: string, enc: Encoding, what: string): Buffer {
  if (enc === 'utf8') return Buffer.from(s, 'utf8');
  if (enc === 'hex' && !/^(?:[0-9a-fA-F]{2})*$/.test(s)) throw new UsageError(`${what}: not valid hex: ${JSON.stringify(s)}`);
  if (enc === 'base64' && !/^[A-Za-z0-9+/]*={0,2}$/.test(s)) throw new UsageError(`${what}: not valid base64: ${JSON.stringify(s)}`);
  return Buffer.from(s, enc);
}

function encodeOut(b: Buffer, enc: Encoding): string {
  return b.toString(enc);
}

function parseIntArg(s: string, what: string): number {
  if (!/^\d+$/.test(s)) throw new UsageError(`${what}: expected a non-negative integer, got ${JSON.stringify(s)}`);
  return Number(s);
}

export async function runKvsctl(argv: string[], io: Io): Promise<number> {
  let client: KvClient | undefined;
  let exit = EXIT_OK;

  const program = new Command('kvsctl')
    .description('Command-line client of the kvs key-value store.')
    .addOption(new Option('--endpoints <list>', 'comma-separated host:port list').env('KVS_ENDPOINTS').default('127.0.0.1:7379'))
    .addOption(new Option('--timeout <duration>', 'deadline of each command including retries (e.g. 500ms, 5s)').env('KVS_TIMEOUT').default('5s'))
    .addOption(new Option('--admin-endpoints <list>', 'where admin commands go, when the nodes serve Admin on a separate --admin-listen address (default --endpoints)').env('KVS_ADMIN_ENDPOINTS'))
    .addOption(new Option('--cacert <file>', 'TLS: CA bundle verifying the nodes\' certificates').env('KVS_CACERT'))
    .addOption(new Option('--cert <file>', 'TLS: this client\'s certificate (with --key)').env('KVS_CERT'))
    .addOption(new Option('--key <file>', 'TLS: the private key of --cert').env('KVS_KEY'))
    .option('--json', 'print JSON', false)
    .addOption(new Option('--encoding <enc>', 'encoding of keys and values in arguments and output').choices(['utf8', 'hex', 'base64']).default('utf8'))
    .helpOption('-h, --help', 'show help')
    .addHelpText('after', HELP_AFTER)
    .showSuggestionAfterError(true)
    .exitOverride()
    .configureOutput({
      writeOut: (s) => io.stdout.write(s),
      writeErr: (s) => io.stderr.write(s),
      outputError: (s, write) => write(`kvsctl: ${s.replace(/^error: /, '')}`),
    });
  // commander reads env through process.env; honour the injected env instead.
  const envBackup: Record<string, string | undefined> = {};
  for (const k of ['KVS_ENDPOINTS', 'KVS_TIMEOUT', 'KVS_ADMIN_ENDPOINTS', 'KVS_CACERT', 'KVS_CERT', 'KVS_KEY']) {
    envBackup[k] = process.env[k];
    if (io.env[k] !== undefined) process.env[k] = io.env[k];
    else delete process.env[k];
  }

  const g = (): Globals => program.opts<Globals>();
  // One set of TLS material for both clients; a bad file fails here, naming the flag and the reason.
  let tls: ReloadingTls | undefined;
  const getTls = (): ReloadingTls | undefined => {
    if (tls) return tls;
    const { cacert, cert, key } = g();
    if (cacert === undefined && cert === undefined && key === undefined) return undefined;
    if (cacert === undefined) throw new UsageError('--cacert is required with --cert/--key (the CA that signed the nodes\' certificates)');
    tls = new ReloadingTls({ sources: { ca: cacert, ...(cert !== undefined ? { cert } : {}), ...(key !== undefined ? { key } : {}), labels: { ca: '--cacert', cert: '--cert', key: '--key' } }, pollMs: 0, role: 'kvsctl' });
    return tls;
  };
  const getClient = (): KvClient => {
    if (client) return client;
    const timeoutMs = (() => {
      try {
        return parseDuration(g().timeout, '--timeout');
      } catch (err) {
        throw new UsageError((err as Error).message);
      }
    })();
    const t = getTls();
    client = new KvClient({ endpoints: g().endpoints, timeoutMs, attemptTimeoutMs: Math.min(timeoutMs, 5000), ...(t ? { tls: t } : {}) });
    return client;
  };
  const out = (s: string | Uint8Array) => io.stdout.write(s);
  const json = (v: unknown) => out(JSON.stringify(v) + '\n');
  const enc = () => g().encoding;
  const kvJson = (kv: KeyValue, keysOnly = false) => (keysOnly ? { key: encodeOut(kv.key, enc()), version: kv.version } : { key: encodeOut(kv.key, enc()), value: encodeOut(kv.value, enc()), version: kv.version });
  const writeBytes = (b: Buffer) => {
    if (enc() === 'utf8') out(Buffer.concat([b, Buffer.from('\n')]));
    else out(encodeOut(b, enc()) + '\n');
  };

  program
    .command('put')
    .description('set KEY to VALUE (VALUE is read from stdin when omitted)')
    .argument('<key>')
    .argument('[value]')
    .option('--if-absent', 'only if KEY does not exist (exit 3 otherwise)')
    .option('--if-value <value>', 'only if the current value equals this (exit 3 otherwise)')
    .option('--prev', 'print the previous value')
    .action(async (key: string, value: string | undefined, o: { ifAbsent?: boolean; ifValue?: string; prev?: boolean }) => {
      if (o.ifAbsent && o.ifValue !== undefined) throw new UsageError('--if-absent and --if-value exclude each other');
      let v: Buffer;
      if (value === undefined) {
        if (io.stdinIsTTY) throw new UsageError('missing value (give it as an argument or on stdin)');
        v = await io.readStdin();
      } else {
        v = decodeArg(value, enc(), 'value');
      }
      const r = await getClient().put(decodeArg(key, enc(), 'key'), v, {
        ...(o.ifAbsent ? { expectAbsent: true } : {}),
        ...(o.ifValue !== undefined ? { expectedValue: decodeArg(o.ifValue, enc(), '--if-value') } : {}),
        ...(o.prev ? { returnPrev: true } : {}),
      });
      if (g().json) {
        json({ succeeded: r.succeeded, version: r.version, ...(o.prev || !r.succeeded ? { prevFound: r.prevFound, ...(r.prevValue ? { prevValue: encodeOut(r.prevValue, enc()) } : {}) } : {}) });
      } else if (r.succeeded) {
        out('OK\n');
        if (o.prev && r.prevValue) writeBytes(r.prevValue);
      }
      if (!r.succeeded) throw new ConditionFailed(o.ifAbsent ? 'compare failed: the key exists' : 'compare failed: the current value differs');
    });

  program
    .command('get')
    .description('print the value of KEY (nothing, exit 0, when it does not exist)')
    .argument('<key>')
    .option('--require', 'exit 3 (with a message) when KEY does not exist')
    .option('--print-key', 'print the key on a line before the value')
    .option('--at <ts>', 'read at this snapshot timestamp')
    .action(async (key: string, o: { require?: boolean; printKey?: boolean; at?: string }) => {
      const k = decodeArg(key, enc(), 'key');
      const r = await getClient().get(k, o.at ? { snapshotTs: parseIntArg(o.at, '--at') } : {});
      if (g().json) {
        json({ key: encodeOut(k, enc()), found: r.found, ...(r.found ? { value: encodeOut(r.value!, enc()), version: r.version } : {}), readTs: r.readTs });
      } else if (r.found) {
        if (o.printKey) writeBytes(k);
        writeBytes(r.value!);
      }
      if (!r.found && o.require) throw new ConditionFailed(`key not found: ${JSON.stringify(key)}`);
    });

  program
    .command('del')
    .alias('delete')
    .description('delete KEY, or every key with prefix (--prefix P) or in [--from A, --to B); prints the number deleted')
    .argument('[key]')
    .option('--prefix <prefix>', 'delete all keys with this prefix')
    .option('--from <start>', 'delete keys >= start')
    .option('--to <end>', 'delete keys < end')
    .action(async (key: string | undefined, o: { prefix?: string; from?: string; to?: string }) => {
      const ranged = o.prefix !== undefined || o.from !== undefined || o.to !== undefined;
      if (ranged && key !== undefined) throw new UsageError('give either KEY or --prefix/--from/--to, not both');
      if (!ranged && key === undefined) throw new UsageError('missing KEY (or --prefix/--from/--to)');
      if (o.prefix !== undefined && (o.from !== undefined || o.to !== undefined)) throw new UsageError('--prefix excludes --from/--to');
      let deleted: number;
      let version: number;
      if (ranged) {
        const r = await getClient().deleteRange({
          ...(o.prefix !== undefined ? { prefix: decodeArg(o.prefix, enc(), '--prefix') } : {}),
          ...(o.from !== undefined ? { start: decodeArg(o.from, enc(), '--from') } : {}),
          ...(o.to !== undefined ? { end: decodeArg(o.to, enc(), '--to') } : {}),
        });
        deleted = r.deleted;
        version = r.version;
      } else {
        const r = await getClient().delete(decodeArg(key!, enc(), 'key'));
        deleted = r.deleted ? 1 : 0;
        version = r.version;
      }
      if (g().json) json({ deleted, version });
      else out(`${deleted}\n`);
    });

  program
    .command('scan')
    .description('list keys and values of a range: --prefix P, or --from A --to B (default: everything)')
    .option('--prefix <prefix>', 'keys with this prefix')
    .option('--from <start>', 'keys >= start')
    .option('--to <end>', 'keys < end')
    .option('--limit <n>', 'at most N pairs (default: all, fetched page by page)')
    .option('--keys-only', 'print keys only')
    .option('--reverse', 'descending key order')
    .option('--at <ts>', 'read at this snapshot timestamp')
    .action(async (o: { prefix?: string; from?: string; to?: string; limit?: string; keysOnly?: boolean; reverse?: boolean; at?: string }) => {
      if (o.prefix !== undefined && (o.from !== undefined || o.to !== undefined)) throw new UsageError('--prefix excludes --from/--to');
      const limit = o.limit !== undefined ? parseIntArg(o.limit, '--limit') : undefined;
      if (limit === 0) throw new UsageError('--limit: must be at least 1');
      const start = o.from !== undefined ? decodeArg(o.from, enc(), '--from') : undefined;
      const end = o.to !== undefined ? decodeArg(o.to, enc(), '--to') : undefined;
      if (start && end && start.length > 0 && end.length > 0 && Buffer.compare(start, end) > 0) throw new UsageError('--from must be <= --to');
      const kvs = await getClient().scanAll({
        ...(o.prefix !== undefined ? { prefix: decodeArg(o.prefix, enc(), '--prefix') } : {}),
        ...(start ? { start } : {}),
        ...(end ? { end } : {}),
        ...(limit !== undefined ? { limit: limit + 1, pageSize: Math.min(limit + 1, 1000) } : {}),
        keysOnly: !!o.keysOnly,
        reverse: !!o.reverse,
        ...(o.at ? { snapshotTs: parseIntArg(o.at, '--at') } : {}),
      });
      const more = limit !== undefined && kvs.length > limit;
      const shown = more ? kvs.slice(0, limit) : kvs;
      if (g().json) {
        json({ kvs: shown.map((kv) => kvJson(kv, o.keysOnly)), count: shown.length, more });
        return;
      }
      for (const kv of shown) {
        writeBytes(kv.key);
        if (!o.keysOnly) writeBytes(kv.value);
      }
    });

  program
    .command('txn')
    .description('run the operations read from stdin in one serializable transaction: lines "get K", "put K V", "del K"')
    .option('--read-only', 'a read-only transaction')
    .option('--attempts <n>', 'attempts on conflict', '10')
    .addHelpText(
      'after',
      `
Script syntax: one operation per line; blank lines and lines starting with # are ignored.
Quote keys/values with spaces using JSON strings ("a b", "tab\\there"); for put an unquoted value is
the rest of the line. Keys and values in scripts are UTF-8 (--encoding applies to the output only).
On conflict the whole script is retried (up to --attempts times); only the final attempt's results are
printed: for each get, the key and value lines when the key exists (nothing when it does not).`,
    )
    .action(async (o: { readOnly?: boolean; attempts: string }) => {
      const attempts = parseIntArg(o.attempts, '--attempts');
      if (attempts < 1) throw new UsageError('--attempts: must be at least 1');
      const text = (await io.readStdin()).toString('utf8');
      let ops;
      try {
        ops = parseTxnScript(text);
      } catch (err) {
        if (err instanceof TxnScriptError) throw new UsageError(err.message);
        throw err;
      }
      if (o.readOnly && ops.some((op) => op.op !== 'get')) throw new UsageError('--read-only transaction cannot put or del');
      const outcome = await getClient().txnDetailed(
        async (tx) => {
          const results: { op: string; key: string; found?: boolean; value?: Buffer }[] = [];
          for (const op of ops) {
            if (op.op === 'get') {
              const r = await tx.get(op.key);
              results.push({ op: 'get', key: op.key, found: r.found, ...(r.found ? { value: r.value! } : {}) });
            } else if (op.op === 'put') {
              await tx.put(op.key, op.value);
              results.push({ op: 'put', key: op.key });
            } else {
              await tx.delete(op.key);
              results.push({ op: 'del', key: op.key });
            }
          }
          return results;
        },
        { maxAttempts: attempts, readOnly: !!o.readOnly },
      );
      if (g().json) {
        json({
          commitTs: outcome.commitTs,
          attempts: outcome.attempts,
          results: outcome.result.map((r) => ({
            op: r.op,
            key: encodeOut(Buffer.from(r.key, 'utf8'), enc()),
            ...(r.op === 'get' ? { found: r.found, ...(r.value ? { value: encodeOut(r.value, enc()) } : {}) } : {}),
          })),
        });
        return;
      }
      for (const r of outcome.result) {
        if (r.op === 'get' && r.found) {
          writeBytes(Buffer.from(r.key, 'utf8'));
          writeBytes(r.value!);
        }
      }
    });

  program
    .command('status')
    .description('status of every endpoint (exit 1 when any is unreachable)')
    .action(async () => {
      const c = getClient();
      const rows = await Promise.all(
        c.endpoints.map(async (endpoint) => {
          try {
            return { endpoint, ok: true as const, status: await c.status({ endpoint }) };
          } catch (err) {
            return { endpoint, ok: false as const, error: err instanceof Error ? err.message : String(err) };
          }
        }),
      );
      if (g().json) {
        json(rows.map((r) => (r.ok ? { endpoint: r.endpoint, ok: true, ...r.status } : r)));
      } else {
        for (const r of rows) {
          if (r.ok) {
            const s = r.status;
            out(
              `${r.endpoint}  node=${s.nodeId} version=${s.version} applied_ts=${s.appliedTs} safe_point=${s.safePoint} ` +
                `bytes=${s.approximateBytes} active_txns=${s.activeTxns} uptime=${(s.uptimeMs / 1000).toFixed(1)}s\n`,
            );
          } else {
            out(`${r.endpoint}  UNREACHABLE  ${r.error}\n`);
          }
        }
      }
      const failed = rows.filter((r) => !r.ok);
      if (failed.length > 0) throw new Error(`${failed.length} of ${rows.length} endpoint(s) unreachable`);
    });

  // ---- cluster administration (kvs.v1.Admin) ----
  let adminClient: AdminClient | undefined;
  const getAdmin = (): AdminClient => {
    if (adminClient) return adminClient;
    const t = getTls();
    const separate = g().adminEndpoints;
    adminClient = new AdminClient(separate ?? g().endpoints, { timeoutMs: Math.max(parseDuration(g().timeout, '--timeout'), 15_000), ...(t ? { tls: t } : {}), followAnyLeaderHint: separate === undefined });
    return adminClient;
  };
  const printResult = (r: AdminResult) => {
    if (g().json) json({ ok: r.ok, message: r.message, ...(r.status ? { leaderId: Number(r.status.leaderId), members: r.status.members } : {}) });
    else out(`${r.message}\n`);
  };
  const raftIdArg = (s: string) => {
    const n = parseIntArg(s, 'raft id');
    if (n <= 0) throw new UsageError('raft id must be a positive integer');
    return n;
  };
  const member = program.command('member').description('Raft membership of the cluster (runs on the leader; follows leader hints)');
  member
    .command('list')
    .description('members with roles and replication progress (from the leader when reachable)')
    .action(async () => {
      const a = getAdmin();
      let st = await a.status();
      if (st.role !== 'Leader' && st.leaderAddress) st = await a.status(st.leaderAddress).catch(() => st);
      if (g().json) {
        json({ leaderId: Number(st.leaderId), leaderAddress: st.leaderAddress, term: Number(st.term), commit: Number(st.commit), members: st.members.map((m) => ({ raftId: Number(m.raftId), role: m.role, address: m.address, match: Number(m.match), next: Number(m.next), state: m.state, recentActive: m.recentActive })) });
      } else {
        out(`leader=${st.leaderId} (${st.leaderAddress || 'unknown'}) term=${st.term} commit=${st.commit}\n`);
        for (const m of st.members) out(`${m.raftId}\t${m.role}${Number(m.raftId) === Number(st.leaderId) ? '*' : ''}\t${m.address}\tmatch=${m.match} next=${m.next} ${m.state}${m.recentActive ? '' : ' (inactive)'}\n`);
      }
    });
  member
    .command('add-learner <raftId> <raftAddress>')
    .alias('add')
    .description('add a (started with --join) node as a learner; it receives a snapshot (then: member promote)')
    .action(async (id: string, address: string) => printResult(await getAdmin().addLearner(raftIdArg(id), address)));
  member
    .command('promote <raftId>')
    .description('promote a caught-up learner to voter (refused with FAILED_PRECONDITION otherwise)')
    .option('--max-lag <n>', 'entries behind the commit index still counted as caught up', '100')
    .action(async (id: string, o: { maxLag: string }) => printResult(await getAdmin().promote(raftIdArg(id), parseIntArg(o.maxLag, '--max-lag'))));
  member
    .command('remove <raftId>')
    .description('remove a member (refused if it would leave fewer healthy voters than a quorum, unless --force)')
    .option('--force', 'remove even if the remaining healthy voters are not a quorum', false)
    .action(async (id: string, o: { force: boolean }) => printResult(await getAdmin().removeMember(raftIdArg(id), o.force)));
  // Per-node log maintenance: every endpoint of --endpoints, one line each (a node that fails to answer
  // fails the command after the others ran).
  const raft = program.command('raft').description('Raft log maintenance on every endpoint of --endpoints');
  const perNode = async (what: (a: AdminClient, endpoint: string) => Promise<AdminResult>) => {
    const rows: Array<{ endpoint: string; ok: boolean; message: string }> = [];
    for (const e of getAdmin().endpoints) {
      try {
        const r = await what(getAdmin(), e);
        rows.push({ endpoint: e, ok: r.ok, message: r.message });
      } catch (err) {
        rows.push({ endpoint: e, ok: false, message: (err as Error).message });
      }
    }
    if (g().json) json(rows);
    else for (const r of rows) out(`${r.endpoint}\t${r.ok ? '' : 'ERROR '}${r.message}\n`);
    const failed = rows.filter((r) => !r.ok);
    if (failed.length > 0) throw new Error(`${failed.length} of ${rows.length} endpoint(s) failed`);
  };
  raft
    .command('snapshot')
    .description('take a snapshot at the applied index (what a lagging follower or a new learner receives)')
    .action(async () => perNode((a, e) => a.snapshot(e)));
  raft
    .command('compact [index]')
    .description('drop the log up to INDEX (default: the applied index minus the retained tail)')
    .action(async (index: string | undefined) => {
      const i = index === undefined ? 0 : parseIntArg(index, 'index');
      if (i < 0) throw new UsageError('index must be a non-negative integer');
      await perNode((a, e) => a.compact(i, e));
    });
  const settings = program.command('settings').description('replicated cluster settings (identical on every replica; change through the log)');
  const printSettings = (s: ClusterSettings): void => {
    if (g().json) json(s);
    else out(`session-ttl\t${s.sessionTtlMs} ms\nmax-results-per-session\t${s.maxResultsPerSession}\n${s.stored ? '' : '(defaults: never set)\n'}`);
  };
  settings
    .command('get')
    .description('print the settings in force')
    .action(async () => printSettings(await getAdmin().settings()));
  settings
    .command('set <name> <value>')
    .description('change one setting: session-ttl <duration> | max-results-per-session <n>')
    .action(async (name: string, value: string) => {
      if (name === 'session-ttl') printSettings(await getAdmin().settings({ sessionTtlMs: parseDuration(value, 'session-ttl') }));
      else if (name === 'max-results-per-session') printSettings(await getAdmin().settings({ maxResultsPerSession: parseIntArg(value, 'max-results-per-session') }));
      else throw new UsageError(`unknown setting ${JSON.stringify(name)} (session-ttl, max-results-per-session)`);
    });
  // Sharding: every endpoint reports the ranges it holds (client/range-moves.ts collectShardMap: the
  // newest epoch of each range wins and the leader's own report gives leader, size and load).
  const collectRanges = (): Promise<ShardMap> => collectShardMap(getAdmin());
  const bound = (b: Buffer, inf: string): string => (b.length === 0 ? inf : encodeOut(b, enc()));
  /** One decimal: a rate from a 10–20 s window has no more precision than that. */
  const round1 = (x: number): number => Math.round(x * 10) / 10;
  const locks = program.command('locks').description('locks of prepared cross-range transactions: what a blocked request waits for, and settling them');
  locks
    .command('list')
    .description('locks held on the stores of --endpoints (admin endpoints), by key: kind (write/read/range), transaction, primary key, age and TTL; "expired" marks one no request has settled yet')
    .option('--prefix <prefix>', 'keys with this prefix')
    .option('--from <start>', 'keys >= start')
    .option('--to <end>', 'keys < end')
    .option('--limit <n>', 'at most N locks per store', '1000')
    .action(async (o: { prefix?: string; from?: string; to?: string; limit: string }) => {
      if (o.prefix !== undefined && (o.from !== undefined || o.to !== undefined)) throw new UsageError('--prefix excludes --from/--to');
      const prefix = o.prefix !== undefined ? decodeArg(o.prefix, enc(), '--prefix') : undefined;
      const start = prefix ?? (o.from !== undefined ? decodeArg(o.from, enc(), '--from') : undefined);
      const end = prefix !== undefined ? prefixEnd(prefix) : o.to !== undefined ? decodeArg(o.to, enc(), '--to') : undefined;
      const r = await getAdmin().txnLocks({ ...(start ? { start } : {}), ...(end ? { end } : {}), limit: parseIntArg(o.limit, '--limit') });
      const rows = r.locks.map((l) => ({ ...l, expired: l.ageMs > l.ttlMs }));
      if (g().json) {
        json({
          locks: rows.map((l) => ({
            key: l.kind === 'range' ? null : encodeOut(l.key, enc()),
            ...(l.kind === 'range' ? { start: encodeOut(l.start, enc()), end: encodeOut(l.end, enc()) } : {}),
            kind: l.kind,
            txnId: l.txnId,
            primary: encodeOut(l.primary, enc()),
            rangeId: l.rangeId,
            prepareTs: l.prepareTs,
            ageMs: l.ageMs,
            ttlMs: l.ttlMs,
            expired: l.expired,
          })),
          more: r.more,
          unreachable: r.unreachable,
        });
        return;
      }
      out('KEY\tKIND\tTXN\tPRIMARY\tAGE\tTTL\tRANGE\n');
      for (const l of rows) {
        const where = l.kind === 'range' ? `[${bound(l.start, '-inf')}, ${bound(l.end, '+inf')})` : encodeOut(l.key, enc());
        out(`${where}\t${l.kind}\t${l.txnId}\t${encodeOut(l.primary, enc())}\t${l.ageMs}ms${l.expired ? ' (expired)' : ''}\t${l.ttlMs}ms\t${l.rangeId}\n`);
      }
      if (r.more) out('(more locks: narrow the span or raise --limit)\n');
      for (const e of r.unreachable) out(`(no answer from ${e})\n`);
    });
  locks
    .command('resolve <key>')
    .description("settle the locks on KEY now: each transaction is asked at its primary key's range; committed ones are rolled forward, aborted or expired ones back, live ones left alone")
    .option('--force', 'also abort live transactions holding a lock on KEY (their commit then fails; nothing committed is undone)', false)
    .action(async (key: string, o: { force: boolean }) => printResult(await getAdmin().resolveLocks(decodeArg(key, enc(), 'key'), o.force)));

  /**
   * Refuses a range id the meta directory does not list. Without this, a store answers "no replica of
   * range N here", a retryable error meant for a replica still on its way, and the user waits in vain.
   */
  const existingRange = async (rangeId: number): Promise<void> => {
    const routes = await getClient().routes();
    if (routes.length === 0 || routes.some((x) => x.rangeId === rangeId)) return; // an empty directory is still being filled
    const ids = routes.map((x) => x.rangeId).sort((a, b) => a - b);
    throw new UsageError(`range ${rangeId} does not exist (ranges: ${ids.join(', ')}); nothing was changed`);
  };
  const range = program.command('range').description('ranges (shards): each a Raft group holding [start, end) of the key space');
  range
    .command('list')
    .description('every range with its bounds, epoch, replicas, leader, approximate size, proposals and load (requests per second over its replicas, last 10–20 s)')
    .action(async () => {
      const { ranges } = await collectRanges();
      if (g().json) {
        json(
          ranges.map((r) => ({
            id: r.rangeId,
            start: encodeOut(r.start, enc()),
            end: encodeOut(r.end, enc()),
            epoch: { confVer: r.confVer, version: r.version },
            replicas: r.replicas.map((x) => ({ storeId: x.storeId, peerId: x.peerId, role: x.role })),
            leader: r.leaderId,
            leaderAddress: r.leaderAddress,
            approximateBytes: r.approximateBytes,
            proposals: r.proposals,
            readsPerSec: round1(r.readsPerSec),
            writesPerSec: round1(r.writesPerSec),
          })),
        );
        return;
      }
      out('ID\tSTART\tEND\tEPOCH\tREPLICAS\tLEADER\tSIZE\tPROPOSALS\tQPS\n');
      for (const r of ranges) {
        const reps = r.replicas.map((x) => `${x.storeId}${x.role === 'learner' ? '(L)' : ''}`).join(',');
        out(`${r.rangeId}\t${bound(r.start, '-inf')}\t${bound(r.end, '+inf')}\t${r.confVer}/${r.version}\t${reps}\t${r.leaderId || '?'}\t${r.approximateBytes}\t${r.proposals}\t${round1(r.readsPerSec + r.writesPerSec)}\n`);
      }
    });
  range
    .command('lookup <key>')
    .description("which range holds KEY, its replicas and leader, from the meta directory of the first endpoint")
    .action(async (key: string) => {
      const k = decodeArg(key, enc(), 'key');
      const routes = await getClient().routes();
      const r = routes.find((x) => Buffer.compare(x.start, k) <= 0 && (x.end.length === 0 || Buffer.compare(k, x.end) < 0));
      if (r === undefined) throw new Error(`no range record holds key ${key} (the meta directory is still being filled; retry)`);
      const reps = r.replicas.map((x) => ({ storeId: x.storeId, peerId: x.peerId, role: x.role }));
      if (g().json) json({ id: r.rangeId, start: encodeOut(r.start, enc()), end: encodeOut(r.end, enc()), epoch: { confVer: r.confVer, version: r.version }, replicas: reps, leader: r.leaderId, leaderAddress: r.leaderAddress });
      else out(`range ${r.rangeId} [${bound(r.start, '-inf')}, ${bound(r.end, '+inf')}) epoch ${r.confVer}/${r.version} replicas ${reps.map((x) => `${x.storeId}${x.role === 'learner' ? '(L)' : ''}`).join(',')} leader ${r.leaderId || '?'} ${r.leaderAddress}\n`);
    });
  range
    .command('split <key>')
    .description('split the range holding KEY at KEY (the right half starts at KEY; runs on that range\'s leader)')
    .action(async (key: string) => {
      const k = decodeArg(key, enc(), 'key');
      if (k.length === 0) throw new UsageError('key must not be empty');
      const { left, right } = await getAdmin().splitRange(k);
      if (g().json) json({ left: { id: left.rangeId, start: encodeOut(left.start, enc()), end: encodeOut(left.end, enc()), version: left.version }, right: { id: right.rangeId, start: encodeOut(right.start, enc()), end: encodeOut(right.end, enc()), version: right.version } });
      else out(`split: range ${left.rangeId} [${bound(left.start, '-inf')}, ${bound(left.end, '+inf')}) and range ${right.rangeId} [${bound(right.start, '-inf')}, ${bound(right.end, '+inf')})\n`);
    });
  range
    .command('move <range>')
    .description('move one replica of RANGE from store --from to store --to: learner → snapshot → promote → remove')
    .requiredOption('--from <store>', 'the store (raft id) giving up its replica')
    .requiredOption('--to <store>', 'the store (raft id) receiving one')
    .option('--timeout <duration>', 'how long the new replica may take to catch up', '60s')
    .action(async (r: string, o: { from: string; to: string; timeout: string }) => {
      const rangeId = parseIntArg(r, 'range');
      const from = raftIdArg(o.from);
      const to = raftIdArg(o.to);
      if (from === to) throw new UsageError('--from and --to must differ');
      await existingRange(rangeId);
      const steps: string[] = [];
      const { stores } = await collectRanges();
      const storeEndpoints = new Map(stores.filter((x) => x.error === undefined).map((x) => [x.storeId, x.endpoint]));
      await moveReplica(getAdmin(), rangeId, from, to, {
        timeoutMs: parseDuration(o.timeout, 'timeout'),
        storeEndpoints,
        onStep: (m) => {
          steps.push(m);
          if (!g().json) out(`${m}\n`);
        },
      });
      if (g().json) json({ range: rangeId, from, to, steps });
    });
  range
    .command('transfer-leader <range> <store>')
    .description('move the leadership of range RANGE to store STORE (its raft id) and wait until done')
    .action(async (r: string, st: string) => {
      const rangeId = parseIntArg(r, 'range');
      const to = raftIdArg(st);
      await existingRange(rangeId);
      printResult(await getAdmin().transferLeader(to, 5000, rangeId));
    });
  program
    .command('timestamp')
    .description("timestamps from the cluster's TSO (served by the meta range's leader): prints the first of COUNT consecutive ones")
    .option('--count <n>', 'how many consecutive timestamps (1..1024)', '1')
    .action(async (o: { count: string }) => {
      const count = parseIntArg(o.count, '--count');
      if (count < 1 || count > 1024) throw new UsageError('--count must be in [1, 1024]');
      const ts = await getClient().timestamp(count);
      // Physical part: ms since the epoch (ts >> 10).
      const physicalMs = Math.floor(ts / 1024);
      if (g().json) json({ timestamp: ts, count, physicalMs, logical: ts % 1024 });
      else out(`${ts}\t(${new Date(physicalMs).toISOString()} +${ts % 1024})\n`);
    });
  const store = program.command('store').description('stores (node processes) and what they hold');
  store
    .command('list')
    .description('every store of --endpoints: store id, ranges, leaders, approximate bytes, requests per second')
    .action(async () => {
      const { stores } = await collectRanges();
      if (g().json) json(stores.map((x) => ({ ...x, qps: round1(x.qps) })));
      else {
        out('STORE\tENDPOINT\tRANGES\tLEADERS\tBYTES\tQPS\n');
        for (const x of stores) out(x.error !== undefined ? `?\t${x.endpoint}\tERROR ${x.error}\n` : `${x.storeId}\t${x.endpoint}\t${x.ranges}\t${x.leaders}\t${x.bytes}\t${round1(x.qps)}\n`);
      }
    });
  store
    .command('drain <store>')
    .description('move every replica and every leadership off STORE (its raft id); a range every store already holds keeps its replica there and moves only its leadership')
    .option('--dry-run', 'print the plan, change nothing')
    .option('--move-timeout <duration>', 'how long one replica move (snapshot, catch-up) may take', '60s')
    .addHelpText(
      'after',
      `
--endpoints (or --admin-endpoints) should list every store: the drain sees the stores that answer.
Leaderships move first, then replicas (learner on the store with the fewest replicas → snapshot →
promote → remove). Running it again after an interruption continues where it stopped.`,
    )
    .action(async (st: string, o: { dryRun?: boolean; moveTimeout: string }) => {
      const storeId = raftIdArg(st);
      const moveTimeoutMs = parseDuration(o.moveTimeout, '--move-timeout');
      const events: Array<Record<string, unknown>> = [];
      try {
        const r = await drainStore(getAdmin(), storeId, {
          dryRun: !!o.dryRun,
          moveTimeoutMs,
          onEvent: (e) => {
            if (g().json) {
              events.push(e.type === 'plan' ? { pass: e.pass, plan: e.plan.steps } : e.ok ? { step: e.step, ok: true, messages: e.messages } : { step: e.step, ok: false, error: e.error });
              return;
            }
            if (e.type === 'plan') {
              const n = (t: string) => e.plan.steps.filter((x) => x.type === t).length;
              out(`plan (pass ${e.pass}) for store ${storeId}: ${n('transfer-leader')} leadership(s), ${n('move-replica')} replica move(s), ${n('remove-learner')} learner removal(s), ${n('keep-replica')} kept\n`);
              if (e.pass === 1 || o.dryRun) for (const x of e.plan.steps) out(`  ${describeStep(x)}\n`);
            } else if (e.ok) out(`done: ${describeStep(e.step)}${e.messages.length ? ` (${e.messages.join('; ')})` : ''}\n`);
            else out(`FAILED: ${describeStep(e.step)}: ${e.error}\n`);
          },
        });
        const keptText = r.kept.map((k) => `range ${k.rangeId}: ${k.reason}`).join('; ');
        if (g().json) json({ storeId, dryRun: r.dryRun, plan: r.plan.steps, events, movedReplicas: r.movedReplicas, movedLeaderships: r.movedLeaderships, removedLearners: r.removedLearners, kept: r.kept });
        else if (r.dryRun) out(`dry run: nothing changed\n`);
        else out(`drained store ${storeId}: moved ${r.movedReplicas} replica(s), moved ${r.movedLeaderships} leadership(s), removed ${r.removedLearners} learner(s), kept ${r.kept.length}${keptText ? ` (${keptText})` : ''}\n`);
      } catch (e) {
        if (g().json && (e instanceof DrainIncompleteError || e instanceof DrainUnknownStoreError)) json({ storeId, error: e.code, message: e.message, events });
        throw e;
      }
    });
  program
    .command('leader')
    .description('leadership')
    .command('transfer <raftId>')
    .description('move leadership to voter <raftId> and wait until done')
    .action(async (id: string) => printResult(await getAdmin().transferLeader(raftIdArg(id))));

  try {
    if (argv.length === 0) {
      program.outputHelp();
      return EXIT_USAGE;
    }
    await program.parseAsync(argv, { from: 'user' });
  } catch (err) {
    exit = exitCodeOf(err, io);
  } finally {
    client?.close();
    adminClient?.close();
    for (const [k, v] of Object.entries(envBackup)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
  return exit;
}

function exitCodeOf(err: unknown, io: Io): number {
  if (err instanceof CommanderError) {
    if (err.code === 'commander.helpDisplayed' || err.code === 'commander.help' || err.code === 'commander.version') return EXIT_OK;
    return EXIT_USAGE; // commander already printed the message
  }
  const oneLine = (s: string) => s.replace(/\s*\n\s*/g, ' ').trim();
  if (err instanceof UsageError) {
    io.stderr.write(`kvsctl: ${oneLine(err.message)}\n`);
    return EXIT_USAGE;
  }
  if (err instanceof ConditionFailed) {
    io.stderr.write(`kvsctl: ${oneLine(err.message)}\n`);
    return EXIT_CONDITION;
  }
  if (err instanceof KvError) {
    io.stderr.write(`kvsctl: ${err.code}: ${oneLine(err.message)}\n`);
    return EXIT_ERROR;
  }
  io.stderr.write(`kvsctl: ${oneLine(err instanceof Error ? err.message : String(err))}\n`);
  return EXIT_ERROR;
}
