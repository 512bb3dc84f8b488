#!/usr/bin/env node
// kvs-node: one storage node. Parses flags/env (config.ts), opens the local store, serves gRPC + HTTP,
// prints one JSON line {"event":"listening",...} on stdout, and shuts down gracefully on SIGINT/SIGTERM
// (stop accepting, drain in-flight calls, close the store, exit 0).
import './v8-tuning.js'; // first: V8 flags before any store code runs
import { createLogger } from '../common/logger.js';
import type { KvStore, StoreObserver } from '../kv/api.js';
import { openLocalStore, type LocalStoreOptions } from '../kv/local-store.js';
import type { Logger } from '../common/logger.js';
import { ConfigError, HelpShown, checkRaftIdentity, parseConfig, type NodeConfig } from './config.js';
import { ServerMetrics } from './metrics.js';
import { startKvsNode, packageVersion, type KvsNodeOptions } from './node-server.js';
import { RaftNode } from '../raftstore/raft-node.js';
import type { TxnCrashPoint } from '../raftstore/txn-coordinator.js';
import { createAdminHandlers } from '../raftstore/admin.js';
import { adminServiceDefinition, raftServiceDefinition, startAdminServer, startRaftServer } from '../raftstore/services.js';
import { nodeSecurity, type NodeSecurity } from './authz.js';
import { quietIpServernameWarning } from '../common/tls.js';
import { registerRaftMetrics } from '../raftstore/metrics.js';
import type * as grpc from '@grpc/grpc-js';
import { mkdir } from 'node:fs/promises';
import { existsSync, writeFileSync } from 'node:fs';
import { TEST_CLOCK_ENV, testClockHookPath } from '../kv/clock.js';
import { raftSizeLimits } from '../common/raft-limits.js';

/**
 * Test-only switches for the negative controls of the exactly-once and serializability checks (the
 * tests must be able to fail). Environment only — no flag, no chart value — and loud when set.
 */
function unsafeTestSwitches(logger: Logger): Pick<LocalStoreOptions, 'unsafeNoCommitFence' | 'unsafeSnapshotIsolation' | 'unsafeIgnoreTxnLocks' | 'unsafeStaleSnapshots' | 'unsafeNoTsFloor'> {
  const out: Pick<LocalStoreOptions, 'unsafeNoCommitFence' | 'unsafeSnapshotIsolation' | 'unsafeIgnoreTxnLocks' | 'unsafeStaleSnapshots' | 'unsafeNoTsFloor'> = {};
  if (process.env.KVS_TEST_UNSAFE_NO_COMMIT_FENCE === '1') out.unsafeNoCommitFence = true;
  if (process.env.KVS_TEST_UNSAFE_SNAPSHOT_ISOLATION === '1') out.unsafeSnapshotIsolation = true;
  if (process.env.KVS_TEST_UNSAFE_IGNORE_TXN_LOCKS === '1') out.unsafeIgnoreTxnLocks = true;
  if (process.env.KVS_TEST_UNSAFE_STALE_SNAPSHOTS === '1') out.unsafeStaleSnapshots = true;
  if (process.env.KVS_TEST_UNSAFE_NO_TS_FLOOR === '1') out.unsafeNoTsFloor = true;
  for (const k of Object.keys(out)) logger.warn('UNSAFE TEST SWITCH ON: this node breaks its guarantees on purpose', { switch: k });
  return out;
}

/** Test-only switch for the negative control of the cluster GC pin test: safe points ignore other stores' transactions. */
function unsafeLocalGcPinsSwitch(logger: Logger): { unsafeLocalGcPins?: true } {
  if (process.env.KVS_TEST_UNSAFE_LOCAL_GC_PINS !== '1') return {};
  logger.warn('UNSAFE TEST SWITCH ON: this node breaks its guarantees on purpose', { switch: 'unsafeLocalGcPins' });
  return { unsafeLocalGcPins: true };
}

/** Test-only switch for the negative control of the lease-read test: leases never expire. Environment only. */
function unsafeLeaseSwitch(logger: Logger): { unsafeNoExpiry?: true } {
  if (process.env.KVS_TEST_UNSAFE_LEASE_NO_EXPIRY !== '1') return {};
  logger.warn('UNSAFE TEST SWITCH ON: this node breaks its guarantees on purpose', { switch: 'unsafeLeaseNoExpiry' });
  return { unsafeNoExpiry: true };
}

/** Test-only switch for the negative control of the quiescence test: store liveness wakes no range. Environment only. */
function livenessWakeSwitch(logger: Logger): { testDisableLivenessWake?: true } {
  if (process.env.KVS_TEST_DISABLE_LIVENESS_WAKE !== '1') return {};
  logger.warn('UNSAFE TEST SWITCH ON: quiesced ranges are not woken when a store goes down (they stay leaderless)', { switch: 'testDisableLivenessWake' });
  return { testDisableLivenessWake: true };
}

/** Test-only switch for the negative control of the meta directory test: leaders publish nothing. Environment only. */
function metaPublishSwitch(logger: Logger): { testDisableMetaPublish?: true } {
  if (process.env.KVS_TEST_DISABLE_META_PUBLISH !== '1') return {};
  logger.warn('TEST SWITCH ON: range leaders do not publish their descriptors into the meta directory', { switch: 'testDisableMetaPublish' });
  return { testDisableMetaPublish: true };
}

/**
 * Test-only failpoint for the split crash tests: `KVS_TEST_CRASH_AT_SPLIT=<raftId>:<before-apply|after-apply>:<marker>`
 * kills the node with that raft id (SIGKILL) at that point of applying a split, once: the marker file is
 * written first, and a node that finds it does not crash again (its restart replays the split).
 */
function splitCrashSwitch(logger: Logger, raftId: number): { testCrashAtSplit?: { at: 'before-apply' | 'after-apply'; crash: () => void } } {
  const v = process.env.KVS_TEST_CRASH_AT_SPLIT;
  if (v === undefined || v === '') return {};
  const [id, at, marker] = v.split(':');
  if ((at !== 'before-apply' && at !== 'after-apply') || !marker) throw new Error(`KVS_TEST_CRASH_AT_SPLIT=${v}: expected <raftId>:<before-apply|after-apply>:<marker file>`);
  if (Number(id) !== raftId || existsSync(marker)) return {};
  logger.warn('TEST SWITCH ON: this node kills itself while applying the next split', { switch: 'testCrashAtSplit', at });
  return {
    testCrashAtSplit: {
      at,
      crash: () => {
        writeFileSync(marker, `${raftId} ${at}\n`);
        process.kill(process.pid, 'SIGKILL');
      },
    },
  };
}

/**
 * Test-only failpoint for the coordinator crash tests: `KVS_TEST_CRASH_AT_TXN=<raftId>:<point>:<marker>`
 * (point: after-first-prepare | after-prepare | after-primary-commit) kills the node with that raft id
 * (SIGKILL) at that step of its next cross-range commit, once (the marker file guards restarts).
 */
function txnCrashSwitch(logger: Logger, raftId: number): { testCrashAtTxn?: (point: TxnCrashPoint) => void } {
  const v = process.env.KVS_TEST_CRASH_AT_TXN;
  if (v === undefined || v === '') return {};
  const [id, at, marker] = v.split(':');
  const points: readonly string[] = ['after-first-prepare', 'after-prepare', 'after-primary-commit'];
  if (at === undefined || !points.includes(at) || !marker) throw new Error(`KVS_TEST_CRASH_AT_TXN=${v}: expected <raftId>:<${points.join('|')}>:<marker file>`);
  if (Number(id) !== raftId || existsSync(marker)) return {};
  logger.warn('TEST SWITCH ON: this node kills itself in its next cross-range commit', { switch: 'testCrashAtTxn', at });
  return {
    testCrashAtTxn: (point) => {
      if (point !== at || existsSync(marker)) return;
      writeFileSync(marker, `${raftId} ${at}\n`);
      process.kill(process.pid, 'SIGKILL');
    },
  };
}

async function openRaftNode(config: NodeConfig, logger: Logger, observer: StoreObserver, incarnation: string, security: NodeSecurity): Promise<RaftNode> {
  const r = config.raft!;
  return RaftNode.open({
    ...(security.peerCredentials !== undefined ? { credentials: security.peerCredentials } : {}),
    ...(security.peerFallbackCredentials !== undefined ? { fallbackCredentials: security.peerFallbackCredentials } : {}),
    raftId: r.raftId,
    incarnation,
    enforceIdentity: r.identityCheck,
    staleNotices: r.staleNotices,
    peers: r.peers,
    join: r.join,
    clientAddress: r.advertiseClient,
    raftAddress: r.raftListen,
    dataDir: config.dataDir,
    logger: logger.child({ raftId: r.raftId }),
    tickMs: r.tickMs,
    electionTick: r.electionTick,
    heartbeatTick: r.heartbeatTick,
    leaseRead: r.leaseRead,
    quiesce: r.raftQuiesce,
    raftWal: r.raftWal,
    raftAsyncAppend: r.raftAsyncAppend,
    ...livenessWakeSwitch(logger),
    ...metaPublishSwitch(logger),
    ...splitCrashSwitch(logger, r.raftId),
    ...txnCrashSwitch(logger, r.raftId),
    ...unsafeLocalGcPinsSwitch(logger),
    lease: { maxClockDrift: r.maxClockDrift, ...unsafeLeaseSwitch(logger) },
    compactThreshold: r.compactThreshold,
    compactKeep: r.compactKeep,
    rangeMaxBytes: r.rangeMaxBytes,
    txnLockTtlMs: r.txnLockTtlMs,
    txnParallelCommit: r.txnParallelCommit,
    txnSecondaryHoldMs: r.txnSecondaryHoldMs,
    maxMessageBytes: config.limits.maxReceiveMessageBytes,
    store: {
      nodeId: config.nodeId,
      defaultScanLimit: config.limits.defaultScanLimit,
      maxScanLimit: config.limits.maxScanLimit,
      logger: logger.child({ component: 'store' }),
      observer,
      ...(config.gcLifetimeMs !== undefined ? { gcLifetimeMs: config.gcLifetimeMs } : {}),
      ...(config.gcIntervalMs !== undefined ? { gcIntervalMs: config.gcIntervalMs } : {}),
      ...(config.txnIdleTimeoutMs !== undefined ? { txnIdleTimeoutMs: config.txnIdleTimeoutMs } : {}),
      ...(config.sessionTtlMs !== undefined ? { sessionTtlMs: config.sessionTtlMs } : {}),
      ...unsafeTestSwitches(logger),
    },
  });
}

async function openStore(config: NodeConfig, logger: Logger, observer: StoreObserver): Promise<KvStore> {
  const opts: LocalStoreOptions = {
    nodeId: config.nodeId,
    // The same bound as a replicated node: a batch or transaction that works here works on a cluster.
    maxCommandBytes: raftSizeLimits(config.limits.maxReceiveMessageBytes).maxCommandBytes,
    defaultScanLimit: config.limits.defaultScanLimit,
    maxScanLimit: config.limits.maxScanLimit,
    logger: logger.child({ component: 'store' }),
    observer,
  };
  if (config.dataDir) opts.dir = config.dataDir;
  if (config.gcLifetimeMs !== undefined) opts.gcLifetimeMs = config.gcLifetimeMs;
  if (config.gcIntervalMs !== undefined) opts.gcIntervalMs = config.gcIntervalMs;
  if (config.txnIdleTimeoutMs !== undefined) opts.txnIdleTimeoutMs = config.txnIdleTimeoutMs;
  if (config.sessionTtlMs !== undefined) opts.sessionTtlMs = config.sessionTtlMs;
  return openLocalStore({ ...opts, ...unsafeTestSwitches(logger) });
}

async function main(): Promise<number> {
  let config: NodeConfig;
  try {
    config = parseConfig(process.argv.slice(2), process.env, { writeOut: (s) => process.stdout.write(s) });
  } catch (err) {
    if (err instanceof HelpShown) return 0;
    if (err instanceof ConfigError) {
      process.stderr.write(`kvs-node: ${err.message}\n(see kvs-node --help)\n`);
      return 2;
    }
    throw err;
  }
  const logger = createLogger({ level: config.logLevel, component: 'kvs-node', nodeId: config.nodeId });
  const clockHook = testClockHookPath();
  if (clockHook !== undefined) logger.warn('TEST HOOK: the wall clock follows a skew file (never set this in production)', { env: TEST_CLOCK_ENV, file: clockHook });
  const metrics = new ServerMetrics({ build: { version: packageVersion(), nodeId: config.nodeId } });
  if (config.dataDir) metrics.setDataDir(config.dataDir);
  process.on('uncaughtException', (err) => {
    logger.error('uncaught exception', { err: { name: err.name, message: err.message, stack: err.stack } });
    setTimeout(() => process.exit(1), 50).unref();
  });
  process.on('unhandledRejection', (reason) => {
    logger.error('unhandled rejection', { err: reason instanceof Error ? { name: reason.name, message: reason.message, stack: reason.stack } : String(reason) });
    setTimeout(() => process.exit(1), 50).unref();
  });
  quietIpServernameWarning();
  let security: NodeSecurity;
  try {
    security = nodeSecurity(config.tls, logger);
  } catch (err) {
    logger.error('refusing to start: unusable TLS files', { err: err instanceof Error ? err.message : String(err) });
    process.stderr.write(`kvs-node: ${err instanceof Error ? err.message : String(err)}\n`);
    return 2;
  }
  let store: KvStore;
  let raftNode: RaftNode | undefined;
  // '' with --memory: no durable identity to protect; its frames are admitted without a check.
  let incarnation = '';
  try {
    if (config.raft && config.dataDir) {
      await mkdir(config.dataDir, { recursive: true });
      const ident = checkRaftIdentity(config.dataDir, config.raft.raftId);
      incarnation = ident.incarnation;
      logger.info('raft identity', { raftId: ident.raftId, incarnation, created: ident.created, dataDir: config.dataDir });
    }
  } catch (err) {
    logger.error('refusing to start', { dataDir: config.dataDir, err: err instanceof Error ? err.message : String(err) });
    process.stderr.write(`kvs-node: ${err instanceof Error ? err.message : String(err)}\n`);
    return 2;
  }
  try {
    if (config.raft) {
      raftNode = await openRaftNode(config, logger, metrics.storeObserver(), incarnation, security);
      store = raftNode.kvStore;
      registerRaftMetrics(metrics.registry, raftNode);
    } else store = await openStore(config, logger, metrics.storeObserver());
  } catch (err) {
    logger.error('cannot open the store', { dataDir: config.dataDir, err: err instanceof Error ? err.message : String(err) });
    return 1;
  }
  let node;
  let raftServer: grpc.Server | undefined;
  let adminServer: { server: grpc.Server; address: string } | undefined;
  try {
    const nodeOpts: KvsNodeOptions = { store, listen: config.listen, http: config.http, nodeId: config.nodeId, logger, limits: config.limits, metrics, security: security.server };
    if (raftNode) {
      const rn = raftNode;
      const sameServer = config.raft!.raftListen === config.listen;
      const adminHandlers = createAdminHandlers({ node: rn, nodeId: config.nodeId, logger });
      nodeOpts.extraServices = [];
      if (config.adminListen === undefined) nodeOpts.extraServices.push({ definition: adminServiceDefinition(), implementation: adminHandlers });
      else adminServer = await startAdminServer(config.adminListen, adminHandlers, security.server);
      if (sameServer) nodeOpts.extraServices.push({ definition: raftServiceDefinition(), implementation: rn.transport.serviceHandlers() });
      else raftServer = await startRaftServer(config.raft!.raftListen, rn.transport.serviceHandlers(), config.limits.maxReceiveMessageBytes, security.server);
      nodeOpts.ownsStore = false;
      nodeOpts.readiness = [() => rn.peer.readiness()];
      nodeOpts.routes = (directoryOnly) => rn.routes(directoryOnly);
      nodeOpts.timestamp = (n) => rn.meta.timestamp(n);
      nodeOpts.onClientCallsDrained = () => rn.transport.closeInbound();
    }
    node = await startKvsNode(nodeOpts);
  } catch (err) {
    logger.error('cannot start', { err: err instanceof Error ? err.message : String(err) });
    raftServer?.forceShutdown();
    adminServer?.server.forceShutdown();
    if (raftNode) await raftNode.close().catch(() => undefined);
    else await store.close().catch(() => undefined);
    return 1;
  }
  const listening = {
    event: 'listening',
    grpc: node.grpcAddress,
    http: node.httpAddress ?? null,
    nodeId: config.nodeId,
    dataDir: config.dataDir ?? null,
    raftId: config.raft?.raftId ?? null,
    incarnation: incarnation || null,
    raft: config.raft?.raftListen ?? null,
    admin: raftNode ? (adminServer?.address ?? node.grpcAddress) : null,
    tls: config.tls !== undefined,
    version: packageVersion(),
    pid: process.pid,
  };
  process.stdout.write(JSON.stringify(listening) + '\n');
  logger.info('kvs-node serving', listening);

  const handOff = async (): Promise<void> => {
    if (!raftNode) return;
    // Bounded: about one election timeout (a transfer raft has not finished by then is aborted by raft).
    const budgetMs = Math.min(config.shutdownTimeoutMs, Math.max(1000, 2 * config.raft!.electionTick * config.raft!.tickMs));
    const r = await raftNode.handOffLeadership(budgetMs).catch((e: unknown) => ({ outcome: 'error' as const, err: e instanceof Error ? e.message : String(e), ms: 0 }));
    if (r.outcome === 'moved') logger.info('leadership handed over before shutdown', { to: r.to, ms: r.ms, ranges: 'ranges' in r ? r.ranges : 0 });
    else if (r.outcome !== 'not-leader' && r.outcome !== 'sole-voter') logger.warn('leadership not handed over before shutdown', r);
  };

  return new Promise<number>((resolve) => {
    let firstSignalAt = 0;
    const onSignal = (sig: NodeJS.Signals) => {
      if (firstSignalAt > 0) {
        // The same Ctrl-C often arrives twice (terminal process group + run-local.sh forwarding it).
        if (Date.now() - firstSignalAt < 1000) return;
        logger.warn('second signal: exiting without waiting for the drain', { signal: sig });
        resolve(1);
        return;
      }
      firstSignalAt = Date.now();
      logger.info('shutting down', { signal: sig, drainMs: config.shutdownTimeoutMs });
      // Leadership first, while this node still replicates: a planned restart then costs the group one
      // leader change (a round trip) instead of an election timeout; in-flight calls drain afterwards.
      handOff()
        .then(() => node.shutdown(config.shutdownTimeoutMs))
        .then(async () => {
          raftServer?.forceShutdown();
          adminServer?.server.forceShutdown();
          if (raftNode) await raftNode.close();
          security.close();
        })
        .then(
        () => {
          logger.info('stopped');
          resolve(0);
        },
        (err: unknown) => {
          logger.error('shutdown failed', { err: err instanceof Error ? err.message : String(err) });
          resolve(1);
        },
      );
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
}

main().then(
  (code) => {
    // Let winston flush, then exit (gRPC/HTTP handles are closed by now).
    setTimeout(() => process.exit(code), 50).unref();
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`kvs-node: fatal: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
